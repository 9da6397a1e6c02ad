using static ImplicitRegOnnx.Onnx.Tests.Inference.InferenceHarness;

namespace ImplicitRegOnnx.Onnx.Tests.Inference;

public class ElementwiseTests
{
    [Theory]
    [InlineData("float[2,3]", "float[2,3]", "float[2,3]")]
    [InlineData("float[N,3,4]", "float[4]", "float[N,3,4]")]
    [InlineData("float[N,1,4]", "float[5,1]", "float[N,5,4]")]
    [InlineData("float[N,3]", "float[1,3]", "float[N,3]")]
    [InlineData("float[N,3]", "float[N,3]", "float[N,3]")]
    [InlineData("float[N,3]", "float[M,3]", "float[?,3]")]
    [InlineData("float[N]", "float[3]", "float[3]")]
    [InlineData("float[?]", "float[N]", "float[?]")]
    [InlineData("float[]", "float[2,2]", "float[2,2]")]
    [InlineData("float", "float[2,2]", "float")]
    [InlineData("", "float[2,2]", "float")]
    public void AddBroadcastsMultidirectionally(string a, string b, string expected) =>
        Assert.Equal(expected, One("Add", [a, b]));

    [Fact]
    public void IncompatibleSizesInferOnlyTheElementType() => Assert.Equal("float", One("Mul", ["float[2,3]", "float[4]"]));

    [Theory]
    [InlineData("Equal")]
    [InlineData("Less")]
    [InlineData("GreaterOrEqual")]
    [InlineData("And")]
    public void ComparisonsAndLogicGiveBool(string op) => Assert.Equal("bool[N,4]", One(op, ["int64[N,1]", "int64[4]"]));

    [Fact]
    public void WhereBroadcastsAllThreeAndTakesTheValuesType() =>
        Assert.Equal("double[N,2,3]", One("Where", ["bool[N,1,3]", "double[2,1]", "double[]"]));

    [Fact]
    public void VariadicSumBroadcastsEveryInput() =>
        Assert.Equal("float[4,N,3]", One("Sum", ["float[N,1]", "float[4,1,1]", "float[3]"]));

    [Fact]
    public void PowKeepsTheBaseType() => Assert.Equal("float16[2]", One("Pow", ["float16[2]", "float[]"]));

    [Fact]
    public void PReluHasTheShapeOfX() => Assert.Equal("float[N,8,4,4]", One("PRelu", ["float[N,8,4,4]", "float[8,1,1]"]));
}
