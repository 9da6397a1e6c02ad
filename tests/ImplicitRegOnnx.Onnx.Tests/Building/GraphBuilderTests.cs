using ImplicitRegOnnx.Onnx.Building;
using ImplicitRegOnnx.Onnx.Tests.Inference;

namespace ImplicitRegOnnx.Onnx.Tests.Building;

public class GraphBuilderTests
{
    [Fact]
    public void AppendedNodesGetFreshNamesAndInferredTypes()
    {
        var graph = new Graph();
        var x = graph.AddInput("x", InferenceHarness.Parse("float[N,4]"));
        graph.AddInitializer(Tensor.FromArray(new float[12], [4, 3], "MatMul"));
        var b = new GraphBuilder(graph, 17);

        var w = b.Initializer(Tensor.FromArray(new float[12], [4, 3], "w"));
        var y = b.MatMul(x, w);
        var z = b.Add(y, b.Scalar(1f));
        var s = b.ReduceSum(z, [1], keepDims: false);

        Assert.Equal("float[N,3]", InferenceHarness.Format(y.Type));
        Assert.Equal("float[N,3]", InferenceHarness.Format(z.Type));
        Assert.Equal("float[N]", InferenceHarness.Format(s.Type));
        Assert.NotEqual("MatMul", y.Name);
        var names = graph.CollectNames();
        Assert.Equal(graph.Nodes.Count + graph.Inputs.Count + graph.Initializers.Count, names.Count);
    }

    [Fact]
    public void HelpersFollowTheOpset()
    {
        var graph = new Graph();
        var x = graph.AddInput("x", InferenceHarness.Parse("float[N,4]"));
        var old = new GraphBuilder(graph, 11);
        var sum = old.ReduceSum(x, [0]);
        Assert.Single(sum.Producer!.Inputs);
        Assert.Equal("float[1,4]", InferenceHarness.Format(sum.Type));
        Assert.Equal("float[1,N,4]", InferenceHarness.Format(old.Unsqueeze(x, 0).Type));
    }

    [Fact]
    public void ShapeHelpers()
    {
        var graph = new Graph();
        var x = graph.AddInput("x", InferenceHarness.Parse("float[N,4,6]"));
        var b = new GraphBuilder(graph, 17) { NamePrefix = "grad/" };
        var r = b.Reshape(x, 0, -1);
        Assert.Equal("float[N,24]", InferenceHarness.Format(r.Type));
        Assert.StartsWith("grad/", r.Name, StringComparison.Ordinal);
        Assert.Equal("float[24,N]", InferenceHarness.Format(b.Transpose(r).Type));
        Assert.Equal("int64[3]", InferenceHarness.Format(b.Shape(x).Type));
        // Reshape to Shape(x) reads the dims of x (ShapeValue), symbols included.
        Assert.Equal("float[N,4,6]", InferenceHarness.Format(b.Reshape(b.Neg(b.Reshape(x, -1)), b.Shape(x)).Type));
        Assert.Equal("double[N,4,6]", InferenceHarness.Format(b.Cast(x, ElementType.Double).Type));
        var parts = b.Op("Split", 2, [x], Attribute.Int("axis", 2));
        Assert.Equal(["float[N,4,3]", "float[N,4,3]"], parts.Select(p => InferenceHarness.Format(p.Type)));
    }

    [Fact]
    public void SubgraphBuildersAvoidNamesOfTheWholeModel()
    {
        var graph = new Graph();
        var x = graph.AddInput("Neg", InferenceHarness.Parse("float[2]"));
        var body = new Graph("body");
        graph.Append(new Node("", "If", [x], ["out"], [Attribute.FromGraph("then_branch", body), Attribute.FromGraph("else_branch", new Graph("e"))]));
        var b = new GraphBuilder(body, 17);
        var y = b.Neg(x);
        Assert.NotEqual("Neg", y.Name);
        Assert.Equal("float[2]", InferenceHarness.Format(y.Type));
    }

    /// <summary>The Tensor a Constant node holds.</summary>
    private static Tensor Held(Value constant)
    {
        Assert.Equal("Constant", constant.Producer!.OpType);
        return constant.Producer.GetAttribute("value")!.AsTensor();
    }

    [Theory]
    [InlineData(ElementType.Float)]
    [InlineData(ElementType.Double)]
    [InlineData(ElementType.Float16)]
    [InlineData(ElementType.BFloat16)]
    [InlineData(ElementType.Int8)]
    [InlineData(ElementType.UInt8)]
    [InlineData(ElementType.Int16)]
    [InlineData(ElementType.UInt16)]
    [InlineData(ElementType.Int32)]
    [InlineData(ElementType.UInt32)]
    [InlineData(ElementType.Int64)]
    [InlineData(ElementType.UInt64)]
    [InlineData(ElementType.Bool)]
    public void TypedConstantsTakeTheTypeOfTheValueTheyCombineWith(ElementType type)
    {
        var graph = new Graph();
        var x = graph.AddInput("x", new TensorType(type, new Shape(2, 3)));
        var b = new GraphBuilder(graph, 17);

        var one = b.ScalarLike(1, x);
        Assert.Equal(type, one.ElementType);
        Assert.Equal(Tensor.Scalar(type, 1).RawBytes.ToArray(), Held(one).RawBytes.ToArray());
        Assert.Empty(Held(one).Dims);

        var matrix = b.ConstantLike([0, 1, 1, 0], [2, 2], x);
        Assert.Equal($"{type.Name()}[2,2]", InferenceHarness.Format(matrix.Type));
        Assert.Equal([0.0, 1, 1, 0], Held(matrix).ToDoubles());

        var zeros = b.FillLike(0, x);
        Assert.Equal("Expand", zeros.Producer!.OpType);
        Assert.Equal(type, zeros.ElementType);
        Assert.Equal(0.0, Held(zeros.Producer.Inputs[0]!).ToDoubles().Single());
        Assert.Equal("Shape", zeros.Producer.Inputs[1]!.Producer!.OpType);
        Assert.Same(x, zeros.Producer.Inputs[1]!.Producer!.Inputs[0]);
        Assert.Same(x, b.CastLike(x, x));
    }

    [Fact]
    public void Float16ConstantsRoundOnceFromTheDouble()
    {
        var graph = new Graph();
        var x = graph.AddInput("x", InferenceHarness.Parse("float16[3]"));
        var b = new GraphBuilder(graph, 17);
        // Just above the float16 tie between 1 and 1 + 2⁻¹⁰: rounding through float would give 1.
        var value = 1 + Math.Pow(2, -11) + Math.Pow(2, -40);
        Assert.Equal(1 + Math.Pow(2, -10), Held(b.ScalarLike(value, x)).ToDoubles()[0]);
        Assert.Equal(1 + Math.Pow(2, -10), Held(b.Scalar(value, ElementType.Float16)).ToDoubles()[0]);
        Assert.Equal(1 + Math.Pow(2, -10), Held(b.Constant(ElementType.Float16, [value], [1])).ToDoubles()[0]);
    }

    [Fact]
    public void UnknownTypesConvertAtRunTime()
    {
        var graph = new Graph();
        var untyped = graph.AddInput("u", null);
        var complex = graph.AddInput("c", new TensorType(ElementType.Complex64, new Shape(2)));
        var b = new GraphBuilder(graph, 17);

        var scalar = b.ScalarLike(0.5, untyped);
        Assert.Equal("CastLike", scalar.Producer!.OpType);
        Assert.Equal(0.5f, Held(scalar.Producer.Inputs[0]!).ToArray<float>()[0]);
        Assert.Same(untyped, scalar.Producer.Inputs[1]);
        Assert.Equal("CastLike", b.ScalarLike(2, complex).Producer!.OpType);

        // Before opset 15 there is no CastLike: a Cast to the known type, and a clear error without one.
        var old = new GraphBuilder(graph, 13);
        var cast = old.ScalarLike(2, complex);
        Assert.Equal("Cast", cast.Producer!.OpType);
        Assert.Equal((long)ElementType.Complex64, cast.Producer.GetInt("to", 0));
        var error = Assert.Throws<ImplicitRegException>(() => old.ScalarLike(1, untyped));
        Assert.Equal(ErrorKind.Unsupported, error.Kind);
        Assert.Contains("'u'", error.Message, StringComparison.Ordinal);
    }
}
