using ImplicitRegOnnx.Onnx.Building;
using ImplicitRegOnnx.Onnx.Inference;
using ImplicitRegOnnx.TestSupport;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace ImplicitRegOnnx.Onnx.Tests.Inference;

/// <summary>
/// The key correctness check: every intermediate whose shape was inferred is made a graph output, the
/// model runs in ONNX Runtime with concrete sizes for the symbols, and the actual shapes must match.
/// </summary>
public class OnnxRuntimeAgreementTests
{
    private const int Batch = 3;
    private const int Sequence = 5;

    [Theory]
    [InlineData("mlp_tanh.onnx")]
    [InlineData("mlp_relu.onnx")]
    [InlineData("cnn_avgpool.onnx")]
    [InlineData("cnn_batchnorm_maxpool.onnx")]
    [InlineData("resnet8_small.onnx")]
    [InlineData("attention_gelu.onnx")]
    [InlineData("lstm_tiny.onnx")]
    public void InferredShapesMatchActualShapes(string name)
    {
        var model = Model.Load(TestPaths.Model(name));
        var nodeOutputs = model.Graph.Nodes.SelectMany(n => n.Outputs).OfType<Value>().ToList();
        var declaredOutputs = model.Graph.Outputs.ToDictionary(v => v, v => v.Type);
        foreach (var value in nodeOutputs)
        {
            value.Type = null;
        }
        model.Graph.ValueInfos.Clear();

        ShapeInference.InferModel(model);

        var untyped = nodeOutputs.Where(v => v.TensorType?.Shape is null).Select(v => v.Name).ToList();
        Assert.True(untyped.Count == 0, "no shape inferred for: " + string.Join(", ", untyped));
        var inferred = nodeOutputs.ToDictionary(v => v.Name, v => v.TensorType!);
        foreach (var value in nodeOutputs.Where(v => !model.Graph.Outputs.Contains(v)))
        {
            model.Graph.Outputs.Add(value);
        }

        var sizes = new Dictionary<string, long> { ["batch"] = Batch, ["seq"] = Sequence };
        var actual = Run(model.ToBytes(), model.Graph.RequiredInputs.ToList(), sizes);

        foreach (var (valueName, type) in inferred)
        {
            var (elementType, shape) = actual[valueName];
            var message = $"{valueName}: inferred {type}, actual {elementType} [{string.Join(",", shape)}]";
            Assert.True((int)type.ElementType == (int)elementType, message);
            Assert.True(type.Shape!.Rank == shape.Length, message);
            for (var i = 0; i < shape.Length; i++)
            {
                var dim = type.Shape[i];
                if (dim.IsKnown)
                {
                    Assert.True(dim.Value == shape[i], message);
                }
                else if (dim.IsSymbolic)
                {
                    Assert.True(sizes.TryGetValue(dim.Symbol!, out var size) && size == shape[i], message);
                }
            }
        }
        foreach (var (value, type) in declaredOutputs)
        {
            Assert.Equal(type, value.Type);
        }
    }

    public static TheoryData<string, long[], long, long, long, long> WindowCases => new()
    {
        // op, input spatial size, kernel, stride, pad (both sides), ceil_mode
        { "MaxPool", [7, 8], 2, 2, 0, 1 },
        { "MaxPool", [4, 5], 2, 2, 1, 1 },
        { "AveragePool", [6, 9], 3, 2, 1, 1 },
        { "AveragePool", [5, 5], 3, 3, 1, 0 },
        { "MaxPool", [10, 3], 3, 3, 2, 1 },
        { "Conv", [9, 6], 3, 2, 1, 0 },
        { "Conv", [8, 7], 4, 3, 2, 0 },
        { "ConvTranspose", [4, 5], 3, 2, 1, 0 },
    };

    /// <summary>Sliding-window arithmetic (including ceil_mode edge cases) agrees with ONNX Runtime.</summary>
    [Theory]
    [MemberData(nameof(WindowCases))]
    public void WindowArithmeticMatchesOnnxRuntime(string op, long[] spatial, long kernel, long stride, long pad, long ceilMode)
    {
        var graph = new Graph("window");
        var x = graph.AddInput("x", new TensorType(ElementType.Float, new Shape([Dim.Named("batch"), 2, .. spatial.Select(Dim.Of)])));
        var builder = new GraphBuilder(graph, 19);
        List<Attribute> attributes =
        [
            Attribute.Ints("strides", [stride, stride]),
            Attribute.Ints("pads", [pad, pad, pad, pad]),
        ];
        Value y;
        if (op.StartsWith("Conv", StringComparison.Ordinal))
        {
            var w = builder.Initializer(Tensor.FromArray(new float[2 * 2 * kernel * kernel], [2, 2, kernel, kernel], "w"));
            y = builder.Op(op, [x, w], [.. attributes]);
        }
        else
        {
            y = builder.Op(op, [x], [.. attributes, Attribute.Ints("kernel_shape", [kernel, kernel]), Attribute.Int("ceil_mode", ceilMode)]);
        }
        graph.Outputs.Add(y);
        var model = new Model(graph);
        model.SetOpsetVersion("", 19);

        var actual = Run(model.ToBytes(), [x], new Dictionary<string, long> { ["batch"] = Batch });

        long[] expected = [Batch, .. y.Shape!.Skip(1).Select(d => d.Value!.Value)];
        Assert.Equal(expected, actual[y.Name].Shape);
        Assert.Equal("batch", y.Shape![0].Symbol);
    }

    private static Dictionary<string, (TensorElementType ElementType, long[] Shape)> Run(
        byte[] modelBytes, List<Value> inputs, Dictionary<string, long> sizes)
    {
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL };
        using var session = new InferenceSession(modelBytes, options);
        var random = new Random(7);
        var feeds = new List<OrtValue>();
        try
        {
            foreach (var input in inputs)
            {
                var shape = input.Shape!.Select(d => d.Value ?? sizes[d.Symbol!]).ToArray();
                var count = (int)shape.Aggregate(1L, (a, b) => a * b);
                feeds.Add(input.ElementType == ElementType.Int64
                    ? OrtValue.CreateTensorValueFromMemory(Enumerable.Range(0, count).Select(_ => (long)random.Next(4)).ToArray(), shape)
                    : OrtValue.CreateTensorValueFromMemory(Enumerable.Range(0, count).Select(_ => (float)random.NextDouble()).ToArray(), shape));
            }
            using var runOptions = new RunOptions();
            var outputNames = session.OutputNames.ToList();
            using var results = session.Run(runOptions, inputs.Select(i => i.Name).ToList(), feeds, outputNames);
            var actual = new Dictionary<string, (TensorElementType, long[])>();
            for (var i = 0; i < outputNames.Count; i++)
            {
                var info = results[i].GetTensorTypeAndShape();
                actual[outputNames[i]] = (info.ElementDataType, info.Shape);
            }
            return actual;
        }
        finally
        {
            foreach (var feed in feeds)
            {
                feed.Dispose();
            }
        }
    }
}
