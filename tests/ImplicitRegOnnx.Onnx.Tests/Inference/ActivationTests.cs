using static ImplicitRegOnnx.Onnx.Tests.Inference.InferenceHarness;

namespace ImplicitRegOnnx.Onnx.Tests.Inference;

public class ActivationTests
{
    [Theory]
    [InlineData("Relu")]
    [InlineData("Sigmoid")]
    [InlineData("Tanh")]
    [InlineData("Erf")]
    [InlineData("Softplus")]
    [InlineData("LeakyRelu")]
    [InlineData("Gelu")]
    [InlineData("Softmax")]
    [InlineData("LogSoftmax")]
    [InlineData("Clip")]
    [InlineData("Neg")]
    [InlineData("Sqrt")]
    public void UnaryOpsKeepTypeAndShape(string op)
    {
        Assert.Equal("float[N,?,3]", One(op, ["float[N,?,3]"]));
        Assert.Equal("float", One(op, ["float"]));
        Assert.Equal("", One(op, [""]));
    }

    [Fact]
    public void DropoutMaskIsBoolSinceOpset10()
    {
        Assert.Equal(["float[N,4]", "bool[N,4]"], Run("Dropout", ["float[N,4]"], outputs: 2, opset: 13));
        Assert.Equal(["float[N,4]", "float[N,4]"], Run("Dropout", ["float[N,4]"], outputs: 2, opset: 7));
    }

    [Fact]
    public void IsNaNGivesBool() => Assert.Equal("bool[2]", One("IsNaN", ["float[2]"]));
}
