namespace ImplicitRegOnnx.Onnx.Tests.Ir;

public class GraphTests
{
    private static (Graph Graph, Value X, Node Relu, Node Neg) Chain()
    {
        var graph = new Graph("g");
        var x = graph.AddInput("x", new TensorType(ElementType.Float, new Shape(2, 3)));
        var relu = graph.Append(new Node("", "Relu", [x], ["r"]));
        var neg = graph.Append(new Node("", "Neg", [relu.Output], ["y"]));
        graph.Outputs.Add(neg.Output);
        return (graph, x, relu, neg);
    }

    [Fact]
    public void ValuesKnowTheirProducerAndUses()
    {
        var (graph, x, relu, neg) = Chain();
        Assert.Null(x.Producer);
        Assert.True(x.IsGraphInput);
        Assert.Same(relu, relu.Output.Producer);
        Assert.Same(graph, relu.Output.Graph);
        Assert.Equal([new Use(relu, 0)], x.Uses);
        Assert.Equal([new Use(neg, 0)], relu.Output.Uses);
        Assert.True(neg.Output.IsGraphOutput);
    }

    [Fact]
    public void SetInputMovesTheUse()
    {
        var (_, x, relu, neg) = Chain();
        neg.SetInput(0, x);
        Assert.Empty(relu.Output.Uses);
        Assert.Equal(2, x.Uses.Count);
    }

    [Fact]
    public void ReplaceAllUsesWithRewiresNodesAndGraphOutputs()
    {
        var (graph, x, relu, neg) = Chain();
        neg.Output.ReplaceAllUsesWith(relu.Output);
        Assert.Same(relu.Output, graph.Outputs[0]);
        graph.Remove(neg);
        Assert.Empty(relu.Output.Uses);
        Assert.Single(graph.Nodes);
        relu.Output.ReplaceAllUsesWith(x);
        Assert.Same(x, graph.Outputs[0]);
    }

    [Fact]
    public void RemovingANodeWhoseOutputIsUsedIsRefused()
    {
        var (graph, _, relu, _) = Chain();
        Assert.Throws<InvalidOperationException>(() => graph.Remove(relu));
        Assert.Equal(2, graph.Nodes.Count);
    }

    [Fact]
    public void InitializersCanBeInputsAsInOldModels()
    {
        var graph = new Graph();
        var w = graph.AddInitializer(Tensor.FromArray([1f, 2f], [2], "w"));
        graph.AddInput(w);
        Assert.True(w.IsGraphInput);
        Assert.True(w.IsInitializer);
        Assert.Empty(graph.RequiredInputs);
        Assert.Equal(new TensorType(ElementType.Float, new Shape(2)), w.Type);
    }

    [Fact]
    public void ANodeBelongsToOneGraph()
    {
        var (graph, _, relu, _) = Chain();
        Assert.Throws<InvalidOperationException>(() => new Graph().Append(relu));
        Assert.Same(graph, relu.Graph);
    }

    [Fact]
    public void TensorsCheckThatPayloadMatchesShape()
    {
        Assert.Throws<ImplicitRegException>(() => new Tensor(ElementType.Float, [2, 2], new byte[12]));
        Assert.Throws<ImplicitRegException>(() => new Tensor(ElementType.Float, [-1], []));
        Assert.Equal(2, new Tensor(ElementType.Int4, [3], new byte[2]).RawBytes.Length);
    }
}
