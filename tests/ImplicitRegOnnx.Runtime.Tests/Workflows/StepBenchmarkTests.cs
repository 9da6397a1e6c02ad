using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Runtime.Workflows;
using ImplicitRegOnnx.TestSupport;
using ImplicitRegOnnx.Training;

namespace ImplicitRegOnnx.Runtime.Tests.Workflows;

/// <summary>The step benchmark as a C# app calls it (a few steps only: what is checked is the result, not the speed).</summary>
public class StepBenchmarkTests
{
    [Fact]
    public void TimesTheRequestedStepsAndCountsTheNodes()
    {
        var options = new BenchOptions
        {
            Model = TestPaths.Model("mlp_tanh.onnx"),
            Step = new StepModelOptions { Gradient = new GradientModelOptions { Loss = LossKind.CrossEntropy, Penalty = new PenaltyOptions { Coefficient = 0.025, Microbatches = 2 } } },
            Batch = 8,
            Steps = 3,
            WarmupSteps = 1,
            Threads = 1,
        };

        var result = StepBenchmark.Run(options);

        Assert.Equal(3, result.StepSeconds.Count);
        Assert.Equal(result.StepSeconds.Order(), result.StepSeconds);
        Assert.All(result.StepSeconds, t => Assert.True(t > 0));
        Assert.Equal(result.StepSeconds[1], result.MedianStepSeconds);
        Assert.Equal(result.StepSeconds[0], result.Quantile(0));
        Assert.Equal(Model.Load(TestPaths.Model("mlp_tanh.onnx")).Graph.Nodes.Count, result.ForwardNodes);
        Assert.True(result.StepNodes > result.ForwardNodes);
        Assert.Equal("cpu", result.Device);
        Assert.Equal(PenaltyMode.Exact, result.Penalty);
        Assert.True(result.PeakMemoryMb > 0);
    }

    [Theory]
    [InlineData(0, 1, "BenchOptions.Batch")]
    [InlineData(8, 0, "BenchOptions.Steps")]
    [InlineData(9, 1, "BenchOptions.Batch")]   // not divisible by the 2 microbatches
    public void BadCountsNameTheParameter(int batch, int steps, string parameter)
    {
        var options = new BenchOptions
        {
            Model = TestPaths.Model("mlp_tanh.onnx"),
            Step = new StepModelOptions { Gradient = new GradientModelOptions { Penalty = new PenaltyOptions { Coefficient = 0.025, Microbatches = 2 } } },
            Batch = batch,
            Steps = steps,
        };

        Assert.Equal(parameter, Assert.Throws<ImplicitRegException>(() => StepBenchmark.Run(options)).Parameter);
    }
}
