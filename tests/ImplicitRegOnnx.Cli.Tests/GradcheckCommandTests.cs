using System.Text.Json.Nodes;
using ImplicitRegOnnx.TestSupport;

namespace ImplicitRegOnnx.Cli.Tests;

public class GradcheckCommandTests
{
    [Fact]
    public void PassesOnACorrectModelAndPrintsTheWorstError()
    {
        var run = CliRunner.Run("gradcheck", TestPaths.Model("mlp_tanh.onnx"), "--loss", "cross-entropy", "--lambda", "0.1", "--microbatches", "2", "--batch", "4", "--seed", "7");

        Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
        Assert.Contains("worst relative error", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("passed", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("penalty", run.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void JsonListsEveryDirectionalDerivative()
    {
        var run = CliRunner.Run("gradcheck", TestPaths.Model("attention_gelu.onnx"), "--loss", "cross-entropy", "--coefficient", "0.5", "--directions", "2", "--json");

        Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
        var result = JsonNode.Parse(run.Stdout)!;
        Assert.True((bool)result["passed"]!);
        Assert.Equal(9, result["derivatives"]!.AsArray().Count);   // 2 random directions and the gradient's
        Assert.Equal(["loss", "penalty", "objective"], result["derivatives"]!.AsArray().Take(3).Select(d => (string)d!["quantity"]!));
        Assert.True((double)result["max_error"]! <= (double)result["threshold"]!);
    }

    [Fact]
    public void DefaultLossIsMseAndPromotedPaddleWeightsAreChecked()
    {
        var run = CliRunner.Run("gradcheck", TestPaths.RealModel("ppocr-mobile-cls.onnx"), "--promote-constants", "--penalty", "none",
            "--dim", "p2o.DynamicDimension.1=48", "--dim", "p2o.DynamicDimension.2=192", "--batch", "1", "--directions", "2");

        Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
        Assert.Contains("143 parameter tensors", run.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void AModelThatCannotRunAtTheDefaultSizesIsToldToSetDim()
    {
        var run = CliRunner.Run("gradcheck", TestPaths.Model("audio_conv512.onnx"), "--loss", "cross-entropy", "--penalty", "none");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("'audio' [2, 1, 2]", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("samples = 2", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("--dim NAME=SIZE", run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("GradientCheckOptions", run.Stderr, StringComparison.Ordinal);

        var sized = CliRunner.Run("gradcheck", TestPaths.Model("audio_conv512.onnx"), "--loss", "cross-entropy", "--penalty", "none", "--dim", "samples=1024");
        Assert.True(sized.ExitCode == 0, sized.Stdout + sized.Stderr);
    }

    [Fact]
    public void BadUsageExitsTwo()
    {
        Assert.Equal(2, CliRunner.Run("gradcheck", TestPaths.Model("mlp_tanh.onnx"), "--batch", "0").ExitCode);
        Assert.Equal(2, CliRunner.Run("gradcheck", TestPaths.Model("mlp_tanh.onnx"), "--batch", "3", "--microbatches", "2").ExitCode);
        var unsupported = CliRunner.Run("gradcheck", TestPaths.Model("lstm_tiny.onnx"), "--loss", "cross-entropy");
        Assert.Equal(2, unsupported.ExitCode);
        Assert.Contains("LSTM", unsupported.Stderr, StringComparison.Ordinal);
        Assert.Equal(2, CliRunner.Run("gradcheck", "missing.onnx").ExitCode);
    }
}
