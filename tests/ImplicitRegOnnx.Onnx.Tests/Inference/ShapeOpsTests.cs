using static ImplicitRegOnnx.Onnx.Tests.Inference.InferenceHarness;

namespace ImplicitRegOnnx.Onnx.Tests.Inference;

public class ShapeOpsTests
{
    [Theory]
    [InlineData("float[N,4,8]", new long[] { 0, -1 }, "float[N,32]")]
    [InlineData("float[N,4,8]", new long[] { 0, 0, 2, 4 }, "float[N,4,2,4]")]
    [InlineData("float[N,4,8]", new long[] { -1, 8 }, "float[?,8]")]
    [InlineData("float[N,4,8]", new long[] { 4, 8, -1 }, "float[4,8,N]")]
    [InlineData("float[2,3,4]", new long[] { -1 }, "float[24]")]
    [InlineData("float[2,3,4]", new long[] { 6, -1 }, "float[6,4]")]
    [InlineData("float[2,3,4]", new long[] { 5, -1 }, "float[5,?]")]
    [InlineData("float[N,S,64]", new long[] { 0, 0, 4, 16 }, "float[N,S,4,16]")]
    [InlineData("float[N,S,64]", new long[] { 0, -1, 4, 16 }, "float[N,S,4,16]")]
    [InlineData("float", new long[] { 0, 3, -1 }, "float[?,3,?]")]
    public void ReshapeWithConstantShape(string x, long[] shape, string expected) =>
        Assert.Equal(expected, One("Reshape", [x, Ints(shape)]));

    [Fact]
    public void ReshapeAllowZeroKeepsZero() =>
        Assert.Equal("float[0,4]", Run("Reshape", ["float[0,4]", Ints(0, 4)], [Attribute.Int("allowzero", 1)], opset: 14)[0]);

    [Fact]
    public void ReshapeWithUnknownShapeKnowsOnlyTheRank() =>
        Assert.Equal("float[?,?,?]", One("Reshape", ["float[N,4,8]", "int64[3]"]));

    [Fact]
    public void ReshapeShapeFromConstantNode()
    {
        var graph = new Graph();
        var x = graph.AddInput("x", Parse("float[N,6]"));
        var shape = graph.Append(new Node("", "Constant", [], ["shape"], [Attribute.Ints("value_ints", [0, 2, 3])])).Output;
        var reshape = graph.Append(new Node("", "Reshape", [x, shape], ["y"]));
        Onnx.Inference.ShapeInference.InferGraph(graph, 17);
        Assert.Equal("int64[3]", Format(shape.Type));
        Assert.Equal("float[N,2,3]", Format(reshape.Output.Type));
    }

    [Theory]
    [InlineData(1, "float[N,3,4,5]", "float[N,60]")]
    [InlineData(0, "float[N,3,4,5]", "float[1,?]")]
    [InlineData(2, "float[N,3,4,5]", "float[?,20]")]
    [InlineData(-1, "float[2,3,4,5]", "float[24,5]")]
    [InlineData(4, "float[2,3,4,5]", "float[120,1]")]
    [InlineData(1, "float", "float[?,?]")]
    public void Flatten(long axis, string x, string expected) => Assert.Equal(expected, One("Flatten", [x], Attribute.Int("axis", axis)));

    [Fact]
    public void TransposeWithAndWithoutPerm()
    {
        Assert.Equal("float[S,N,D]", One("Transpose", ["float[N,S,D]"], Attribute.Ints("perm", [1, 0, 2])));
        Assert.Equal("float[D,S,N]", One("Transpose", ["float[N,S,D]"]));
        Assert.Equal("float[?,?]", One("Transpose", ["float"], Attribute.Ints("perm", [1, 0])));
    }

    [Fact]
    public void SqueezeAxesAsAttributeBeforeOpset13AndAsInputSince()
    {
        Assert.Equal("float[N,3]", Run("Squeeze", ["float[N,1,3,1]"], [Attribute.Ints("axes", [1, -1])], opset: 11)[0]);
        Assert.Equal("float[N,3]", Run("Squeeze", ["float[N,1,3,1]", Ints(1, -1)], opset: 13)[0]);
        Assert.Equal("float[3]", Run("Squeeze", ["float[1,3,1]"], opset: 13)[0]);
        Assert.Equal("float", Run("Squeeze", ["float[N,1,3]"], opset: 13)[0]);
        Assert.Equal("float", Run("Squeeze", ["float[N,1,3]", "int64[1]"], opset: 13)[0]);
    }

    [Fact]
    public void UnsqueezeAxesAsAttributeBeforeOpset13AndAsInputSince()
    {
        Assert.Equal("float[1,N,3,1]", Run("Unsqueeze", ["float[N,3]"], [Attribute.Ints("axes", [0, -1])], opset: 11)[0]);
        Assert.Equal("float[1,N,3,1]", Run("Unsqueeze", ["float[N,3]", Ints(0, 3)], opset: 13)[0]);
        Assert.Equal("int64[1]", Run("Unsqueeze", ["int64[]", Ints(0)], opset: 13)[0]);
        Assert.Equal("float", Run("Unsqueeze", ["float[N,3]", "int64[1]"], opset: 13)[0]);
    }

    [Theory]
    [InlineData(1, "float[N,3,4]", "float[N,5,4]", "float[N,8,4]")]
    [InlineData(-1, "float[N,3,4]", "float[?,3,4]", "float[N,3,8]")]
    [InlineData(0, "float[N,3]", "float[2,3]", "float[?,3]")]
    [InlineData(1, "float[N,3]", "float", "float[N,?]")]
    public void ConcatAddsAlongTheAxis(long axis, string a, string b, string expected) =>
        Assert.Equal(expected, One("Concat", [a, b], Attribute.Int("axis", axis)));

    [Fact]
    public void SplitFromAttributeInputAndNumOutputs()
    {
        Assert.Equal(["float[N,2]", "float[N,4]"], Run("Split", ["float[N,6]"], [Attribute.Int("axis", 1), Attribute.Ints("split", [2, 4])], outputs: 2, opset: 11));
        Assert.Equal(["float[N,2]", "float[N,4]"], Run("Split", ["float[N,6]", Ints(2, 4)], [Attribute.Int("axis", 1)], outputs: 2, opset: 13));
        Assert.Equal(["float[N,3]", "float[N,3]"], Run("Split", ["float[N,6]"], [Attribute.Int("axis", 1)], outputs: 2));
        Assert.Equal(["float[3,N]", "float[3,N]", "float[1,N]"], Run("Split", ["float[7,N]"], [Attribute.Int("num_outputs", 3)], outputs: 3, opset: 18));
        Assert.Equal(["float[?,6]", "float[?,6]"], Run("Split", ["float[N,6]"], outputs: 2));
    }

    [Theory]
    [InlineData("float[2,3]", new long[] { 3, 1, 1 }, "float[3,2,3]")]
    [InlineData("float[N,1]", new long[] { 1, 4 }, "float[N,4]")]
    [InlineData("float[1,5]", new long[] { 7, 1 }, "float[7,5]")]
    public void ExpandBroadcastsWithTheShape(string x, long[] shape, string expected) => Assert.Equal(expected, One("Expand", [x, Ints(shape)]));

    [Fact]
    public void ExpandToTheShapeOfAnotherTensorKeepsItsSymbolicDims()
    {
        // As the reduction gradients broadcast back: Expand(g, Shape(x)).
        var graph = new Graph();
        var g = graph.AddInput("g", Parse("float[1,6,1]"));
        var x = graph.AddInput("x", Parse("float[N,6,S]"));
        var shape = graph.Append(new Node("", "Shape", [x], ["shape"])).Output;
        var expand = graph.Append(new Node("", "Expand", [g, shape], ["y"]));
        Onnx.Inference.ShapeInference.InferGraph(graph, 17);
        Assert.Equal("float[N,6,S]", Format(expand.Output.Type));
    }

    [Fact]
    public void ExpandWithUnknownShapeKeepsSizesOtherThanOne() => Assert.Equal("float[?,?,5]", One("Expand", ["float[1,5]", "int64[3]"]));

    [Fact]
    public void TileMultipliesDims() => Assert.Equal("float[N,6,4]", One("Tile", ["float[N,3,4]", Ints(1, 2, 1)]));

    [Fact]
    public void PadFromInputAndFromAttribute()
    {
        Assert.Equal("float[N,3,10,12]", One("Pad", ["float[N,3,8,8]", Ints(0, 0, 1, 2, 0, 0, 1, 2)]));
        Assert.Equal("float[N,3,10,8]", Run("Pad", ["float[N,3,8,8]"], [Attribute.Ints("pads", [0, 0, 1, 0, 0, 0, 1, 0])], opset: 2)[0]);
        Assert.Equal("float[N,3,8,12]", Run("Pad", ["float[N,3,8,8]", Ints(2, 2), null, Ints(-1)], opset: 18)[0]);
        Assert.Equal("float[?,?]", One("Pad", ["float[N,3]", "int64[4]"]));
    }

    [Fact]
    public void ShapeWithStartAndEnd()
    {
        Assert.Equal("int64[3]", One("Shape", ["float[N,3,4]"]));
        Assert.Equal("int64[2]", Run("Shape", ["float[N,3,4]"], [Attribute.Int("start", 1)], opset: 15)[0]);
        Assert.Equal("int64[1]", Run("Shape", ["float[N,3,4]"], [Attribute.Int("start", -2), Attribute.Int("end", -1)], opset: 15)[0]);
        Assert.Equal("int64[?]", One("Shape", ["float"]));
        Assert.Equal("int64[]", One("Size", ["float[N,3]"]));
    }

    [Fact]
    public void CastIdentityCastLike()
    {
        Assert.Equal("int64[N,3]", One("Cast", ["float[N,3]"], Attribute.Int("to", (long)ElementType.Int64)));
        Assert.Equal("float[N,3]", One("Identity", ["float[N,3]"]));
        Assert.Equal("double[N,3]", One("CastLike", ["float[N,3]", "double[]"]));
    }

    [Fact]
    public void DepthToSpaceAndBack()
    {
        Assert.Equal("float[N,2,8,8]", One("DepthToSpace", ["float[N,8,4,4]"], Attribute.Int("blocksize", 2)));
        Assert.Equal("float[N,32,2,2]", One("SpaceToDepth", ["float[N,8,4,4]"], Attribute.Int("blocksize", 2)));
    }
}
