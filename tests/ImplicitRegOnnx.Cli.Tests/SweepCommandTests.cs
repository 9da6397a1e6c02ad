using System.Text;
using ImplicitRegOnnx.Runtime.Experiments;
using ImplicitRegOnnx.TestSupport;

namespace ImplicitRegOnnx.Cli.Tests;

public sealed class SweepCommandTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private static string Slice(string name) => Path.Combine(TestPaths.Models, "data", "fashion-mnist-slice", name);

    private string[] SliceSweep(params string[] more) =>
    [
        "sweep", TestPaths.Model("mlp_relu.onnx"),
        "--data", Slice("train-images-idx3-ubyte.gz"), "--test-data", Slice("t10k-images-idx3-ubyte.gz"),
        "--normalize", "scale", "--train-size", "256", "--test-size", "200", "--out-dir", _temp.File("out"),
        "--batch-size", "32", "--optimizer", "sgd", "--penalty", "none", .. more,
    ];

    [Fact]
    public void SweepsTheFashionMnistSliceWritesResultsAndPlotsAndResumes()
    {
        var run = CliRunner.Run(SliceSweep("--epochs", "2", "--lr", "0.05,0.2", "--seed", "1,2", "--parallel", "2"));

        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains("sweep: 4 runs", run.Stdout, StringComparison.Ordinal);
        var folder = _temp.File("out");
        var csv = File.ReadAllLines(Path.Combine(folder, "results.csv"));
        Assert.Equal(5, csv.Length);
        Assert.Equal(4, File.ReadAllLines(Path.Combine(folder, "results.jsonl")).Length);
        var results = File.ReadAllLines(Path.Combine(folder, "results.jsonl")).Select(RunResult.FromJson).ToList();
        Assert.All(results, r =>
        {
            Assert.Equal("ok", r.Status);
            Assert.Equal(2, r.Epochs);
            Assert.Equal(2 * (256 / 32), r.Steps);
            Assert.True(r.FinalTestAccuracy > 0.3, $"{r.Key}: accuracy {r.FinalTestAccuracy} (chance is 0.1)");
            Assert.True(r.FullBatchGradNormSq > 0 && r.MeanMinibatchGradNormSq > r.FullBatchGradNormSq);
        });
        var table = File.ReadAllText(Path.Combine(folder, "table.md"));
        Assert.Contains("| lr |", table, StringComparison.Ordinal);
        Assert.Contains(" ± ", table, StringComparison.Ordinal);
        Assert.Equal(5, Plots.SweepPlots.Standard.Count);
        foreach (var stem in Plots.SweepPlots.Standard.Select(m => m.FileStem))
        {
            var png = File.ReadAllBytes(Path.Combine(folder, stem + ".png"));
            Assert.True(png.Length > 1000);
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A], png[..8]);
            var svg = File.ReadAllText(Path.Combine(folder, stem + ".svg"), Encoding.UTF8);
            Assert.Contains("<svg", svg, StringComparison.Ordinal);
            Assert.EndsWith("</svg>", svg.TrimEnd(), StringComparison.Ordinal);
            System.Xml.Linq.XDocument.Parse(svg);  // well-formed XML
        }

        var firstResult = Path.Combine(Directory.GetDirectories(Path.Combine(folder, "runs"))[0], SweepRunner.ResultFileName);
        var before = File.GetLastWriteTimeUtc(firstResult);
        var again = CliRunner.Run(SliceSweep("--epochs", "2", "--lr", "0.05,0.2,0.1", "--seed", "1,2"));

        Assert.True(again.ExitCode == 0, again.Stderr);
        Assert.Equal(4, again.Stdout.Split('\n').Count(l => l.EndsWith("already done", StringComparison.Ordinal)));
        Assert.Equal(2, again.Stdout.Split('\n').Count(l => l.Contains("lr=0.1 ", StringComparison.Ordinal) && l.Contains("test accuracy", StringComparison.Ordinal)));
        Assert.Equal(before, File.GetLastWriteTimeUtc(firstResult));
        Assert.Equal(7, File.ReadAllLines(Path.Combine(folder, "results.csv")).Length);
    }

    [Theory]
    [InlineData("--lr", "0.1,abc", "--lr")]
    [InlineData("--lr", "0.1,-1", "--lr")]
    [InlineData("--batch-size", "32,,64", "--batch-size")]
    [InlineData("--optimizer", "sgd,rmsprop", "--optimizer")]
    [InlineData("--penalty", "none,maybe", "--penalty")]
    [InlineData("--microbatches", "1,0", "--microbatches")]
    public void BadListValuesAreUsageErrorsNamingTheOption(string option, string value, string words)
    {
        var run = CliRunner.Run(SliceSweep("--epochs", "1", option, value));

        Assert.Equal(2, run.ExitCode);
        Assert.Contains(words, Assert.Single(run.StderrLines), StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_temp.File("out"), "runs")));
    }

    [Fact]
    public void ZippedListsOfDifferentLengthsAndPresetConflictsAreUsageErrors()
    {
        var zip = CliRunner.Run(SliceSweep("--epochs", "1", "--lr", "0.1,0.2", "--seed", "1,2,3", "--zip", "lr,seed"));
        Assert.Equal(2, zip.ExitCode);
        Assert.Contains("--zip", Assert.Single(zip.StderrLines), StringComparison.Ordinal);

        var preset = CliRunner.Run("sweep", "--preset", "quick", "--lr", "0.1", "--out-dir", _temp.File("p"));
        Assert.Equal(2, preset.ExitCode);
        Assert.Contains("--lr", Assert.Single(preset.StderrLines), StringComparison.Ordinal);

        var unknown = CliRunner.Run("sweep", "--preset", "slow", "--out-dir", _temp.File("p"));
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("--preset slow", Assert.Single(unknown.StderrLines), StringComparison.Ordinal);
    }

    [Fact]
    public void AnOutputFolderOfAnotherSetupIsRefused()
    {
        Assert.Equal(0, CliRunner.Run(SliceSweep("--lr", "0.1", "--epochs", "1")).ExitCode);
        var args = SliceSweep("--lr", "0.1", "--epochs", "1");
        args[Array.IndexOf(args, "--train-size") + 1] = "128";

        var run = CliRunner.Run(args);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("another setup", Assert.Single(run.StderrLines), StringComparison.Ordinal);
    }

    /// <summary>sweep offers the library's sweepable options (the run-key contract) and train the same settings: the two lists must agree.</summary>
    [Fact]
    public void TheSweepableOptionsAreTrainsOptions() =>
        Assert.Equal(SweepableOptions.Names.Select(n => "--" + n), new Commands.TrainOptionSet().Names);
}
