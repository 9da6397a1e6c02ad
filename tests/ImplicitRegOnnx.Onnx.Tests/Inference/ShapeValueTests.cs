using ImplicitRegOnnx.Onnx.Building;

namespace ImplicitRegOnnx.Onnx.Tests.Inference;

public class ShapeValueTests
{
    [Fact]
    public void ReshapeToAShapeBuiltFromAnotherShapeKeepsItsKnownDims()
    {
        // view(x.size(0), -1, 8) as exporters write it: Concat(Unsqueeze(Gather(Shape(x), 0)), [-1, 8]).
        var graph = new Graph();
        var x = graph.AddInput("x", new TensorType(ElementType.Float, new Shape([Dim.Named("N"), Dim.Of(4), Dim.Of(6)])));
        var b = new GraphBuilder(graph, 17);
        var batch = b.Unsqueeze(b.Op("Gather", [b.Shape(x), b.Scalar(0L)], Attribute.Int("axis", 0)), 0);
        var shape = b.Op("Concat", [batch, b.Ints(-1, 8)], Attribute.Int("axis", 0));
        var y = b.Reshape(x, shape);
        Assert.Equal(new Shape([Dim.Named("N"), Dim.Of(3), Dim.Of(8)]), y.Shape);
    }

    [Fact]
    public void AnUnknownDimStaysUnknown()
    {
        var graph = new Graph();
        var x = graph.AddInput("x", new TensorType(ElementType.Float, new Shape([Dim.Unknown, Dim.Of(6)])));
        var b = new GraphBuilder(graph, 17);
        var first = b.Op("Shape", [x], Attribute.Int("start", 0), Attribute.Int("end", 1));
        var y = b.Reshape(x, b.Op("Concat", [b.Ints(2), first], Attribute.Int("axis", 0)));
        Assert.Equal(2, y.Shape!.Rank);
        Assert.Equal(2, y.Shape[0].Value);
        Assert.False(y.Shape[1].IsKnown);
    }

    [Fact]
    public void ResizeToSizesSlicedFromTheInputShapeKeepsBatchAndChannels()
    {
        // interpolate(x, size=(6, 5)) as PyTorch writes it: sizes = Concat(Slice(Shape(x), [0], [2]), [6, 5]).
        var graph = new Graph();
        var x = graph.AddInput("x", new TensorType(ElementType.Float, new Shape([Dim.Named("N"), Dim.Of(3), Dim.Named("H"), Dim.Named("W")])));
        var b = new GraphBuilder(graph, 17);
        var batchAndChannels = b.Op("Slice", [b.Shape(x), b.Ints(0), b.Ints(2)]);
        var sizes = b.Op("Concat", [batchAndChannels, b.Ints(6, 5)], Attribute.Int("axis", 0));
        var y = b.Op("Resize", [x, null, null, sizes], Attribute.String("mode", "linear"));
        Assert.Equal(ElementType.Float, y.ElementType);
        Assert.Equal(new Shape([Dim.Named("N"), Dim.Of(3), Dim.Of(6), Dim.Of(5)]), y.Shape);
    }

    [Fact]
    public void ResizeByConstantScalesFloorsKnownSizesAndKeepsUnscaledSymbols()
    {
        var graph = new Graph();
        var x = graph.AddInput("x", new TensorType(ElementType.Float, new Shape([Dim.Named("N"), Dim.Of(2), Dim.Of(3), Dim.Named("W")])));
        var b = new GraphBuilder(graph, 17);
        var scales = b.Constant(Tensor.FromArray(new[] { 1f, 1f, 2.5f, 2f }, [4]));
        var y = b.Op("Resize", [x, null, scales]);
        Assert.Equal(new Shape([Dim.Named("N"), Dim.Of(2), Dim.Of(7), Dim.Unknown]), y.Shape);
    }
}
