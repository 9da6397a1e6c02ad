using System.Text.Json.Nodes;
using ImplicitRegOnnx.TestSupport;

namespace ImplicitRegOnnx.Cli.Tests;

public sealed class TrainCommandTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void TheEmbeddedDefaultReaches95PercentOnHeldOutDigits()
    {
        var summaryPath = _temp.File("summary.json");
        var metricsPath = _temp.File("metrics.jsonl");
        var exportPath = _temp.File("trained.onnx");

        var run = CliRunner.Run("train", "--summary-json", summaryPath, "--metrics", metricsPath, "--export", exportPath);

        Assert.True(run.ExitCode == 0, run.Stderr);
        var summary = JsonNode.Parse(File.ReadAllText(summaryPath))!;
        Assert.True((double)summary["test_accuracy"]! >= 0.95, $"test accuracy {summary["test_accuracy"]}");
        foreach (var key in new[] { "test_loss", "train_loss", "penalty", "epochs_completed", "steps", "resumed_from_step", "seconds", "device" })
        {
            Assert.NotNull(summary[key]);
        }
        Assert.Equal(30, (int)summary["epochs_completed"]!);
        Assert.Equal(0, (int)summary["resumed_from_step"]!);
        Assert.True((double)summary["penalty"]! > 0);
        var lines = File.ReadAllLines(metricsPath);
        Assert.Equal((int)summary["steps"]! + 30, lines.Length);
        Assert.True(File.Exists(exportPath));
        Assert.Equal(0, CliRunner.Run("inspect", exportPath).ExitCode);
    }

    [Fact]
    public void TrainsAModelOnNpzData()
    {
        var data = _temp.File("d.npz");
        var rng = new Random(3);
        var x = Enumerable.Range(0, 64 * 64).Select(_ => (float)rng.NextDouble()).ToArray();
        var y = Enumerable.Range(0, 64).Select(i => (long)(i % 10)).ToArray();
        Onnx.Numpy.NpzArchive.Write(data, [new("x", Onnx.Tensor.FromArray(x, [64, 64], "x")), new("y", Onnx.Tensor.FromArray(y, [64], "y"))]);

        var run = CliRunner.Run("train", TestPaths.Model("mlp_tanh.onnx"), "--data", data, "--epochs", "2", "--batch-size", "16", "--optimizer", "adam", "--lr", "0.01");

        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains("epoch 2/2", run.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--lr", "-1", "--lr")]
    [InlineData("--lr-schedule", "wavy", "--lr-schedule")]
    [InlineData("--optimizer", "rmsprop", "--optimizer")]
    [InlineData("--penalty", "approximate", "--penalty")]
    public void BadOptionsAreUsageErrors(string option, string value, string words)
    {
        var run = CliRunner.Run("train", option, value);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains(words, Assert.Single(run.StderrLines), StringComparison.Ordinal);
    }

    [Fact]
    public void AModelWithoutDataIsAUsageError()
    {
        var run = CliRunner.Run("train", TestPaths.Model("mlp_tanh.onnx"));
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("--data", Assert.Single(run.StderrLines), StringComparison.Ordinal);
    }
}

public sealed class TrainResumeTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private string[] Args(string dir, string export, params string[] extra) =>
        ["train", "--epochs", "60", "--threads", "1", "--checkpoint-dir", _temp.File(dir), "--checkpoint-every", "10", "--export", _temp.File(export), .. extra];

    private static byte[][] Weights(string path) =>
        [.. Onnx.Model.Load(path).Graph.Initializers.Select(v => v.Initializer!.RawBytes.ToArray())];

    /// <summary>A run killed with SIGKILL resumes from its last checkpoint and ends where an uninterrupted run ends.</summary>
    [Fact]
    public void AKilledRunResumesAndEndsBitIdentical()
    {
        Assert.Equal(0, CliRunner.Run(Args("straight", "straight.onnx")).ExitCode);

        var cli = Path.Combine(AppContext.BaseDirectory, "implicitreg.dll");
        var start = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in Args("killed", "killed.onnx").Prepend(cli))
        {
            start.ArgumentList.Add(arg);
        }
        bool killed;
        using (var process = System.Diagnostics.Process.Start(start)!)
        {
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (Checkpoints().Count < 2 && !process.HasExited && DateTime.UtcNow < deadline)
            {
                Thread.Sleep(5);
            }
            killed = !process.HasExited;
            if (killed)
            {
                process.Kill(entireProcessTree: true); // SIGKILL on Linux
            }
            process.WaitForExit();
        }
        Assert.True(killed, "the run ended before it could be killed");
        Assert.NotEmpty(Checkpoints());

        var resumed = CliRunner.Run([.. Args("killed", "killed.onnx"), "--resume", "--summary-json", _temp.File("s.json")]);
        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
        var summary = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(_temp.File("s.json")))!;
        Assert.InRange((long)summary["resumed_from_step"]!, 1, (long)summary["steps"]! - 1);
        Assert.All(Weights(_temp.File("straight.onnx")).Zip(Weights(_temp.File("killed.onnx"))), p => Assert.Equal(p.First, p.Second));
    }

    private IReadOnlyList<string> Checkpoints() =>
        Directory.Exists(_temp.File("killed")) ? Directory.GetFiles(_temp.File("killed"), "checkpoint-*.ckpt") : [];

    [Fact]
    public void ResumeWithoutADirectoryAndForeignCheckpointsAreUsageErrors()
    {
        var run = CliRunner.Run("train", "--resume");
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("--checkpoint-dir", Assert.Single(run.StderrLines), StringComparison.Ordinal);

        Assert.Equal(0, CliRunner.Run("train", "--epochs", "1", "--checkpoint-dir", _temp.File("c")).ExitCode);
        var foreign = CliRunner.Run("train", "--epochs", "1", "--lr", "0.2", "--checkpoint-dir", _temp.File("c"), "--resume");
        Assert.Equal(2, foreign.ExitCode);
        Assert.Contains("another model or configuration", Assert.Single(foreign.StderrLines), StringComparison.Ordinal);
    }
}

public class TrainDeviceTests
{
    [Fact]
    public void ExplicitCudaFailsCleanlyWhereItCannotLoad()
    {
        var cudaWorks = Runtime.Devices.TryCuda(0) is null;
        var run = CliRunner.Run("train", "--device", "cuda", "--epochs", "1");
        if (cudaWorks)
        {
            Assert.Equal(0, run.ExitCode);
            Assert.Contains("device cuda:0", run.Stdout, StringComparison.Ordinal);
        }
        else
        {
            Assert.Equal(2, run.ExitCode);
            var line = Assert.Single(run.StderrLines);
            Assert.Contains("CUDA execution provider cannot be used", line, StringComparison.Ordinal);
            var providerShipped = File.Exists(Path.Combine(AppContext.BaseDirectory, "libonnxruntime_providers_cuda.so"))
                || File.Exists(Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libonnxruntime_providers_cuda.so"));
            if (OperatingSystem.IsLinux() && !providerShipped)
            {
                // The CPU build: the reason says the provider library is not there at all.
                Assert.Contains("has no libonnxruntime_providers_cuda.so", line, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public void AutoSaysWhichDeviceItChose()
    {
        var run = CliRunner.Run("train", "--device", "auto", "--epochs", "1");
        Assert.Equal(0, run.ExitCode);
        Assert.Matches("device (cpu|cuda:0)", run.Stdout);
    }
}

public sealed class EvalCommandTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void EvaluatesATrainedModelOnData()
    {
        var trained = _temp.File("t.onnx");
        Assert.Equal(0, CliRunner.Run("train", "--epochs", "10", "--export", trained).ExitCode);
        var untrained = CliRunner.Run("eval", TestPaths.Model("mlp_tanh.onnx"), "--data", TestPaths.Model("data/digits.csv.gz"), "--normalize", "scale:16");
        var run = CliRunner.Run("eval", trained, "--data", TestPaths.Model("data/digits.csv.gz"), "--normalize", "scale:16");
        Assert.True(run.ExitCode == 0, run.Stderr);
        static double Accuracy(string text) => double.Parse(System.Text.RegularExpressions.Regex.Match(text, @"accuracy ([0-9.]+)%").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains("1797 examples", run.Stdout, StringComparison.Ordinal);
        Assert.True(Accuracy(run.Stdout) > 90, run.Stdout);
        Assert.True(Accuracy(untrained.Stdout) < 50, untrained.Stdout);
    }
}
