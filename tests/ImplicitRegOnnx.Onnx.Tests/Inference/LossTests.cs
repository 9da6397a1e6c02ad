using static ImplicitRegOnnx.Onnx.Tests.Inference.InferenceHarness;

namespace ImplicitRegOnnx.Onnx.Tests.Inference;

public class LossTests
{
    [Theory]
    [InlineData("mean", "float[]")]
    [InlineData("sum", "float[]")]
    [InlineData("none", "float[N,D]")]
    public void SoftmaxCrossEntropyLoss(string reduction, string expected) =>
        Assert.Equal([expected, "float[N,10,D]"],
            Run("SoftmaxCrossEntropyLoss", ["float[N,10,D]", "int64[N,D]"], [Attribute.String("reduction", reduction)], outputs: 2));

    [Fact]
    public void NegativeLogLikelihoodLoss()
    {
        Assert.Equal("float[]", One("NegativeLogLikelihoodLoss", ["float[N,10]", "int64[N]"]));
        Assert.Equal("float[N]", One("NegativeLogLikelihoodLoss", ["float[N,10]", "int64"], Attribute.String("reduction", "none")));
    }
}
