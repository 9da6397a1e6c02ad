using ImplicitRegOnnx.Runtime.Experiments;
using ImplicitRegOnnx.TestSupport;

namespace ImplicitRegOnnx.Runtime.Tests.Experiments;

public sealed class SweepRunnerTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    private static IReadOnlyList<SweepPoint> Points() =>
        SweepGrid.Expand(SweepGrid.Axes([KeyValuePair.Create("lr", (IReadOnlyList<string>)["0.1", "0.2", "0.4"]), KeyValuePair.Create("seed", (IReadOnlyList<string>)["1", "2"])]));

    private static RunResult Fake(SweepPoint p) => new()
    {
        Key = p.Key,
        Parameters = p.Values,
        Status = "ok",
        FinalTestAccuracy = double.Parse(p["lr"]!, System.Globalization.CultureInfo.InvariantCulture),
        BestTestAccuracy = 0.9,
    };

    [Fact]
    public void RunsEveryPointOnceInParallelAndReturnsResultsInPointOrder()
    {
        var points = Points();
        var calls = 0;
        var results = SweepRunner.Run(points, _temp.Path, parallel: 3, p =>
        {
            Interlocked.Increment(ref calls);
            return Fake(p);
        });

        Assert.Equal(points.Count, calls);
        Assert.Equal(points.Select(p => p.Key), results.Select(r => r.Key));
        Assert.All(points, p => Assert.True(File.Exists(SweepRunner.ResultPath(_temp.Path, p))));
        Assert.Empty(Directory.EnumerateFiles(_temp.Path, "*.tmp-*", SearchOption.AllDirectories));
    }

    [Fact]
    public void FinishedRunsAreSkippedOnTheNextInvocation()
    {
        var points = Points();
        SweepRunner.Run(points.Take(4).ToList(), _temp.Path, parallel: 2, Fake);

        var ran = new List<string>();
        var outcomes = new Dictionary<string, RunOutcome>();
        var results = SweepRunner.Run(points, _temp.Path, parallel: 1, p =>
        {
            ran.Add(p.Key);
            return Fake(p);
        }, (p, _, outcome) => outcomes[p.Key] = outcome);

        Assert.Equal(points.Skip(4).Select(p => p.Key), ran);
        Assert.Equal(4, outcomes.Values.Count(o => o == RunOutcome.Skipped));
        Assert.Equal(0.1, results[0].FinalTestAccuracy, 12);  // read back from result.json
    }

    [Fact]
    public void AnUnreadableOrForeignResultFileIsRunAgain()
    {
        var points = Points();
        Directory.CreateDirectory(Path.GetDirectoryName(SweepRunner.ResultPath(_temp.Path, points[0]))!);
        File.WriteAllText(SweepRunner.ResultPath(_temp.Path, points[0]), "{ half a file");
        Directory.CreateDirectory(Path.GetDirectoryName(SweepRunner.ResultPath(_temp.Path, points[1]))!);
        File.WriteAllText(SweepRunner.ResultPath(_temp.Path, points[1]), Fake(points[2]).ToJson());

        var ran = new List<string>();
        SweepRunner.Run(points, _temp.Path, parallel: 1, p =>
        {
            ran.Add(p.Key);
            return Fake(p);
        });

        Assert.Equal(points.Select(p => p.Key), ran);
    }

    [Fact]
    public void ResultsRoundTripThroughJsonIncludingNaN()
    {
        var result = Fake(Points()[0]) with { Status = "diverged", FinalTestAccuracy = double.NaN, TestAccuracyByEpoch = [0.5, 0.6] };
        var back = RunResult.FromJson(result.ToJson());

        Assert.True(back.Diverged);
        Assert.True(double.IsNaN(back.FinalTestAccuracy));
        Assert.Equal([0.5, 0.6], back.TestAccuracyByEpoch);
        Assert.Equal(result.Parameters, back.Parameters);
    }

    public void Dispose() => _temp.Dispose();
}
