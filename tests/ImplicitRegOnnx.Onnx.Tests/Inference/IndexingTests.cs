using static ImplicitRegOnnx.Onnx.Tests.Inference.InferenceHarness;

namespace ImplicitRegOnnx.Onnx.Tests.Inference;

public class IndexingTests
{
    public static TheoryData<string, long[], long[], long[]?, long[]?, string> SliceCases => new()
    {
        { "float[10,N]", [2], [7], [0], null, "float[5,N]" },
        { "float[10,N]", [-3], [long.MaxValue], [0], null, "float[3,N]" },
        { "float[10,N]", [1], [-1], null, null, "float[8,N]" },
        { "float[10,N]", [0], [100], [-2], [3], "float[4,N]" },
        { "float[10,N]", [-1], [long.MinValue], [0], [-1], "float[10,N]" },
        { "float[10,N]", [8], [2], [0], [-2], "float[3,N]" },
        { "float[10,N]", [20], [30], [0], null, "float[0,N]" },
        { "float[10,N]", [-100], [3], [0], null, "float[3,N]" },
        { "float[10,N]", [0], [long.MaxValue], [1], null, "float[10,N]" },
        { "float[10,N]", [0], [5], [1], null, "float[10,?]" },
        { "float[10,N]", [-1], [long.MinValue], [1], [-1], "float[10,N]" },
        { "float[10,N,3]", [1, 1], [3, 2], [0, 2], null, "float[2,N,1]" },
    };

    [Theory]
    [MemberData(nameof(SliceCases))]
    public void SliceWithConstantParameters(string x, long[] starts, long[] ends, long[]? axes, long[]? steps, string expected) =>
        Assert.Equal(expected, One("Slice", [x, Ints(starts), Ints(ends), axes is null ? null : Ints(axes), steps is null ? null : Ints(steps)]));

    [Fact]
    public void SliceBeforeOpset10UsesAttributes() =>
        Assert.Equal("float[10,2]", Run("Slice", ["float[10,8]"], [Attribute.Ints("starts", [1]), Attribute.Ints("ends", [3]), Attribute.Ints("axes", [1])], opset: 9)[0]);

    [Fact]
    public void SliceWithUnknownStartsKeepsOnlyUntouchedAxes() =>
        Assert.Equal("float[?,N]", One("Slice", ["float[10,N]", "int64[1]", Ints(5), Ints(0)]));

    [Theory]
    [InlineData(0, "float[100,16]", "int64[N,S]", "float[N,S,16]")]
    [InlineData(1, "float[N,S,16]", "int64[]", "float[N,16]")]
    [InlineData(-1, "float[N,S,16]", "int64[2]", "float[N,S,2]")]
    public void GatherReplacesTheAxisWithTheIndicesShape(long axis, string data, string indices, string expected) =>
        Assert.Equal(expected, One("Gather", [data, indices], Attribute.Int("axis", axis)));

    [Fact]
    public void GatherElementsAndGatherND()
    {
        Assert.Equal("float[N,2]", One("GatherElements", ["float[N,5]", "int64[N,2]"]));
        Assert.Equal("float[N,3,4]", One("GatherND", ["float[5,6,4]", "int64[N,3,2]"]));
        Assert.Equal("float[N,4]", One("GatherND", ["float[N,6,4]", "int64[N,1]"], Attribute.Int("batch_dims", 1)));
    }

    [Fact]
    public void OneHotTopKNonZero()
    {
        Assert.Equal("float[N,10]", One("OneHot", ["int64[N]", Scalar(10), "float[2]"]));
        Assert.Equal(["float[N,3]", "int64[N,3]"], Run("TopK", ["float[N,10]", Ints(3)], outputs: 2));
        Assert.Equal("int64[2,?]", One("NonZero", ["float[N,3]"]));
    }
}
