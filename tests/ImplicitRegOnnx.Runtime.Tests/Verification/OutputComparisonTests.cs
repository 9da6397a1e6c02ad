using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Runtime.Verification;

namespace ImplicitRegOnnx.Runtime.Tests.Verification;

public class OutputComparisonTests
{
    private static RunOutput Floats(params float[] values) => new("y", Tensor.FromArray(values, [values.Length], "y"), null);

    [Fact]
    public void FloatsWithinRelativePlusAbsoluteToleranceAreEqual()
    {
        Assert.Empty(OutputComparison.Differences([Floats(1000f, 0f)], [Floats(1000.009f, 9e-7f)]));
        Assert.Single(OutputComparison.Differences([Floats(1000f, 0f)], [Floats(1000.02f, 0f)]));
        Assert.Single(OutputComparison.Differences([Floats(1f, 0f)], [Floats(1f, 2e-6f)]));
    }

    [Fact]
    public void NanMatchesNanAndInfinityMatchesInfinity()
    {
        Assert.Empty(OutputComparison.Differences([Floats(float.NaN, float.PositiveInfinity)], [Floats(float.NaN, float.PositiveInfinity)]));
        Assert.Single(OutputComparison.Differences([Floats(float.NaN)], [Floats(0f)]));
        Assert.Single(OutputComparison.Differences([Floats(float.PositiveInfinity)], [Floats(float.NegativeInfinity)]));
    }

    [Fact]
    public void ShapeTypeAndIntegerChangesAreDifferences()
    {
        var ints = new RunOutput("y", Tensor.FromArray(new long[] { 1, 2 }, [2], "y"), null);
        var otherInts = new RunOutput("y", Tensor.FromArray(new long[] { 1, 3 }, [2], "y"), null);
        var reshaped = new RunOutput("y", Tensor.FromArray(new long[] { 1, 2 }, [1, 2], "y"), null);

        Assert.Single(OutputComparison.Differences([ints], [otherInts]));
        Assert.Single(OutputComparison.Differences([ints], [reshaped]));
        Assert.Single(OutputComparison.Differences([ints], [Floats(1f, 2f)]));
        Assert.Single(OutputComparison.Differences([ints], []));
    }
}
