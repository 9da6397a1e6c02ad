using System.Text.Json.Nodes;
using ImplicitRegOnnx.Runtime.Data;
using ImplicitRegOnnx.TestSupport;

namespace ImplicitRegOnnx.Cli.Tests;

/// <summary><c>train</c> on the step model <c>rewrite</c> wrote, and the trainer options of the command.</summary>
public sealed class TrainStepModelTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public TrainStepModelTests()
    {
        var (train, test) = DigitsData.Load(TestPaths.Model("data/digits.csv.gz"));
        Write("train.npz", train.Take(640));
        Write("test.npz", test);
    }

    public void Dispose() => _temp.Dispose();

    private void Write(string name, Dataset d) => Onnx.Numpy.NpzArchive.Write(_temp.File(name),
        [new("x", d.Features.WithName("x")), new("y", d.Labels.WithName("y"))]);

    private string[] Common(params string[] extra) =>
        [.. extra.Contains("--epochs") ? Array.Empty<string>() : ["--epochs", "3"], "--data", _temp.File("train.npz"), "--test-data", _temp.File("test.npz"), "--lr", "0.05", "--threads", "1", "--optimizer", "momentum", .. extra];

    private static byte[][] Weights(string path) =>
        [.. Onnx.Model.Load(path).Graph.Initializers.Select(v => v.Initializer!.RawBytes.ToArray())];

    [Fact]
    public void TheRewrittenStepModelTrainsExactlyAsTheInferenceModelDoes()
    {
        var rewrite = CliRunner.Run("rewrite", TestPaths.Model("mlp_tanh.onnx"), "-o", _temp.File("m.train.onnx"), "--loss", "cross-entropy",
            "--lambda", "0.05", "--microbatches", "2", "--optimizer", "momentum", "--eval-out", _temp.File("m.eval.onnx"));
        Assert.True(rewrite.ExitCode == 0, rewrite.Stderr);

        var fromStep = CliRunner.Run(["train", _temp.File("m.train.onnx"), .. Common("--export", _temp.File("a.onnx"), "--summary-json", _temp.File("a.json"))]);
        Assert.True(fromStep.ExitCode == 0, fromStep.Stderr);
        Assert.Contains("c = ε(t)/4, n = 2", fromStep.Stdout, StringComparison.Ordinal);
        var fromInference = CliRunner.Run(["train", TestPaths.Model("mlp_tanh.onnx"), .. Common("--export", _temp.File("b.onnx"), "--summary-json", _temp.File("b.json"))]);
        Assert.True(fromInference.ExitCode == 0, fromInference.Stderr);

        // Same graph, same feeds, one thread: the same weights to the bit, and the same test metrics.
        Assert.All(Weights(_temp.File("a.onnx")).Zip(Weights(_temp.File("b.onnx"))), p => Assert.Equal(p.First, p.Second));
        var a = JsonNode.Parse(File.ReadAllText(_temp.File("a.json")))!;
        var b = JsonNode.Parse(File.ReadAllText(_temp.File("b.json")))!;
        Assert.Equal((double)b["test_loss"]!, (double)a["test_loss"]!);
        Assert.True((double)a["test_accuracy"]! > 0.85, $"test accuracy {a["test_accuracy"]}");

        // The export is an ordinary inference model.
        var eval = CliRunner.Run("eval", _temp.File("a.onnx"), "--data", _temp.File("test.npz"));
        Assert.True(eval.ExitCode == 0, eval.Stderr);
    }

    [Fact]
    public void FilesBesideAStepModelAreNotTrainedAndSaySo()
    {
        Assert.Equal(0, CliRunner.Run("rewrite", TestPaths.Model("mlp_tanh.onnx"), "-o", _temp.File("T.onnx"), "--loss", "cross-entropy", "--lambda", "0.05").ExitCode);

        var init = CliRunner.Run(["train", _temp.File("T.init.onnx"), .. Common()]);
        Assert.Equal(2, init.ExitCode);
        Assert.Contains("an initial-state model", Assert.Single(init.StderrLines), StringComparison.Ordinal);

        // No evaluation model beside it: the test data cannot be evaluated, and that is said before training.
        var noEval = CliRunner.Run(["train", _temp.File("T.onnx"), .. Common()]);
        Assert.Equal(2, noEval.ExitCode);
        Assert.Contains("--eval-out", Assert.Single(noEval.StderrLines), StringComparison.Ordinal);
        var withoutTest = CliRunner.Run("train", _temp.File("T.onnx"), "--data", _temp.File("train.npz"), "--epochs", "1");
        Assert.True(withoutTest.ExitCode == 0, withoutTest.Stderr);
    }

    [Fact]
    public void EarlyStoppingAndKeepBestFromTheCommandLine()
    {
        var run = CliRunner.Run(["train", TestPaths.Model("mlp_tanh.onnx"), .. Common("--epochs", "8", "--monitor", "train_loss:max", "--patience", "1",
            "--keep-best", _temp.File("best.onnx"), "--summary-json", _temp.File("s.json"))]);
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains("stopped: early stopping: train_loss", run.Stdout, StringComparison.Ordinal);
        var summary = JsonNode.Parse(File.ReadAllText(_temp.File("s.json")))!;
        Assert.Equal(2, (int)summary["epochs_completed"]!);
        Assert.StartsWith("early stopping", (string)summary["stop_reason"]!, StringComparison.Ordinal);
        Assert.True(File.Exists(_temp.File("best.onnx")));

        var bad = CliRunner.Run(["train", TestPaths.Model("mlp_tanh.onnx"), .. Common("--monitor", "accuracy")]);
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("--monitor", Assert.Single(bad.StderrLines), StringComparison.Ordinal);
    }
}
