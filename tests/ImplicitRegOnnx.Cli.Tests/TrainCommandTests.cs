using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using ImplicitRegOnnx.TestSupport;
using ImplicitRegOnnx.Runtime.Training;

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

    /// <summary>The weights of the uninterrupted run, computed once for the tests that compare with it.</summary>
    private static readonly Lazy<byte[][]> Straight = new(() =>
    {
        using var temp = new TempDirectory();
        var run = CliRunner.Run("train", "--epochs", "60", "--threads", "1", "--export", temp.File("straight.onnx"));
        Assert.True(run.ExitCode == 0, run.Stderr);
        return Weights(temp.File("straight.onnx"));
    });

    /// <summary>Starts <c>implicitreg train</c> in a child process and waits until it has written <paramref name="checkpoints"/> checkpoints.</summary>
    private System.Diagnostics.Process StartAndWait(string dir, string export, int checkpoints)
    {
        var cli = Path.Combine(AppContext.BaseDirectory, "implicitreg.dll");
        var start = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in Args(dir, export).Prepend(cli))
        {
            start.ArgumentList.Add(arg);
        }
        var process = System.Diagnostics.Process.Start(start)!;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (Checkpoints(dir).Count < checkpoints && !process.HasExited && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(5);
        }
        return process;
    }

    /// <summary>A run killed with SIGKILL resumes from its last checkpoint and ends where an uninterrupted run ends.</summary>
    [Fact]
    public void AKilledRunResumesAndEndsBitIdentical()
    {
        bool killed;
        using (var process = StartAndWait("killed", "killed.onnx", 2))
        {
            killed = !process.HasExited;
            if (killed)
            {
                process.Kill(entireProcessTree: true); // SIGKILL on Linux
            }
            process.WaitForExit();
        }
        Assert.True(killed, "the run ended before it could be killed");
        Assert.NotEmpty(Checkpoints("killed"));

        var resumed = CliRunner.Run([.. Args("killed", "killed.onnx"), "--resume", "--summary-json", _temp.File("s.json")]);
        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
        var summary = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(_temp.File("s.json")))!;
        Assert.InRange((long)summary["resumed_from_step"]!, 1, (long)summary["steps"]! - 1);
        Assert.All(Straight.Value.Zip(Weights(_temp.File("killed.onnx"))), p => Assert.Equal(p.First, p.Second));
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    /// <summary>
    /// Ctrl+C: the run finishes its step, writes a checkpoint of that step (between the --checkpoint-every ones),
    /// says where, exits 130; --resume then ends where an uninterrupted run ends.
    /// </summary>
    [SkippableFact]
    public void SigintStopsAfterTheStepWithACheckpointExits130AndResumesBitIdentical()
    {
        Skip.IfNot(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), "sends SIGINT through libc kill(2)");
        int exitCode;
        string stderr;
        using (var process = StartAndWait("interrupted", "interrupted.onnx", 1))
        {
            Assert.False(process.HasExited, "the run ended before it could be interrupted");
            var errors = process.StandardError.ReadToEndAsync();
            _ = process.StandardOutput.ReadToEndAsync();
            Assert.Equal(0, Kill(process.Id, 2)); // SIGINT
            Assert.True(process.WaitForExit(60_000), "still running 60 s after SIGINT");
            exitCode = process.ExitCode;
            stderr = errors.Result;
        }
        Assert.True(exitCode == 130, stderr);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("implicitreg: error: ", StringComparison.Ordinal));
        var match = System.Text.RegularExpressions.Regex.Match(line, @"training cancelled after step (\d+); checkpoint (\S+checkpoint-(\d+)\.ckpt); continue with --resume");
        Assert.True(match.Success, line);
        Assert.Equal(match.Groups[1].Value, long.Parse(match.Groups[3].Value, System.Globalization.CultureInfo.InvariantCulture).ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(File.Exists(match.Groups[2].Value), match.Groups[2].Value);
        Assert.Equal(Path.GetFileName(match.Groups[2].Value), Path.GetFileName(Checkpoints("interrupted")[^1]));

        var resumed = CliRunner.Run([.. Args("interrupted", "interrupted.onnx"), "--resume", "--summary-json", _temp.File("s.json")]);
        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
        var summary = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(_temp.File("s.json")))!;
        Assert.Equal(long.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), (long)summary["resumed_from_step"]!);
        Assert.All(Straight.Value.Zip(Weights(_temp.File("interrupted.onnx"))), p => Assert.Equal(p.First, p.Second));
    }

    private IReadOnlyList<string> Checkpoints(string dir) =>
        Directory.Exists(_temp.File(dir)) ? [.. Directory.GetFiles(_temp.File(dir), "checkpoint-*.ckpt").Order(StringComparer.Ordinal)] : [];

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
