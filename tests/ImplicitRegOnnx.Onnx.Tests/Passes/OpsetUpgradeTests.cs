using System.Runtime.InteropServices;
using ImplicitRegOnnx.Onnx.Passes;
using ImplicitRegOnnx.Onnx.Serialization;
using ImplicitRegOnnx.Onnx.Serialization.Proto;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit.Abstractions;

namespace ImplicitRegOnnx.Onnx.Tests.Passes;

/// <summary>
/// Each rule of <see cref="OpsetUpgrade"/> on a tiny model at the old opset: where ONNX Runtime still
/// runs the old operator, the original and the upgraded model must give the same outputs on the same
/// random feeds; otherwise the upgraded model must give the hand-computed result. Then the committed
/// legacy model and the whole ONNX backend suite (Debian's libonnx-testdata).
/// </summary>
public class OpsetUpgradeTests(ITestOutputHelper output)
{
    private const string SuiteRoot = "/usr/share/libonnx-testdata/data";

    private static TensorType Float(params long[] dims) => new(ElementType.Float, new Shape(dims));

    private static Model Build(long opset, Action<Graph> build)
    {
        var graph = new Graph("g");
        build(graph);
        var model = new Model(graph) { IrVersion = 7 };
        model.SetOpsetVersion("", opset);
        return model;
    }

    private static Value Op(Graph g, string opType, string output, Value?[] inputs, params Attribute[] attributes) =>
        g.Append(new Node("", opType, inputs, [output], attributes, output + "_node")).Output;

    private static Value Out(Graph g, Value v, OnnxType? type = null)
    {
        v.Type ??= type;
        g.Outputs.Add(v);
        return v;
    }

    /// <summary>Upgrades a copy to <paramref name="target"/>, runs both in ONNX Runtime on random feeds and compares.</summary>
    private static Model AssertEquivalent(Model original, long target = 17, int seed = 7, string? ignoredOutput = null)
    {
        var before = original.ToBytes();
        var upgraded = Model.Load(before);
        var report = OpsetUpgrade.Upgrade(upgraded, target);
        Assert.Equal(target, upgraded.OpsetVersion(""));
        Assert.Equal(target, report.ToOpset);
        var after = upgraded.ToBytes();
        using var old = OrtHarness.Open(before);
        using var fresh = OrtHarness.Open(after);
        var feeds = OrtHarness.RandomFeeds(old, seed);
        try
        {
            var expected = OrtHarness.Run(old, feeds);
            var actual = OrtHarness.Run(fresh, feeds);
            if (ignoredOutput is not null)
            {
                expected.Remove(ignoredOutput);
                actual.Remove(ignoredOutput);
            }
            OrtHarness.AssertClose(expected, actual, "upgraded");
        }
        finally
        {
            foreach (var feed in feeds.Values)
            {
                feed.Dispose();
            }
        }
        return Model.Load(after);
    }

    /// <summary>Upgrades a copy and runs it in ONNX Runtime on the given float inputs; returns output 0.</summary>
    private static (float[] Data, long[] Dims) RunUpgraded(Model original, params (string Name, float[] Data, long[] Dims)[] inputs) =>
        RunUpgraded(original, original.Graph.Outputs[0].Name, inputs);

    private static (float[] Data, long[] Dims) RunUpgraded(Model original, string outputName, params (string Name, float[] Data, long[] Dims)[] inputs)
    {
        var upgraded = Model.Load(original.ToBytes());
        OpsetUpgrade.Upgrade(upgraded);
        using var session = OrtHarness.Open(upgraded.ToBytes());
        var feeds = inputs.ToDictionary(i => i.Name, i => OrtValue.CreateTensorValueFromMemory(i.Data, i.Dims));
        try
        {
            var result = OrtHarness.Run(session, feeds)[outputName];
            return (MemoryMarshal.Cast<byte, float>(result.Bytes).ToArray(), result.Dims);
        }
        finally
        {
            foreach (var feed in feeds.Values)
            {
                feed.Dispose();
            }
        }
    }

    private static Value Init(Graph g, string name, float[] data, params long[] dims) => g.AddInitializer(Tensor.FromArray(data, dims, name));

    [Theory]
    [InlineData("Squeeze")]
    [InlineData("Unsqueeze")]
    [InlineData("ReduceSum")]
    public void AxesAttributeBecomesAnInputAt13(string op)
    {
        var model = Build(11, g =>
        {
            var x = g.AddInput("x", Float(2, 1, 3));
            Out(g, Op(g, op, "y", [x], Attribute.Ints("axes", [1])));
        });
        var upgraded = AssertEquivalent(model);
        var node = upgraded.Graph.Nodes.Single(n => n.OpType == op);
        Assert.Null(node.GetAttribute("axes"));
        Assert.Equal(2, node.Inputs.Count);
    }

    [Fact]
    public void OtherReductionsKeepAxesAt17AndMoveThemAt18()
    {
        var model = Build(11, g =>
        {
            var x = g.AddInput("x", Float(2, 3, 4));
            Out(g, Op(g, "ReduceMean", "y", [x], Attribute.Ints("axes", [1, 2]), Attribute.Int("keepdims", 0)));
        });
        Assert.NotNull(AssertEquivalent(model).Graph.Nodes.Single(n => n.OpType == "ReduceMean").GetAttribute("axes"));
        var at18 = AssertEquivalent(model, target: 18).Graph.Nodes.Single(n => n.OpType == "ReduceMean");
        Assert.Null(at18.GetAttribute("axes"));
        Assert.Equal(2, at18.Inputs.Count);
    }

    [Theory]
    [InlineData(17, true)]
    [InlineData(17, false)]
    [InlineData(18, false)]
    public void SplitAttributeBecomesAnInput(long target, bool explicitSplit)
    {
        var model = Build(11, g =>
        {
            var x = g.AddInput("x", Float(2, 6));
            var attributes = explicitSplit ? new[] { Attribute.Int("axis", 1), Attribute.Ints("split", [2, 4]) } : [Attribute.Int("axis", 1)];
            var node = g.Append(new Node("", "Split", [x], ["a", "b"], attributes, "split"));
            Out(g, node.Outputs[0]!);
            Out(g, node.Outputs[1]!);
        });
        var split = AssertEquivalent(model, target).Graph.Nodes.Single(n => n.OpType == "Split");
        Assert.Null(split.GetAttribute("split"));
        Assert.Equal(explicitSplit ? 2 : 1, split.Inputs.Count);
        Assert.Equal(target >= 18 && !explicitSplit ? 2 : null, split.GetAttribute("num_outputs")?.AsInt());
    }

    [Fact]
    public void ClipBoundsBecomeInputsAt11()
    {
        var model = Build(6, g =>
        {
            var x = g.AddInput("x", Float(3, 4));
            Out(g, Op(g, "Clip", "y", [x], Attribute.Float("min", -0.3f), Attribute.Float("max", 0.5f)));
            Out(g, Op(g, "Clip", "z", [x], Attribute.Float("max", 0.1f)));
        });
        var upgraded = AssertEquivalent(model);
        Assert.All(upgraded.Graph.Nodes.Where(n => n.OpType == "Clip"), n => Assert.Empty(n.Attributes));
    }

    [Theory]
    [InlineData("constant", 0.25f)]
    [InlineData("constant", 0f)]
    [InlineData("reflect", 0f)]
    [InlineData("edge", 0f)]
    public void PadAttributesBecomeInputsAt11(string mode, float value)
    {
        var model = Build(2, g =>
        {
            var x = g.AddInput("x", Float(1, 2, 3, 4));
            Out(g, Op(g, "Pad", "y", [x], Attribute.Ints("pads", [0, 0, 1, 2, 0, 0, 2, 1]), Attribute.String("mode", mode), Attribute.Float("value", value)));
        });
        var pad = AssertEquivalent(model).Graph.Nodes.Single(n => n.OpType == "Pad");
        Assert.Equal(value != 0 ? 3 : 2, pad.Inputs.Count);
        Assert.Equal(mode, pad.GetString("mode", "constant"));
    }

    [Fact]
    public void SliceAttributesBecomeInputsAt10()
    {
        var model = Build(7, g =>
        {
            var x = g.AddInput("x", Float(4, 5, 6));
            Out(g, Op(g, "Slice", "y", [x], Attribute.Ints("starts", [1, -4]), Attribute.Ints("ends", [3, 1000]), Attribute.Ints("axes", [0, 2])));
            Out(g, Op(g, "Slice", "z", [x], Attribute.Ints("starts", [0, 1]), Attribute.Ints("ends", [2, 3])));
        });
        AssertEquivalent(model);
    }

    [Fact]
    public void TopKAttributeBecomesAnInputAt10()
    {
        var model = Build(7, g =>
        {
            var x = g.AddInput("x", Float(3, 6));
            var node = g.Append(new Node("", "TopK", [x], ["values", "indices"], [Attribute.Int("k", 2)], "topk"));
            Out(g, node.Outputs[0]!);
            Out(g, node.Outputs[1]!);
        });
        AssertEquivalent(model);
    }

    [Fact]
    public void DropoutRatioBecomesAnInputAndTheMaskKeepsItsType()
    {
        var model = Build(7, g =>
        {
            var x = g.AddInput("x", Float(3, 4));
            var node = g.Append(new Node("", "Dropout", [x], ["y", "mask"], [Attribute.Float("ratio", 0.3f)], "dropout"));
            Out(g, node.Outputs[0]!);
            Out(g, node.Outputs[1]!);
            var second = g.Append(new Node("", "Dropout", [node.Outputs[0]], ["z"], [], "dropout2"));
            Out(g, second.Outputs[0]!);
        });
        // ONNX Runtime's Dropout-7 writes an all-zero mask at inference; Dropout-12 keeps every element
        // (an all-true mask), which the Cast turns into ones of the old element type.
        var upgraded = AssertEquivalent(model, ignoredOutput: "mask");
        var (mask, _) = RunUpgraded(model, "mask", ("x", new float[12], [3, 4]));
        Assert.All(mask, m => Assert.Equal(1f, m));
        Assert.Contains(upgraded.Graph.Nodes, n => n.OpType == "Cast");
        Assert.All(upgraded.Graph.Nodes.Where(n => n.OpType == "Dropout"), n => Assert.Null(n.GetAttribute("ratio")));
    }

    [Theory]
    [InlineData(9, "nearest")]
    [InlineData(9, "linear")]
    [InlineData(7, "nearest")]
    [InlineData(7, "linear")]
    public void UpsampleBecomesResize(long opset, string mode)
    {
        var model = Build(opset, g =>
        {
            var x = g.AddInput("x", Float(1, 2, 3, 4));
            float[] scales = [1f, 1f, 2f, 3f];
            var y = opset >= 9
                ? Op(g, "Upsample", "y", [x, Init(g, "scales", scales, 4)], Attribute.String("mode", mode))
                : Op(g, "Upsample", "y", [x], Attribute.String("mode", mode), Attribute.Floats("scales", scales));
            Out(g, y);
        });
        var resize = AssertEquivalent(model).Graph.Nodes.Single(n => n.OpType == "Resize");
        Assert.Equal("asymmetric", resize.GetString("coordinate_transformation_mode", ""));
    }

    [Theory]
    [InlineData("nearest", 2f)]
    [InlineData("nearest", 0.5f)]
    [InlineData("linear", 2f)]
    [InlineData("linear", 0.5f)]
    public void Resize10KeepsItsSemantics(string mode, float scale)
    {
        var model = Build(10, g =>
        {
            var x = g.AddInput("x", Float(1, 1, 4, 6));
            Out(g, Op(g, "Resize", "y", [x, Init(g, "scales", [1f, 1f, scale, scale], 4)], Attribute.String("mode", mode)));
        });
        AssertEquivalent(model);
    }

    [Theory]
    [InlineData("Softmax", 3, null)]
    [InlineData("Softmax", 3, 2L)]
    [InlineData("Softmax", 2, null)]
    [InlineData("Softmax", 4, 0L)]
    [InlineData("Softmax", 4, -2L)]
    [InlineData("LogSoftmax", 3, null)]
    [InlineData("Hardmax", 3, 1L)]
    public void SoftmaxFamilyKeepsTheCoercedTwoDimensionalSemantics(string op, int rank, long? axis)
    {
        long[] dims = [2, 3, 4, 5];
        var model = Build(11, g =>
        {
            var x = g.AddInput("x", Float(dims[..rank]));
            Out(g, Op(g, op, "y", [x], axis is { } a ? [Attribute.Int("axis", a)] : []));
        });
        var upgraded = AssertEquivalent(model);
        var lastAxis = (axis ?? 1) is var a2 && (a2 < 0 ? a2 + rank : a2) == rank - 1;
        Assert.Equal(lastAxis ? 1 : 4, upgraded.Graph.Nodes.Count);
    }

    [Fact]
    public void SoftmaxOfUnknownRankIsRewritten()
    {
        var model = Build(11, g =>
        {
            var x = g.AddInput("x", new TensorType(ElementType.Float, null));
            Out(g, Op(g, "Softmax", "y", [x]));
        });
        var upgraded = Model.Load(model.ToBytes());
        OpsetUpgrade.Upgrade(upgraded);
        Assert.Equal(["Flatten", "Softmax", "Shape", "Reshape"], upgraded.Graph.Nodes.Select(n => n.OpType).ToArray());
        var x = Enumerable.Range(0, 12).Select(i => i * 0.1f).ToArray();
        var (y, dims) = RunUpgraded(model, ("x", x, [2, 2, 3]));
        Assert.Equal([2, 2, 3], dims);
        // Softmax over the 6 trailing elements of each batch entry.
        var sum = x[..6].Sum(v => MathF.Exp(v));
        Assert.Equal(MathF.Exp(x[5]) / sum, y[5], 5);
    }

    [Theory]
    [InlineData(1L)]
    [InlineData(0L)]
    public void BatchNormalizationDropsSpatial(long spatial)
    {
        var model = Build(7, g =>
        {
            var x = g.AddInput("x", Float(2, 3, 2, 2));
            long[] p = spatial == 1 ? [3] : [3, 2, 2];
            var n = (int)p.Aggregate(1L, (a, b) => a * b);
            var scale = Init(g, "scale", Enumerable.Range(0, n).Select(i => 1f + 0.1f * i).ToArray(), p);
            var bias = Init(g, "bias", Enumerable.Range(0, n).Select(i => 0.2f * i).ToArray(), p);
            var mean = Init(g, "mean", Enumerable.Range(0, n).Select(i => -0.1f * i).ToArray(), p);
            var variance = Init(g, "var", Enumerable.Range(0, n).Select(i => 0.5f + 0.05f * i).ToArray(), p);
            Out(g, Op(g, "BatchNormalization", "y", [x, scale, bias, mean, variance], Attribute.Int("spatial", spatial), Attribute.Float("epsilon", 1e-3f)));
        });
        var upgraded = AssertEquivalent(model);
        Assert.DoesNotContain(upgraded.Graph.Nodes, n => n.GetAttribute("spatial") is not null);
    }

    [Fact]
    public void TrainingModeBatchNormalizationGetsTrainingMode()
    {
        var model = Build(9, g =>
        {
            var x = g.AddInput("x", Float(2, 3));
            var p = Enumerable.Range(0, 4).Select(i => Init(g, $"p{i}", [1f, 2f, 3f], 3)).ToArray();
            var node = g.Append(new Node("", "BatchNormalization", [x, .. p], ["y", "mean", "var", "saved_mean", "saved_var"], [], "bn"));
            Out(g, node.Outputs[0]!);
            Out(g, node.Outputs[1]!);
        });
        var upgraded = Model.Load(model.ToBytes());
        OpsetUpgrade.Upgrade(upgraded);
        var bn = upgraded.Graph.Nodes.Single();
        Assert.Equal(3, bn.Outputs.Count);
        Assert.Equal(1, bn.GetInt("training_mode", 0));
        Assert.Equal(["y", "mean"], upgraded.Graph.Outputs.Select(o => o.Name).ToArray());
    }

    [Fact]
    public void ScatterBecomesScatterElements()
    {
        var model = Build(9, g =>
        {
            var x = g.AddInput("x", Float(3, 3));
            var indices = g.AddInitializer(Tensor.FromArray(new long[] { 1, 0, 2, 0, 2, 1 }, [2, 3], "indices"));
            var updates = Init(g, "updates", [1f, 2f, 3f, 4f, 5f, 6f], 2, 3);
            Out(g, Op(g, "Scatter", "y", [x, indices, updates], Attribute.Int("axis", 0)));
        });
        Assert.Equal("ScatterElements", AssertEquivalent(model).Graph.Nodes.Single().OpType);
    }

    [Fact]
    public void ReshapeShapeAttributeBecomesAnInputAt5()
    {
        var model = Build(1, g =>
        {
            var x = g.AddInput("x", Float(2, 6));
            Out(g, Op(g, "Reshape", "y", [x], Attribute.Ints("shape", [3, -1]), Attribute.Ints("consumed_inputs", [0])));
        });
        var x = Enumerable.Range(0, 12).Select(i => (float)i).ToArray();
        var (y, dims) = RunUpgraded(model, ("x", x, [2, 6]));
        Assert.Equal([3, 4], dims);
        Assert.Equal(x, y);
    }

    [Fact]
    public void CastTypeNameBecomesANumberAt6()
    {
        var model = Build(1, g =>
        {
            var x = g.AddInput("x", Float(4));
            var i = Op(g, "Cast", "i", [x], Attribute.String("to", "INT32"));
            Out(g, Op(g, "Cast", "y", [i], Attribute.String("to", "FLOAT")));
        });
        var (y, _) = RunUpgraded(model, ("x", [1.7f, -2.2f, 3f, 0.4f], [4]));
        Assert.Equal([1f, -2f, 3f, 0f], y);
    }

    [Fact]
    public void ConcatGetsTheOldDefaultAxis()
    {
        var model = Build(1, g =>
        {
            var a = g.AddInput("a", Float(2, 1));
            var b = g.AddInput("b", Float(2, 2));
            Out(g, Op(g, "Concat", "y", [a, b]));
        });
        var (y, dims) = RunUpgraded(model, ("a", [1f, 2f], [2, 1]), ("b", [3f, 4f, 5f, 6f], [2, 2]));
        Assert.Equal([2, 3], dims);
        Assert.Equal([1f, 3f, 4f, 2f, 5f, 6f], y);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void LegacyBroadcastWithAxisLinesUpTheSecondInput(bool knownRanks)
    {
        // Add-6 with broadcast=1, axis=1: B of shape [3] is added along axis 1 of A [2, 3, 2].
        var model = Build(6, g =>
        {
            var a = g.AddInput("a", knownRanks ? Float(2, 3, 2) : new TensorType(ElementType.Float, null));
            var b = g.AddInput("b", knownRanks ? Float(3) : new TensorType(ElementType.Float, null));
            var sum = Op(g, "Add", "sum", [a, b], Attribute.Int("broadcast", 1), Attribute.Int("axis", 1), Attribute.Ints("consumed_inputs", [0, 0]));
            Out(g, Op(g, "Mul", "y", [sum, Init(g, "two", [2f], 1)], Attribute.Int("broadcast", 1)));
        });
        var a = Enumerable.Range(0, 12).Select(i => (float)i).ToArray();
        float[] b = [100f, 200f, 300f];
        var (y, dims) = RunUpgraded(model, ("a", a, [2, 3, 2]), ("b", b, [3]));
        Assert.Equal([2, 3, 2], dims);
        var expected = a.Select((v, i) => 2 * (v + b[i / 2 % 3])).ToArray();
        Assert.Equal(expected, y);
    }

    [Fact]
    public void GemmDropsBroadcast()
    {
        var model = Build(6, g =>
        {
            var a = g.AddInput("a", Float(2, 3));
            var w = Init(g, "w", Enumerable.Range(0, 12).Select(i => i * 0.5f).ToArray(), 3, 4);
            var c = Init(g, "c", [1f, 2f, 3f, 4f], 4);
            Out(g, Op(g, "Gemm", "y", [a, w, c], Attribute.Int("broadcast", 1)));
        });
        var (y, _) = RunUpgraded(model, ("a", [1f, 0f, 0f, 0f, 1f, 0f], [2, 3]));
        Assert.Equal([1f, 2.5f, 4f, 5.5f, 3f, 4.5f, 6f, 7.5f], y);
    }

    [Fact]
    public void ImageScalerIsWrittenWithMulAndAdd()
    {
        var model = Build(8, g =>
        {
            var x = g.AddInput("x", Float(1, 2, 2, 2));
            Out(g, Op(g, "ImageScaler", "y", [x], Attribute.Float("scale", 2f), Attribute.Floats("bias", [10f, 20f])));
        });
        var (y, _) = RunUpgraded(model, ("x", [0f, 1f, 2f, 3f, 4f, 5f, 6f, 7f], [1, 2, 2, 2]));
        Assert.Equal([10f, 12f, 14f, 16f, 28f, 30f, 32f, 34f], y);
    }

    [Fact]
    public void UnconvertibleNodesAreAllNamedAndNothingChanges()
    {
        var model = Build(8, g =>
        {
            var x = g.AddInput("x", Float(2, 3));
            var body = new Graph("body");
            var s = body.AddInput("s", Float(3));
            var e = body.AddInput("e", Float(3));
            body.Outputs.Add(body.Append(new Node("", "Add", [s, e], ["s2"], [], "add")).Output);
            var seqLens = g.AddInitializer(Tensor.FromArray(new int[] { 2 }, [1], "lens"));
            var init = Init(g, "init", [0f, 0f, 0f], 1, 3);
            var scan1 = g.Append(new Node("", "Scan", [seqLens, init, x], ["final1"], [Attribute.FromGraph("body", body), Attribute.Int("num_scan_inputs", 1)], "scan1"));
            var crop = Op(g, "Crop", "c", [x], Attribute.Ints("border", [0, 0, 0, 0]));
            Out(g, scan1.Output);
            Out(g, Op(g, "Squeeze", "sq", [crop], Attribute.Ints("axes", [0])));
        });
        var before = model.ToBytes();
        var error = Assert.Throws<OpsetUpgradeException>(() => OpsetUpgrade.Upgrade(model));
        Assert.StartsWith("cannot upgrade from opset 8 to 17: ", error.Message, StringComparison.Ordinal);
        Assert.Contains("Scan (node 'scan1')", error.Message, StringComparison.Ordinal);
        Assert.Contains("Crop (node 'c_node')", error.Message, StringComparison.Ordinal);
        Assert.Equal(2, error.Refusals.Count);
        Assert.Equal(8, model.OpsetVersion(""));
        Assert.NotNull(model.Graph.Nodes.Single(n => n.OpType == "Squeeze").GetAttribute("axes"));
        Assert.Equal(before.Length, model.ToBytes().Length);
    }

    [Fact]
    public void NeverLowersAndConvertsSubgraphs()
    {
        var newer = Build(18, g => Out(g, Op(g, "Relu", "y", [g.AddInput("x", Float(2))])));
        Assert.Equal(0, new OpsetUpgrade(17).Run(newer));
        Assert.Equal(18, newer.OpsetVersion(""));

        var model = Build(11, g =>
        {
            var x = g.AddInput("x", Float(1, 3));
            var cond = g.AddInitializer(Tensor.FromArray(new[] { true }, [], "cond"));
            var then = new Graph("then");
            then.Outputs.Add(then.Append(new Node("", "Squeeze", [x], ["t"], [Attribute.Ints("axes", [0])], "squeeze_then")).Output);
            var otherwise = new Graph("else");
            otherwise.Outputs.Add(otherwise.Append(new Node("", "ReduceSum", [x], ["e"], [Attribute.Ints("axes", [0]), Attribute.Int("keepdims", 0)], "sum_else")).Output);
            Out(g, g.Append(new Node("", "If", [cond], ["y"], [Attribute.FromGraph("then_branch", then), Attribute.FromGraph("else_branch", otherwise)], "if")).Output, Float(3));
        });
        var upgraded = AssertEquivalent(model);
        Assert.All(upgraded.Graph.SelfAndSubgraphs().SelectMany(g => g.Nodes), n => Assert.Null(n.GetAttribute("axes")));
        Assert.Equal(2, new OpsetUpgrade().Run(Model.Load(model.ToBytes())));
    }

    [Fact]
    public void LegacyIr3ModelUpgrades()
    {
        var model = Model.Load(TestSupport.TestPaths.Model("legacy_ir3.onnx"));
        Assert.Equal(8, model.OpsetVersion(""));
        var upgraded = AssertEquivalent(model);
        Assert.Equal(17, upgraded.OpsetVersion(""));
        Assert.True(upgraded.IrVersion >= 8);
    }

    /// <summary>
    /// Every backend-suite model below opset 17 either upgrades or is refused with the ops named;
    /// where ONNX Runtime reproduces the expected outputs with the original, the upgraded model must too.
    /// </summary>
    [SkippableFact]
    public void EveryBackendTestModelUpgradesOrIsRefused()
    {
        if (!Directory.Exists(SuiteRoot))
        {
            Assert.False(Environment.GetEnvironmentVariable("IMPLICITREG_REQUIRE_TESTDATA") == "1", $"{SuiteRoot} is missing: apt-get install libonnx-testdata");
            Skip.If(true, $"{SuiteRoot} is missing (apt-get install libonnx-testdata)");
        }
        var failures = new List<string>();
        var refusedByOp = new SortedDictionary<string, int>(StringComparer.Ordinal);
        int older = 0, upgraded = 0, verified = 0, refused = 0;
        foreach (var path in Directory.EnumerateFiles(SuiteRoot, "model.onnx", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            Model model;
            try
            {
                model = Model.Load(path);
            }
            catch (ImplicitRegException)
            {
                continue;
            }
            if (model.OpsetVersion("") is not { } opset || opset >= 17)
            {
                continue;
            }
            older++;
            try
            {
                OpsetUpgrade.Upgrade(model);
            }
            catch (OpsetUpgradeException e)
            {
                refused++;
                Assert.NotEmpty(e.Refusals);
                foreach (var op in e.Refusals.Select(r => r.OpType).Distinct())
                {
                    refusedByOp[op] = refusedByOp.GetValueOrDefault(op) + 1;
                }
                continue;
            }
            catch (Exception e)
            {
                failures.Add($"{path}: {e.GetType().Name}: {e.Message}");
                continue;
            }
            upgraded++;
            try
            {
                if (VerifyAgainstExpected(path, model.ToBytes()) is { } ok)
                {
                    verified += ok ? 1 : 0;
                }
            }
            catch (Exception e)
            {
                failures.Add($"{path}: {e.GetType().Name}: {e.Message}");
            }
        }
        output.WriteLine($"below opset 17: {older}; upgraded: {upgraded}; verified against expected outputs: {verified}; refused: {refused}");
        output.WriteLine("refused by op: " + string.Join(", ", refusedByOp.Select(p => $"{p.Key} {p.Value}")));
        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures.Take(40)) + $"{Environment.NewLine}({failures.Count} failures)");
        Assert.True(older > 500 && verified > 300, $"only {verified} of {older} models verified");
    }

    /// <summary>
    /// True when the upgraded model reproduces the expected outputs; null when the comparison does not
    /// apply (no test data, ONNX Runtime cannot run or reproduce the original, non-tensor values).
    /// Throws when the original reproduces them and the upgraded model does not.
    /// </summary>
    private static bool? VerifyAgainstExpected(string path, byte[] upgraded)
    {
        InferenceSession original;
        try
        {
            original = OrtHarness.Open(path);
        }
        catch (OnnxRuntimeException)
        {
            return null;
        }
        // Where ONNX Runtime loads the original, it must load the upgraded model (all optimizations on).
        using var session = OrtHarness.Open(upgraded);
        using (original)
        {
            var dataDir = Path.Combine(Path.GetDirectoryName(path)!, "test_data_set_0");
            if (!Directory.Exists(dataDir))
            {
                return null;
            }
            var inputs = Directory.GetFiles(dataDir, "input_*.pb").Order(StringComparer.Ordinal).Select(ReadTensor).ToList();
            var expected = Directory.GetFiles(dataDir, "output_*.pb").Order(StringComparer.Ordinal).Select(ReadTensor).ToList();
            if (inputs.Any(t => t is null) || expected.Any(t => t is null))
            {
                return null;
            }
            if (RunOn(original, inputs!) is not { } originalOutputs || Mismatch(originalOutputs, expected!) is not null)
            {
                return null; // ONNX Runtime itself does not reproduce the reference here
            }
            var outputs = RunOn(session, inputs!) ?? throw new InvalidOperationException("the upgraded model failed to run where the original ran");
            if (Mismatch(outputs, expected!) is { } difference)
            {
                throw new InvalidOperationException(difference);
            }
            return true;
        }
    }

    private static Tensor? ReadTensor(string file)
    {
        TensorProto proto;
        try
        {
            proto = TensorProto.Parser.ParseFrom(File.ReadAllBytes(file));
            // Sequence and optional test values are SequenceProto/OptionalProto files, not tensors.
            if (proto.Dims.Count == 0 && !proto.HasRawData && proto.FloatData.Count + proto.Int32Data.Count + proto.Int64Data.Count + proto.DoubleData.Count + proto.Uint64Data.Count == 0)
            {
                return null;
            }
            return ReadTensor(proto);
        }
        catch (Exception e) when (e is Google.Protobuf.InvalidProtocolBufferException or ImplicitRegException)
        {
            return null;
        }
    }

    private static Tensor? ReadTensor(TensorProto proto)
    {
        if (proto.DataType == (int)ElementType.String || !ElementTypes.IsKnown(proto.DataType) || proto.DataLocation == TensorProto.Types.DataLocation.External)
        {
            return null;
        }
        return TensorCodec.Decode(proto, null);
    }

    /// <summary>Runs the session with inputs in declaration order; null when ONNX Runtime refuses or an output is not a tensor.</summary>
    private static List<OrtHarness.Result>? RunOn(InferenceSession session, List<Tensor> inputs)
    {
        var names = session.InputMetadata.Keys.ToList();
        if (names.Count != inputs.Count)
        {
            return null;
        }
        var feeds = new Dictionary<string, OrtValue>(StringComparer.Ordinal);
        try
        {
            for (var i = 0; i < inputs.Count; i++)
            {
                feeds[names[i]] = ToOrt(inputs[i]);
            }
            var results = OrtHarness.Run(session, feeds);
            return session.OutputMetadata.Keys.Select(k => results[k]).ToList();
        }
        catch (Exception e) when (e is OnnxRuntimeException or NotSupportedException)
        {
            return null;
        }
        finally
        {
            foreach (var feed in feeds.Values)
            {
                feed.Dispose();
            }
        }
    }

    private static OrtValue ToOrt(Tensor tensor)
    {
        var value = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, (TensorElementType)(int)tensor.ElementType, tensor.Dims);
        tensor.RawBytes.CopyTo(value.GetTensorMutableRawData());
        return value;
    }

    /// <summary>Null when the outputs match the reference: floating point within 1e-4 relative (absolute below 1), others exactly.</summary>
    private static string? Mismatch(List<OrtHarness.Result> actual, List<Tensor> expected)
    {
        if (actual.Count != expected.Count)
        {
            return $"{actual.Count} outputs, expected {expected.Count}";
        }
        for (var k = 0; k < actual.Count; k++)
        {
            var (a, e) = (actual[k], expected[k]);
            if (!a.Dims.SequenceEqual(e.Dims) || (int)a.Type != (int)e.ElementType)
            {
                return $"output {k}: {a.Type}[{string.Join(",", a.Dims)}], expected {e.ElementType}[{string.Join(",", e.Dims)}]";
            }
            if (e.ElementType is ElementType.Float or ElementType.Double or ElementType.Float16)
            {
                var x = e.ToDoubles();
                var y = new Tensor(e.ElementType, e.Dims, a.Bytes).ToDoubles();
                for (var i = 0; i < x.Length; i++)
                {
                    var close = (double.IsNaN(x[i]) && double.IsNaN(y[i])) || x[i] == y[i] || Math.Abs(x[i] - y[i]) <= 1e-4 * Math.Max(1.0, Math.Abs(x[i]));
                    if (!close)
                    {
                        return $"output {k}[{i}] = {y[i]}, expected {x[i]}";
                    }
                }
            }
            else if (!e.RawBytes.SequenceEqual(a.Bytes))
            {
                return $"output {k} ({e.ElementType}) differs";
            }
        }
        return null;
    }
}
