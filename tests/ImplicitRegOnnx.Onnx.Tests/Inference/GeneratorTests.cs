using static ImplicitRegOnnx.Onnx.Tests.Inference.InferenceHarness;

namespace ImplicitRegOnnx.Onnx.Tests.Inference;

public class GeneratorTests
{
    public static TheoryData<Attribute, string> ConstantCases => new()
    {
        { Attribute.FromTensor("value", Tensor.FromArray(new float[6], [2, 3])), "float[2,3]" },
        { Attribute.Float("value_float", 1.5f), "float[]" },
        { Attribute.Int("value_int", 3), "int64[]" },
        { Attribute.Floats("value_floats", [1, 2]), "float[2]" },
        { Attribute.Ints("value_ints", [1, 2, 3]), "int64[3]" },
    };

    [Theory]
    [MemberData(nameof(ConstantCases))]
    public void ConstantTakesTheTypeOfItsValue(Attribute value, string expected) => Assert.Equal(expected, One("Constant", [], value));

    [Fact]
    public void ConstantOfShape()
    {
        Assert.Equal("float[2,3]", One("ConstantOfShape", [Ints(2, 3)]));
        Assert.Equal("int64[?,?]", One("ConstantOfShape", ["int64[2]"], Attribute.FromTensor("value", Tensor.FromArray(new long[] { 1 }, [1]))));
    }

    [Fact]
    public void RangeWithConstants()
    {
        Assert.Equal("int64[4]", One("Range", [Scalar(0), Scalar(10), Scalar(3)]));
        Assert.Equal("int64[0]", One("Range", [Scalar(5), Scalar(1), Scalar(1)]));
        Assert.Equal("float[4]", One("Range", [Tensor.Scalar(1f), Tensor.Scalar(3f), Tensor.Scalar(0.5f)]));
        Assert.Equal("int64[?]", One("Range", [Scalar(0), "int64[]", Scalar(1)]));
    }
}
