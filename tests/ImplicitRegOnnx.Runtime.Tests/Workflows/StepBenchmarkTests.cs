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

    [Fact]
    public void BenchStepOptionsScaleThePenaltyOnlyWhenThereIsOne()
    {
        var exact = BenchOptions.StepFor(LossKind.Mse, PenaltyMode.Exact, 4);
        Assert.Equal((LossKind.Mse, PenaltyMode.Exact, 0.025, 4), (exact.Gradient.Loss, exact.Gradient.Penalty.Mode, exact.Gradient.Penalty.Coefficient, exact.Gradient.Penalty.Microbatches));
        Assert.Equal(0, BenchOptions.StepFor(LossKind.CrossEntropy, PenaltyMode.None).Gradient.Penalty.Coefficient);
        Assert.Same(OrtConstantEvaluator.Instance, exact.ConstantEvaluator);
    }

    [Fact]
    public void TheReportHasTheSnakeCaseNamesAndTheStepMemoryOnlyWhereKnown()
    {
        var known = new BenchResult("m.onnx", PenaltyMode.FiniteDifference, 16, 1, "cpu", [0.1, 0.2, 0.3, 0.4, 0.5], 1.234567, 10, 40, 123.456, 100.04, 20.06, [], 0.123456);
        var json = System.Text.Json.Nodes.JsonNode.Parse(known.Report().ToJson())!.AsObject();
        Assert.Equal(["model", "penalty", "batch", "threads", "device", "steps", "median_step_s", "p10_step_s", "p90_step_s", "cpu_step_s", "build_s",
            "forward_nodes", "step_nodes", "peak_memory_mb", "step_peak_memory_mb", "step_added_memory_mb"], json.Select(p => p.Key));
        Assert.Equal("finite-difference", (string?)json["penalty"]);
        Assert.Equal((0.3, 0.1, 0.5), ((double)json["median_step_s"]!, (double)json["p10_step_s"]!, (double)json["p90_step_s"]!));
        Assert.Equal((1.2346, 0.1235, 123.5, 100.0, 20.1), ((double)json["build_s"]!, (double)json["cpu_step_s"]!, (double)json["peak_memory_mb"]!,
            (double)json["step_peak_memory_mb"]!, (double)json["step_added_memory_mb"]!));
        var unknown = System.Text.Json.Nodes.JsonNode.Parse((known with { StepPeakMemoryMb = null }).Report().ToJson())!.AsObject();
        Assert.False(unknown.ContainsKey("step_peak_memory_mb"));
        Assert.False(unknown.ContainsKey("step_added_memory_mb"));
    }
}
