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
}
