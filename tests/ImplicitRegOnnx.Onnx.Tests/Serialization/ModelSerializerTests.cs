using System.Text;
using Google.Protobuf;
using ImplicitRegOnnx.Onnx.Serialization;
using ImplicitRegOnnx.Onnx.Serialization.Proto;
using ImplicitRegOnnx.TestSupport;

namespace ImplicitRegOnnx.Onnx.Tests.Serialization;

public class ModelSerializerTests
{
    private static Tensor Initializer(Model model, string name) =>
        model.Graph.Initializers.Single(v => v.Name == name).Initializer!;

    [Fact]
    public void DecodesEveryElementTypeFromRawAndTypedFields()
    {
        // Values as written by tools/export_models.py (build_dtypes).
        var model = Onnx.Model.Load(TestPaths.Model("dtypes.onnx"));

        Assert.Equal([1.5f, -2.0f, 0.25f, 3.0f, 0.0f, -0.5f], Initializer(model, "t_float").ToArray<float>());
        Assert.Equal([2L, 3L], Initializer(model, "t_float").Dims);
        var typed = Initializer(model, "t_float_typed");
        Assert.Equal(TensorStorage.Typed, typed.Storage);
        Assert.Equal([0.5f, 1.0f, -1.5f], typed.ToArray<float>());
        Assert.Equal([1.0, -2.5], Initializer(model, "t_double").ToArray<double>());
        Assert.Equal([1.0, -0.5, 65504.0, 0.0], Initializer(model, "t_float16").ToDoubles());
        Assert.Equal([2.0, -3.0], Initializer(model, "t_float16_typed").ToDoubles());
        Assert.Equal([1.0, -2.0, 0.25], Initializer(model, "t_bfloat16").ToDoubles());
        Assert.Equal([3.0, -0.5], Initializer(model, "t_bfloat16_typed").ToDoubles());
        Assert.Equal([(sbyte)-128, (sbyte)0, (sbyte)127], Initializer(model, "t_int8").ToArray<sbyte>());
        Assert.Equal([(short)-32768, (short)1, (short)32767], Initializer(model, "t_int16").ToArray<short>());
        Assert.Equal([-1, 2, 3, -4], Initializer(model, "t_int32").ToArray<int>());
        Assert.Equal([long.MinValue, 0L, long.MaxValue], Initializer(model, "t_int64").ToArray<long>());
        var scalar = Initializer(model, "t_int64_scalar");
        Assert.Empty(scalar.Dims);
        Assert.Equal([42L], scalar.ToArray<long>());
        Assert.Equal([(byte)0, (byte)1, (byte)128, (byte)255], Initializer(model, "t_uint8").ToArray<byte>());
        Assert.Equal([(ushort)0, (ushort)65535], Initializer(model, "t_uint16").ToArray<ushort>());
        Assert.Equal([0u, uint.MaxValue], Initializer(model, "t_uint32").ToArray<uint>());
        Assert.Equal([0UL, ulong.MaxValue], Initializer(model, "t_uint64").ToArray<ulong>());
        Assert.Equal([true, false, true], Initializer(model, "t_bool").ToArray<bool>());
        Assert.Equal([false, true], Initializer(model, "t_bool_raw").ToArray<bool>());
        var strings = Initializer(model, "t_string").Strings.Select(Encoding.UTF8.GetString);
        Assert.Equal(["alpha", "", "\u00e9t\u00e9"], strings);
        var empty = Initializer(model, "t_float_empty");
        Assert.Equal(0, empty.ElementCount);
        Assert.Equal([0L, 3L], empty.Dims);
    }

    [Fact]
    public void ReadsShapesWithSymbolsUnknownDimsAndScalars()
    {
        var model = Onnx.Model.Load(TestPaths.Model("dtypes.onnx"));
        var unknown = model.Graph.Inputs.Single(v => v.Name == "x_unknown_dim");
        Assert.Equal(ElementType.Float16, unknown.ElementType);
        Assert.Equal(2, unknown.Shape!.Rank);
        Assert.False(unknown.Shape[0].IsKnown);
        Assert.False(unknown.Shape[0].IsSymbolic);
        Assert.Equal(3, unknown.Shape[1].Value);
        Assert.Equal(0, model.Graph.Inputs.Single(v => v.Name == "x_scalar").Shape!.Rank);
        Assert.Equal("n", model.Graph.Outputs.Single(v => v.Name == "y_unknown_dim").Shape![0].Symbol);
    }

    [Fact]
    public void ConnectsSubgraphsToOuterScopeValuesAndReadsFunctions()
    {
        var model = Onnx.Model.Load(TestPaths.Model("if_loop_subgraph.onnx"));
        var graph = model.Graph;
        var shifted = graph.Nodes.Single(n => n.OpType == "ScaledAdd").Output;
        var ifNode = graph.Nodes.Single(n => n.OpType == "If");
        var thenBranch = ifNode.GetAttribute("then_branch")!.AsGraph();
        Assert.Same(ifNode, thenBranch.ParentNode);
        Assert.Same(shifted, thenBranch.Nodes.Single().Inputs[0]);
        Assert.Contains(shifted.Uses, u => ReferenceEquals(u.Node.Graph, thenBranch));
        Assert.Contains(shifted, ifNode.ImplicitInputs());

        var loop = graph.Nodes.Single(n => n.OpType == "Loop");
        var sparse = graph.Initializers.Single(v => v.Name == "sparse_w");
        Assert.NotNull(sparse.SparseInitializer);
        Assert.Equal([4L], sparse.SparseInitializer!.Dims);
        Assert.Contains(sparse, loop.ImplicitInputs());

        var function = Assert.Single(model.Functions);
        Assert.Equal(("com.example", "ScaledAdd"), (function.Domain, function.Name));
        Assert.Equal(["X", "B"], function.Body.Inputs.Select(v => v.Name));
        Assert.Equal(3, function.Body.Nodes.Count);
        Assert.Equal(1, model.OpsetVersion("com.example"));
        Assert.Equal("org.implicitreg.test", model.Domain);
        Assert.Contains(new MetadataEntry("purpose", "reader test"), model.MetadataProps);
    }

    [Fact]
    public void KeepsFieldsTheIrDoesNotModel()
    {
        var proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(TestPaths.Model("mlp_tanh.onnx")));
        proto.TrainingInfo.Add(new TrainingInfoProto { Algorithm = new GraphProto { Name = "algorithm" } });
        proto.Graph.QuantizationAnnotation.Add(new TensorAnnotation { TensorName = "logits" });
        proto.Graph.Node[0].MetadataProps.Add(new StringStringEntryProto { Key = "k", Value = "v" });
        var bytes = WithUnknownField(proto.ToByteArray(), fieldNumber: 999, value: 12345);

        var saved = Onnx.Model.Load(bytes).ToBytes();

        var reread = ModelProto.Parser.ParseFrom(saved);
        Assert.Equal("algorithm", reread.TrainingInfo.Single().Algorithm.Name);
        Assert.Equal("logits", reread.Graph.QuantizationAnnotation.Single().TensorName);
        Assert.Equal("v", reread.Graph.Node[0].MetadataProps.Single().Value);
        Assert.Equal(ModelProto.Parser.ParseFrom(bytes), reread);
        Assert.NotEqual(proto, reread); // the unknown field is there too
    }

    private static byte[] WithUnknownField(byte[] message, int fieldNumber, long value)
    {
        using var stream = new MemoryStream();
        stream.Write(message);
        var output = new CodedOutputStream(stream);
        output.WriteTag(fieldNumber, WireFormat.WireType.Varint);
        output.WriteInt64(value);
        output.Flush();
        return stream.ToArray();
    }

    [Theory]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(9)]
    [InlineData(10)]
    [InlineData(11)]
    public void ReadsIrVersions3To11(long irVersion)
    {
        var model = Onnx.Model.Load(TestPaths.Model("mlp_tanh.onnx"));
        model.IrVersion = irVersion;
        Assert.Equal(irVersion, Onnx.Model.Load(model.ToBytes()).IrVersion);
    }

    [Fact]
    public void NewerIrVersionsLoadWithAFlagButImplausibleOnesAreRefused()
    {
        var model = Onnx.Model.Load(TestPaths.Model("mlp_tanh.onnx"));
        Assert.False(model.IsNewerThanKnown);
        model.IrVersion = Onnx.Model.MaxIrVersion + 1;
        Assert.True(Onnx.Model.Load(model.ToBytes()).IsNewerThanKnown);

        model.IrVersion = Onnx.Model.MaxPlausibleIrVersion + 1;
        var error = Assert.Throws<ImplicitRegException>(() => Onnx.Model.Load(model.ToBytes()));
        Assert.Contains("implausible", error.Message);
    }

    [Fact]
    public void ExternalDataIsReadAndWrittenBackToSideFiles()
    {
        var source = TestPaths.Model("external_data/model.onnx");
        var model = Onnx.Model.Load(source);
        var externals = model.Graph.Initializers.Where(v => v.Initializer!.External is not null).ToList();
        Assert.NotEmpty(externals);
        Assert.All(externals, v => Assert.Equal("weights.bin", v.Initializer!.External!.Location));

        using var temp = new TempDirectory();
        var kept = temp.File("kept/model.onnx");
        model.Save(kept);
        Assert.True(File.Exists(temp.File("kept/weights.bin")));
        AssertSameInitializers(model, Onnx.Model.Load(kept));

        var inline = temp.File("inline/model.onnx");
        model.Save(inline, new ModelSaveOptions { ExternalData = ExternalDataPolicy.Inline });
        Assert.Single(Directory.GetFiles(temp.File("inline")));
        var reloaded = Onnx.Model.Load(inline);
        Assert.All(reloaded.Graph.Initializers, v => Assert.Null(v.Initializer!.External));
        AssertSameInitializers(model, reloaded);

        var moved = temp.File("all/model.onnx");
        model.Save(moved, new ModelSaveOptions { ExternalData = ExternalDataPolicy.AllExternal, ExternalThresholdBytes = 0 });
        Assert.True(File.Exists(temp.File("all/model.onnx.data")));
        AssertSameInitializers(model, Onnx.Model.Load(moved));
        Assert.Equal(["model.onnx", "model.onnx.data"], Directory.GetFiles(temp.File("all")).Select(Path.GetFileName).Order());
    }

    private static void AssertSameInitializers(Model expected, Model actual)
    {
        var names = expected.Graph.Initializers.Select(v => v.Name).ToList();
        Assert.Equal(names, actual.Graph.Initializers.Select(v => v.Name));
        foreach (var (e, a) in expected.Graph.Initializers.Zip(actual.Graph.Initializers))
        {
            Assert.True(e.Initializer!.ContentEquals(a.Initializer!), e.Name);
        }
    }

    [Fact]
    public void ExternalDataFromAStreamNeedsABaseDirectory()
    {
        var path = TestPaths.Model("external_data/model.onnx");
        using var stream = File.OpenRead(path);
        var error = Assert.Throws<ImplicitRegException>(() => Onnx.Model.Load(stream));
        Assert.Contains("weights.bin", error.Message);

        using var again = File.OpenRead(path);
        var model = Onnx.Model.Load(again, new ModelLoadOptions { BaseDirectory = Path.GetDirectoryName(path) });
        Assert.NotEmpty(model.Graph.Initializers);
    }

    [Theory]
    [InlineData("../outside.bin", "outside")]
    [InlineData("/etc/passwd", "relative")]
    [InlineData("missing.bin", "missing")]
    public void RefusesBadExternalLocations(string location, string expectedWords)
    {
        var proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(TestPaths.Model("external_data/model.onnx")));
        var tensor = proto.Graph.Initializer.First(t => t.ExternalData.Count > 0);
        tensor.ExternalData.Single(e => e.Key == "location").Value = location;
        using var temp = new TempDirectory();
        var path = temp.File("model.onnx");
        File.WriteAllBytes(path, proto.ToByteArray());
        var error = Assert.Throws<ImplicitRegException>(() => Onnx.Model.Load(path));
        Assert.Contains(expectedWords, error.Message);
        Assert.StartsWith(path, error.Message);
    }

    [Fact]
    public void SaveLeavesNoTemporaryFiles()
    {
        using var temp = new TempDirectory();
        var output = temp.File("deep/er/model.onnx");
        Onnx.Model.Load(TestPaths.Model("mlp_tanh.onnx")).Save(output);
        Assert.Equal(["model.onnx"], Directory.GetFiles(temp.File("deep/er")).Select(Path.GetFileName));
    }

    public static TheoryData<string, byte[], string> BadFiles() => new()
    {
        { "empty", [], "empty" },
        { "text", Encoding.UTF8.GetBytes("{\"hello\": \"world\"}\n"), "not an ONNX model" },
        { "random", RandomBytes(4096), "not an ONNX model" },
        { "truncated", File.ReadAllBytes(TestPaths.Model("mlp_tanh.onnx"))[..5000], "not an ONNX model" },
    };

    private static byte[] RandomBytes(int count)
    {
        var bytes = new byte[count];
        new Random(7).NextBytes(bytes);
        return bytes;
    }

    [Theory]
    [MemberData(nameof(BadFiles))]
    public void BadFilesGiveOneLineErrorsNamingTheFile(string name, byte[] content, string expectedWords)
    {
        using var temp = new TempDirectory();
        var path = temp.File(name + ".onnx");
        File.WriteAllBytes(path, content);
        var error = Assert.Throws<ImplicitRegException>(() => Onnx.Model.Load(path));
        Assert.StartsWith(path + ": ", error.Message);
        Assert.Contains(expectedWords, error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void MissingFileAndDirectoryAreReported()
    {
        using var temp = new TempDirectory();
        Assert.Contains("not found", Assert.Throws<ImplicitRegException>(() => Onnx.Model.Load(temp.File("nope.onnx"))).Message);
        Assert.Contains("directory", Assert.Throws<ImplicitRegException>(() => Onnx.Model.Load(temp.Path)).Message);
    }

    [Fact]
    public void DanglingInputsAndCyclesAreRefused()
    {
        var proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(TestPaths.Model("mlp_tanh.onnx")));
        var dangling = proto.Clone();
        dangling.Graph.Node[1].Input[0] = "nothing_defines_this";
        Assert.Contains("nothing_defines_this", Assert.Throws<ImplicitRegException>(() => Onnx.Model.Load(dangling.ToByteArray())).Message);

        var cyclic = proto.Clone();
        var last = cyclic.Graph.Node[^1];
        cyclic.Graph.Node[0].Input[0] = last.Output[0];
        Assert.Contains("cycle", Assert.Throws<ImplicitRegException>(() => Onnx.Model.Load(cyclic.ToByteArray())).Message);
    }

    [Theory]
    [InlineData("input")]
    [InlineData("output")]
    public void A_declared_shape_past_a_64_bit_count_is_refused_naming_the_value(string which)
    {
        // A hostile model may declare [2^62, 64]: no tensor has that many elements, and later shape arithmetic
        // would overflow; the reader refuses it as bad input naming the value.
        var model = Onnx.Model.Load(TestPaths.Model("mlp_tanh.onnx"));
        var value = which == "input" ? model.Graph.Inputs[0] : model.Graph.Outputs[0];
        value.Type = new TensorType(ElementType.Float, new Shape([Dim.Of(1L << 62), Dim.Of(64)]));
        var error = Assert.Throws<ImplicitRegException>(() => Onnx.Model.Load(model.ToBytes()));
        Assert.Equal(ErrorKind.BadInput, error.Kind);
        Assert.Contains($"value '{value.Name}' is declared with shape [4611686018427387904,64]", error.Message, StringComparison.Ordinal);

        // Symbolic sizes and a 0 size are fine, and so is Shape.ElementCount's typed error for a product past 64 bits.
        value.Type = new TensorType(ElementType.Float, new Shape([Dim.Named("N"), Dim.Of(1L << 62), Dim.Of(0), Dim.Of(1L << 62)]));
        Onnx.Model.Load(model.ToBytes());
        var count = Assert.Throws<ImplicitRegException>(() => new Shape([Dim.Of(1L << 62), Dim.Of(64)]).ElementCount());
        Assert.Equal(ErrorKind.BadInput, count.Kind);
    }
}
