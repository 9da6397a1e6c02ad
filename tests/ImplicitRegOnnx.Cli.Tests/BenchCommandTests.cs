using System.Text.Json.Nodes;
using ImplicitRegOnnx.TestSupport;

namespace ImplicitRegOnnx.Cli.Tests;

public class BenchCommandTests
{
    [Theory]
    [InlineData("none")]
    [InlineData("exact")]
    [InlineData("finite-difference")]
    public void ReportsStepTimesAndGraphSizes(string penalty)
    {
        var run = CliRunner.Run("bench", TestPaths.Model("mlp_tanh.onnx"), "--batch", "16", "--steps", "3", "--penalty", penalty, "--json", "--threads", "1");
        Assert.True(run.ExitCode == 0, run.Stderr);
        var report = JsonNode.Parse(run.Stdout)!;
        var median = (double)report["median_step_s"]!;
        Assert.True(median > 0 && median <= (double)report["p90_step_s"]! && (double)report["p10_step_s"]! <= median);
        Assert.True((int)report["step_nodes"]! > (int)report["forward_nodes"]!);
        Assert.Equal(penalty, (string?)report["penalty"]);
        Assert.Equal("cpu", (string?)report["device"]);
        if (OperatingSystem.IsLinux())
        {
            // The steps' own peak (after resetting the high-water mark) lies within the process peak.
            var peak = (double)report["peak_memory_mb"]!;
            var stepPeak = (double)report["step_peak_memory_mb"]!;
            var added = (double)report["step_added_memory_mb"]!;
            Assert.True(added >= 0 && added <= stepPeak && stepPeak <= peak, $"{added} / {stepPeak} / {peak}");
        }
    }

    [Fact]
    public void BadUsageExitsTwo()
    {
        Assert.Equal(2, CliRunner.Run("bench", TestPaths.Model("mlp_tanh.onnx"), "--batch", "10", "--microbatches", "3").ExitCode);
        Assert.Equal(2, CliRunner.Run("bench", TestPaths.Model("mlp_tanh.onnx"), "--penalty", "heavy").ExitCode);
    }
}
