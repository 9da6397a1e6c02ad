using static ImplicitRegOnnx.Onnx.Tests.Inference.InferenceHarness;

namespace ImplicitRegOnnx.Onnx.Tests.Inference;

public class LinearTests
{
    [Theory]
    [InlineData("float[2,3]", "float[3,4]", "float[2,4]")]
    [InlineData("float[N,S,8]", "float[8,16]", "float[N,S,16]")]
    [InlineData("float[N,1,5,8]", "float[3,8,2]", "float[N,3,5,2]")]
    [InlineData("float[3]", "float[3,4]", "float[4]")]
    [InlineData("float[N,2,3]", "float[3]", "float[N,2]")]
    [InlineData("float[3]", "float[3]", "float[]")]
    [InlineData("float[N,S,D]", "float[N,D,S]", "float[N,S,S]")]
    [InlineData("float", "float[3,4]", "float")]
    public void MatMulFollowsNumpy(string a, string b, string expected) => Assert.Equal(expected, One("MatMul", [a, b]));

    [Fact]
    public void MatMulWithMismatchedInnerSizesInfersNothing() => Assert.Equal("", One("MatMul", ["float[2,3]", "float[4,5]"]));

    [Theory]
    [InlineData(0, 0, "float[N,64]", "float[64,10]", "float[N,10]")]
    [InlineData(0, 1, "float[N,64]", "float[10,64]", "float[N,10]")]
    [InlineData(1, 0, "float[64,N]", "float[64,10]", "float[N,10]")]
    [InlineData(1, 1, "float[64,N]", "float[10,64]", "float[N,10]")]
    [InlineData(0, 1, "float", "float[10,64]", "float[?,10]")]
    public void GemmHonoursTransposeFlags(long transA, long transB, string a, string b, string expected) =>
        Assert.Equal(expected, One("Gemm", [a, b, "float[10]"], Attribute.Int("transA", transA), Attribute.Int("transB", transB)));

    [Theory]
    [InlineData("ij,jk->ik", "float[2,3]", "float[3,4]", "float[2,4]")]
    [InlineData("bij,bjk->bik", "float[N,2,3]", "float[N,3,4]", "float[N,2,4]")]
    [InlineData("ij,jk", "float[2,3]", "float[3,4]", "float[2,4]")]
    [InlineData("...ij,...jk->...ik", "float[N,2,3]", "float[3,4]", "float[N,2,4]")]
    [InlineData("ij,ij->", "float[2,3]", "float[2,3]", "float[]")]
    [InlineData("ij,kj->ik", "float", "float[4,3]", "")]
    public void EinsumFollowsTheEquation(string equation, string a, string b, string expected) =>
        Assert.Equal(expected, One("Einsum", [a, b], Attribute.String("equation", equation)));
}
