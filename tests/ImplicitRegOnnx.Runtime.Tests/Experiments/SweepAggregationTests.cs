using ImplicitRegOnnx.Runtime.Experiments;
using ImplicitRegOnnx.TestSupport;

namespace ImplicitRegOnnx.Runtime.Tests.Experiments;

public sealed class SweepAggregationTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    private static RunResult Run(string lr, string seed, double accuracy, bool diverged = false) => new()
    {
        Key = $"lr={lr} seed={seed}",
        Parameters = new Dictionary<string, string> { ["lr"] = lr, ["seed"] = seed },
        Status = diverged ? "diverged" : "ok",
        FinalTestAccuracy = diverged ? double.NaN : accuracy,
        BestTestAccuracy = accuracy + 0.01,
        TrainLoss = 1 - accuracy,
        Seconds = 2,
    };

    [Fact]
    public void MeanAndSampleStandardDeviationOverSeeds()
    {
        var s = Statistic.Of([0.80, 0.84, 0.88]);

        Assert.Equal(0.84, s.Mean, 12);
        Assert.Equal(0.04, s.StandardDeviation, 12);  // sqrt((0.0016 + 0 + 0.0016) / 2)
        Assert.Equal(3, s.Count);
        Assert.True(double.IsNaN(Statistic.Of([0.8]).StandardDeviation));
        Assert.Equal(0, Statistic.Of([double.NaN]).Count);
    }

    [Fact]
    public void GroupsBySettingWithoutTheSeedAndLeavesDivergedRunsOut()
    {
        var rows = SweepAggregation.Aggregate(
        [
            Run("0.1", "1", 0.80), Run("0.1", "2", 0.84), Run("0.1", "3", 0.88),
            Run("0.8", "1", 0.50), Run("0.8", "2", 0, diverged: true),
        ], "plain");

        Assert.Equal(2, rows.Count);
        Assert.Equal("0.1", rows[0].Parameters["lr"]);
        Assert.False(rows[0].Parameters.ContainsKey("seed"));
        Assert.Equal((3, 0), (rows[0].Runs, rows[0].Diverged));
        Assert.Equal(0.84, rows[0].FinalTestAccuracy.Mean, 12);
        Assert.Equal(0.04, rows[0].FinalTestAccuracy.StandardDeviation, 12);
        Assert.Equal(0.16, rows[0].TrainLoss.Mean, 12);
        Assert.Equal((2, 1), (rows[1].Runs, rows[1].Diverged));
        Assert.Equal(1, rows[1].FinalTestAccuracy.Count);
        Assert.Equal(0.51, rows[1].BestTestAccuracy.Mean, 12);
        Assert.Equal(2, rows[1].Seconds.Count);  // time counts diverged runs too
        Assert.All(rows, r => Assert.Equal("plain", r.Series));
    }

    [Fact]
    public void WritesCsvJsonLinesAndAMarkdownTable()
    {
        RunResult[] runs = [Run("0.1", "1", 0.80), Run("0.1", "2", 0.84), Run("0.8", "1", 0, diverged: true)];
        var rows = SweepAggregation.Aggregate(runs);
        ResultFiles.WriteRunsCsv(_temp.File("results.csv"), runs);
        ResultFiles.WriteRunsJsonl(_temp.File("results.jsonl"), runs);
        ResultFiles.WriteSummaryCsv(_temp.File("summary.csv"), rows);
        var table = ResultFiles.MarkdownTable(rows);

        var csv = File.ReadAllLines(_temp.File("results.csv"));
        Assert.Equal(4, csv.Length);
        Assert.StartsWith("lr,seed,status,final_test_accuracy,best_test_accuracy", csv[0], StringComparison.Ordinal);
        Assert.StartsWith("0.8,1,diverged,,", csv[3], StringComparison.Ordinal);
        Assert.Equal(runs.Select(r => r.Key), File.ReadAllLines(_temp.File("results.jsonl")).Select(l => RunResult.FromJson(l).Key));
        var summary = File.ReadAllLines(_temp.File("summary.csv"));
        Assert.Equal(3, summary.Length);
        Assert.Contains("final_test_accuracy_mean,final_test_accuracy_std", summary[0], StringComparison.Ordinal);
        Assert.Contains("| 0.1 | 2 | 82.00 ± 2.83 |", table, StringComparison.Ordinal);
        Assert.Contains("| 0.8 | 1 (1 diverged) | – |", table, StringComparison.Ordinal);
    }

    public void Dispose() => _temp.Dispose();
}
