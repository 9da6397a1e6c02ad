using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Runtime.Verification;
using ImplicitRegOnnx.TestSupport;

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

    [Fact]
    public void ToleranceFollowsTheLeastPreciseFloatTypeOfTheModel()
    {
        Assert.Equal(new Tolerance(), Tolerance.ForModel(Onnx.Model.Load(TestPaths.Model("mlp_tanh.onnx"))));

        // dtypes.onnx holds float16 and bfloat16 tensors: bfloat16 (epsilon 2^-7) is the least precise.
        var mixed = Tolerance.ForModel(Onnx.Model.Load(TestPaths.Model("dtypes.onnx")));
        Assert.Equal(new Tolerance(4 * Math.Pow(2, -7), Math.Pow(2, -7)), mixed);

        var half = new Onnx.Graph();
        var x = half.AddInput("x", new Onnx.TensorType(Onnx.ElementType.Float, new Onnx.Shape(2)));
        var cast = half.Append(new Onnx.Node("", "Cast", [x], ["y"], [Onnx.Attribute.Int("to", (long)Onnx.ElementType.Float16)]));
        half.Outputs.Add(cast.Output);
        Assert.Equal(new Tolerance(4 * Math.Pow(2, -10), Math.Pow(2, -10)), Tolerance.ForModel(new Onnx.Model(half)));
    }
}
