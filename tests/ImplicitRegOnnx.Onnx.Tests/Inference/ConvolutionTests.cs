using static ImplicitRegOnnx.Onnx.Tests.Inference.InferenceHarness;

namespace ImplicitRegOnnx.Onnx.Tests.Inference;

public class ConvolutionTests
{
    private static Attribute Ints(string name, params long[] values) => Attribute.Ints(name, values);

    public static TheoryData<string, string, Attribute[], string> ConvCases => new()
    {
        { "float[N,3,32,32]", "float[16,3,3,3]", [], "float[N,16,30,30]" },
        { "float[N,3,32,32]", "float[16,3,3,3]", [Ints("pads", 1, 1, 1, 1)], "float[N,16,32,32]" },
        { "float[N,3,32,32]", "float[16,3,3,3]", [Ints("pads", 1, 1, 1, 1), Ints("strides", 2, 2)], "float[N,16,16,16]" },
        { "float[N,3,7,9]", "float[8,3,3,3]", [Ints("strides", 2, 3), Ints("dilations", 2, 1)], "float[N,8,2,3]" },
        { "float[N,3,7,9]", "float[8,3,3,3]", [Ints("pads", 0, 1, 2, 3)], "float[N,8,7,11]" },
        { "float[N,3,7,9]", "float[8,3,3,3]", [Attribute.String("auto_pad", "SAME_UPPER"), Ints("strides", 2, 2)], "float[N,8,4,5]" },
        { "float[N,3,7,9]", "float[8,3,3,3]", [Attribute.String("auto_pad", "SAME_LOWER"), Ints("strides", 3, 1)], "float[N,8,3,9]" },
        { "float[N,3,7,9]", "float[8,3,3,3]", [Attribute.String("auto_pad", "VALID"), Ints("strides", 2, 2)], "float[N,8,3,4]" },
        { "float[N,4,H,W]", "float[8,2,3,3]", [Attribute.Int("group", 2)], "float[N,8,?,?]" },
        { "float[N,3,10]", "float[5,3,4]", [], "float[N,5,7]" },
        { "float", "float[8,3,3,3]", [], "float[?,8,?,?]" },
        { "float[N,3,8,8]", "float", [Ints("kernel_shape", 3, 3)], "float[N,?,6,6]" },
        { "float[N,3,8,8]", "float", [], "float[N,?,?,?]" },
    };

    [Theory]
    [MemberData(nameof(ConvCases))]
    public void ConvOutputSize(string x, string w, Attribute[] attributes, string expected) =>
        Assert.Equal(expected, One("Conv", [x, w], attributes));

    public static TheoryData<string, string, Attribute[], string> ConvTransposeCases => new()
    {
        { "float[N,8,4,4]", "float[8,3,3,3]", [], "float[N,3,6,6]" },
        { "float[N,8,4,4]", "float[8,3,3,3]", [Ints("strides", 2, 2)], "float[N,3,9,9]" },
        { "float[N,8,4,4]", "float[8,3,3,3]", [Ints("strides", 2, 2), Ints("pads", 1, 1, 1, 1), Ints("output_padding", 1, 1)], "float[N,3,8,8]" },
        { "float[N,8,4,5]", "float[8,3,3,3]", [Ints("strides", 2, 2), Attribute.String("auto_pad", "SAME_UPPER")], "float[N,3,8,10]" },
        { "float[N,8,4,4]", "float[8,3,3,3]", [Ints("strides", 2, 2), Ints("output_shape", 10, 9)], "float[N,3,10,9]" },
        { "float[N,8,4,4]", "float[8,2,3,3]", [Attribute.Int("group", 4)], "float[N,8,6,6]" },
        { "float[N,8,H,4]", "float[8,3,3,3]", [], "float[N,3,?,6]" },
    };

    [Theory]
    [MemberData(nameof(ConvTransposeCases))]
    public void ConvTransposeOutputSize(string x, string w, Attribute[] attributes, string expected) =>
        Assert.Equal(expected, One("ConvTranspose", [x, w], attributes));
}
