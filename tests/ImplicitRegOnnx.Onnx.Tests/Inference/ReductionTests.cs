using static ImplicitRegOnnx.Onnx.Tests.Inference.InferenceHarness;

namespace ImplicitRegOnnx.Onnx.Tests.Inference;

public class ReductionTests
{
    [Theory]
    [InlineData("ReduceMean", 17)]
    [InlineData("ReduceMax", 17)]
    [InlineData("ReduceL2", 13)]
    [InlineData("ReduceLogSumExp", 11)]
    [InlineData("ReduceSum", 11)]
    public void AxesAsAttribute(string op, long opset)
    {
        Assert.Equal("float[N,1,4]", Run(op, ["float[N,3,4]"], [Attribute.Ints("axes", [1])], opset: opset)[0]);
        Assert.Equal("float[N]", Run(op, ["float[N,3,4]"], [Attribute.Ints("axes", [-1, 1]), Attribute.Int("keepdims", 0)], opset: opset)[0]);
        Assert.Equal("float[1,1,1]", Run(op, ["float[N,3,4]"], opset: opset)[0]);
        Assert.Equal("float[]", Run(op, ["float[N,3,4]"], [Attribute.Int("keepdims", 0)], opset: opset)[0]);
    }

    [Theory]
    [InlineData("ReduceSum", 13)]
    [InlineData("ReduceMean", 18)]
    [InlineData("ReduceProd", 18)]
    [InlineData("ReduceSumSquare", 18)]
    public void AxesAsInput(string op, long opset)
    {
        Assert.Equal("float[N,1,4]", Run(op, ["float[N,3,4]", Ints(1)], opset: opset)[0]);
        Assert.Equal("float[4]", Run(op, ["float[N,3,4]", Ints(0, 1)], [Attribute.Int("keepdims", 0)], opset: opset)[0]);
        Assert.Equal("float[1,1,1]", Run(op, ["float[N,3,4]"], opset: opset)[0]);
        Assert.Equal("float[N,3,4]", Run(op, ["float[N,3,4]", Ints()], [Attribute.Int("noop_with_empty_axes", 1)], opset: opset)[0]);
        Assert.Equal("float[?,1,?]", Run(op, ["float[N,1,4]", "int64[1]"], opset: opset)[0]);
        Assert.Equal("float", Run(op, ["float[N,1,4]", "int64[1]"], [Attribute.Int("keepdims", 0)], opset: opset)[0]);
    }

    [Fact]
    public void ArgMaxGivesInt64()
    {
        Assert.Equal("int64[N,1]", One("ArgMax", ["float[N,10]"], Attribute.Int("axis", 1)));
        Assert.Equal("int64[10]", One("ArgMin", ["float[N,10]"], Attribute.Int("keepdims", 0)));
    }
}
