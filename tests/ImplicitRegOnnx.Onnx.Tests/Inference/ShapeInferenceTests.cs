using ImplicitRegOnnx.Onnx.Inference;
using static ImplicitRegOnnx.Onnx.Tests.Inference.InferenceHarness;

namespace ImplicitRegOnnx.Onnx.Tests.Inference;

public class ShapeInferenceTests
{
    [Theory]
    [InlineData("", "float[N,3]", "float[N,3]")]
    [InlineData("float[N,?]", "float[N,3]", "float[N,3]")]
    [InlineData("float[?,3]", "float[N,3]", "float[N,3]")]
    [InlineData("float[N,3]", "float[?,?]", "float[N,3]")]
    [InlineData("float[N,3]", "float[M,3]", "float[N,3]")]
    [InlineData("float[N,3]", "float[2,3]", "float[2,3]")]
    [InlineData("float[5,3]", "float[2,3]", "float[5,3]")]
    [InlineData("float[N,3]", "float", "float[N,3]")]
    [InlineData("float", "float[N,3]", "float[N,3]")]
    [InlineData("float[N,3]", "float[N,3,1]", "float[N,3]")]
    [InlineData("double[N,3]", "float[N,3]", "double[N,3]")]
    public void MergeRefinesButNeverLosesDeclaredFacts(string existing, string inferred, string expected)
    {
        OnnxType? declared = existing.Length == 0 ? null : Parse(existing);
        Assert.Equal(expected, Format(ShapeInference.Merge(declared, Parse(inferred))));
    }

    [Fact]
    public void MergeKeepsNonTensorTypes()
    {
        var sequence = new SequenceType(Parse("float[2]"));
        Assert.Same(sequence, ShapeInference.Merge(sequence, Parse("float[2]")));
    }

    [Fact]
    public void UnknownOperatorsAndDomainsAreLeftAlone()
    {
        Assert.Equal("", One("NoSuchOp", ["float[2]"]));
        var graph = new Graph();
        var x = graph.AddInput("x", Parse("float[2]"));
        var custom = graph.Append(new Node("com.example", "Relu", [x], ["y"]));
        Assert.Equal(0, ShapeInference.InferNode(custom, 17));
        Assert.Null(custom.Output.Type);
    }

    [Fact]
    public void MalformedNodesInferNothingInsteadOfThrowing()
    {
        Assert.Equal("", One("Transpose", ["float[2,3]"], Attribute.String("perm", "oops")));
        Assert.Equal("", One("Conv", ["float[N,3,8,8]", "float[4,3,3,3]"], Attribute.Ints("strides", [0, 0])));
        Assert.Equal("", One("Reshape", ["float[2,3]", Ints(-1, -1)]));
        Assert.Equal("", One("Range", [Scalar(0), Scalar(4), Scalar(0)]));
        Assert.Equal("", One("Gather", ["float[2,3]", "int64[]"], Attribute.Int("axis", 5)));
    }

    [Fact]
    public void DeclaredOutputTypesAreRefinedNotReplaced()
    {
        var graph = new Graph();
        var x = graph.AddInput("x", Parse("float[N,3]"));
        var relu = graph.Append(new Node("", "Relu", [x], ["y"]));
        relu.Output.Type = Parse("float[?,3]") with { Denotation = "TENSOR" };
        Assert.Equal(1, ShapeInference.InferGraph(graph, 17));
        Assert.Equal("float[N,3]", Format(relu.Output.Type));
        Assert.Equal("TENSOR", relu.Output.Type!.Denotation);
        Assert.Equal(0, ShapeInference.InferGraph(graph, 17));
    }

    [Fact]
    public void ModelWithoutAnAiOnnxImportIsLeftAlone()
    {
        var graph = new Graph();
        var x = graph.AddInput("x", Parse("float[2]"));
        var relu = graph.Append(new Node("", "Relu", [x], ["y"]));
        Assert.Equal(0, ShapeInference.InferModel(new Model(graph)));
        Assert.Null(relu.Output.Type);
    }

    [Fact]
    public void SubgraphsAreInferredUsingOuterValues()
    {
        var graph = new Graph();
        var x = graph.AddInput("x", Parse("float[N,4]"));
        var flag = graph.AddInput("flag", Parse("bool[]"));
        var thenBranch = new Graph("then");
        thenBranch.Outputs.Add(thenBranch.Append(new Node("", "Relu", [x], ["t"])).Output);
        var elseBranch = new Graph("else");
        elseBranch.Outputs.Add(elseBranch.Append(new Node("", "Transpose", [x], ["e"], [Attribute.Ints("perm", [0, 1])])).Output);
        var ifNode = graph.Append(new Node("", "If", [flag], ["y"], [Attribute.FromGraph("then_branch", thenBranch), Attribute.FromGraph("else_branch", elseBranch)]));
        var model = new Model(graph);
        model.SetOpsetVersion("", 17);
        Assert.Equal(3, ShapeInference.InferModel(model));
        Assert.Equal("float[N,4]", Format(ifNode.Output.Type));
    }

    [Fact]
    public void ConstantValuesComeFromInitializersAndConstantNodesOnly()
    {
        var graph = new Graph();
        var init = graph.AddInitializer(Ints(1, 2).WithName("init"));
        var overridable = graph.AddInitializer(Ints(3).WithName("overridable"));
        graph.AddInput(overridable);
        var input = graph.AddInput("x", Parse("int64[2]"));
        var constant = graph.Append(new Node("", "Constant", [], ["c"], [Attribute.Float("value_float", 2f)])).Output;
        Assert.Equal([1L, 2L], ConstantValue.TryGetInts(init)!);
        Assert.Null(ConstantValue.TryGet(overridable));
        Assert.Null(ConstantValue.TryGet(input));
        Assert.Equal([2f], ConstantValue.TryGet(constant)!.ToArray<float>());
        Assert.Null(ConstantValue.TryGetInts(constant));
    }
}
