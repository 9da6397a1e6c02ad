using static ImplicitRegOnnx.Onnx.Tests.Inference.InferenceHarness;

namespace ImplicitRegOnnx.Onnx.Tests.Inference;

public class PoolingTests
{
    private static Attribute Ints(string name, params long[] values) => Attribute.Ints(name, values);

    public static TheoryData<string, Attribute[], string> PoolCases => new()
    {
        { "float[N,3,8,8]", [Ints("kernel_shape", 2, 2), Ints("strides", 2, 2)], "float[N,3,4,4]" },
        { "float[N,3,7,7]", [Ints("kernel_shape", 2, 2), Ints("strides", 2, 2)], "float[N,3,3,3]" },
        { "float[N,3,7,7]", [Ints("kernel_shape", 2, 2), Ints("strides", 2, 2), Attribute.Int("ceil_mode", 1)], "float[N,3,4,4]" },
        // The last window would start in the end padding: dropped (5 + 1 + 1 - 2 = 5; ceil(5/2)+1 = 4 -> 3).
        { "float[N,3,4,4]", [Ints("kernel_shape", 2, 2), Ints("strides", 2, 2), Ints("pads", 1, 1, 1, 1), Attribute.Int("ceil_mode", 1)], "float[N,3,3,3]" },
        { "float[N,3,7,7]", [Ints("kernel_shape", 3, 3), Ints("pads", 1, 1, 1, 1)], "float[N,3,7,7]" },
        { "float[N,3,7,7]", [Ints("kernel_shape", 3, 3), Attribute.String("auto_pad", "SAME_UPPER"), Ints("strides", 2, 2)], "float[N,3,4,4]" },
        { "float[N,3,7,7]", [Ints("kernel_shape", 3, 3), Attribute.String("auto_pad", "VALID"), Ints("strides", 2, 2)], "float[N,3,3,3]" },
        { "float[N,3,9]", [Ints("kernel_shape", 3), Ints("dilations", 2)], "float[N,3,5]" },
        { "float[N,C,H,W]", [Ints("kernel_shape", 2, 2)], "float[N,C,?,?]" },
        { "float", [Ints("kernel_shape", 2, 2)], "float[?,?,?,?]" },
    };

    [Theory]
    [MemberData(nameof(PoolCases))]
    public void PoolOutputSize(string x, Attribute[] attributes, string expected)
    {
        Assert.Equal(expected, One("MaxPool", [x], attributes));
        Assert.Equal(expected, One("AveragePool", [x], attributes));
    }

    [Fact]
    public void MaxPoolIndicesAreInt64() =>
        Assert.Equal(["float[N,3,4,4]", "int64[N,3,4,4]"], Run("MaxPool", ["float[N,3,8,8]"], [Ints("kernel_shape", 2, 2), Ints("strides", 2, 2)], outputs: 2));

    [Theory]
    [InlineData("GlobalAveragePool", "float[N,16,7,7]", "float[N,16,1,1]")]
    [InlineData("GlobalMaxPool", "float[N,C,H,W,D]", "float[N,C,1,1,1]")]
    [InlineData("GlobalAveragePool", "float", "float")]
    public void GlobalPoolsKeepBatchAndChannels(string op, string x, string expected) => Assert.Equal(expected, One(op, [x]));
}
