using System.Text.Json;
using ImplicitRegOnnx.Onnx.IO;

namespace ImplicitRegOnnx.Runtime.Experiments;

/// <summary>How a run of the sweep ended in this invocation.</summary>
public enum RunOutcome
{
    /// <summary>Trained now.</summary>
    Ran,

    /// <summary>Its result was already on disk from an earlier invocation.</summary>
    Skipped,
}

/// <summary>
/// Runs the points of a sweep, several at a time, each in its own folder under a runs directory
/// (<see cref="SweepPoint.FolderName"/>) whose <c>result.json</c> is written atomically when the run
/// ends. A point whose result file exists is skipped, so an interrupted sweep resumes where it stopped.
/// </summary>
public static class SweepRunner
{
    /// <summary>The file each run's <see cref="RunResult"/> is written to, in the run's directory.</summary>
    public const string ResultFileName = "result.json";

    /// <summary>The result file of a point under <paramref name="runsDirectory"/>.</summary>
    public static string ResultPath(string runsDirectory, SweepPoint point) =>
        Path.Combine(runsDirectory, point.FolderName, ResultFileName);

    /// <summary>
    /// Runs every point that has no result yet with <paramref name="execute"/>, at most
    /// <paramref name="parallel"/> at a time, and returns all results in the order of the points.
    /// <paramref name="report"/> is called (from worker threads, one call at a time) after each point.
    /// </summary>
    public static IReadOnlyList<RunResult> Run(IReadOnlyList<SweepPoint> points, string runsDirectory, int parallel,
        Func<SweepPoint, RunResult> execute, Action<SweepPoint, RunResult, RunOutcome>? report = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(points);
        ArgumentNullException.ThrowIfNull(execute);
        ArgumentOutOfRangeException.ThrowIfLessThan(parallel, 1);
        var results = new RunResult[points.Count];
        var pending = new List<int>();
        for (var i = 0; i < points.Count; i++)
        {
            if (TryRead(ResultPath(runsDirectory, points[i])) is { } done && done.Key == points[i].Key)
            {
                results[i] = done;
                report?.Invoke(points[i], done, RunOutcome.Skipped);
            }
            else
            {
                pending.Add(i);
            }
        }
        var gate = new Lock();
        Parallel.ForEach(pending, new ParallelOptions { MaxDegreeOfParallelism = parallel, CancellationToken = cancellation }, i =>
        {
            var point = points[i];
            var result = execute(point);
            AtomicFile.WriteAllText(ResultPath(runsDirectory, point), result.ToJson(indented: true) + "\n");
            results[i] = result;
            if (report is not null)
            {
                lock (gate)
                {
                    report(point, result, RunOutcome.Ran);
                }
            }
        });
        return results;
    }

    /// <summary>A finished run's result, or null when the file is missing or unreadable (the run is then repeated).</summary>
    public static RunResult? TryRead(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }
        try
        {
            return RunResult.FromJson(File.ReadAllText(path));
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
