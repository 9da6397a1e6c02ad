namespace ImplicitRegOnnx.Runtime.Experiments;

/// <summary>The runs of one setting (all options but the seed) summarized over seeds.</summary>
/// <param name="Series">The series the setting belongs to (an experiment's curve; "" for a plain sweep).</param>
/// <param name="Parameters">The setting's option values, without the seed.</param>
/// <param name="Runs">How many runs (seeds) it has, diverged ones included.</param>
/// <param name="Diverged">How many of them diverged (left out of every statistic).</param>
/// <param name="FinalTestAccuracy">Test accuracy after the last epoch.</param>
/// <param name="BestTestAccuracy">Highest test accuracy after any epoch.</param>
/// <param name="TrainLoss">Loss on the training set at the end.</param>
/// <param name="Penalty">Mean step penalty R in the last epoch.</param>
/// <param name="FullBatchGradNormSq">||∇C||² at the end.</param>
/// <param name="MeanMinibatchGradNormSq">Mean minibatch ||∇Ĉ_k||² at the end.</param>
/// <param name="Seconds">Wall time of a run (diverged runs included).</param>
public sealed record AggregateRow(
    string Series,
    IReadOnlyDictionary<string, string> Parameters,
    int Runs,
    int Diverged,
    Statistic FinalTestAccuracy,
    Statistic BestTestAccuracy,
    Statistic TrainLoss,
    Statistic Penalty,
    Statistic FullBatchGradNormSq,
    Statistic MeanMinibatchGradNormSq,
    Statistic Seconds);

/// <summary>Groups run results by their options except the seed and computes mean ± std over seeds.</summary>
public static class SweepAggregation
{
    /// <summary>The option that only repeats a setting (never a group key).</summary>
    public const string SeedOption = "seed";

    /// <summary>One row per distinct setting, in the order settings first appear among <paramref name="results"/>.</summary>
    public static IReadOnlyList<AggregateRow> Aggregate(IEnumerable<RunResult> results, string series = "")
    {
        ArgumentNullException.ThrowIfNull(results);
        return [.. results
            .GroupBy(r => SettingKey(r.Parameters), StringComparer.Ordinal)
            .Select(g =>
            {
                var ok = g.Where(r => !r.Diverged).ToList();
                return new AggregateRow(
                    series,
                    g.First().Parameters.Where(p => p.Key != SeedOption).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal),
                    g.Count(),
                    g.Count(r => r.Diverged),
                    Statistic.Of(ok.Select(r => r.FinalTestAccuracy)),
                    Statistic.Of(ok.Select(r => r.BestTestAccuracy)),
                    Statistic.Of(ok.Select(r => r.TrainLoss)),
                    Statistic.Of(ok.Select(r => r.Penalty)),
                    Statistic.Of(ok.Select(r => r.FullBatchGradNormSq)),
                    Statistic.Of(ok.Select(r => r.MeanMinibatchGradNormSq)),
                    Statistic.Of(g.Select(r => r.Seconds)));
            })];
    }

    private static string SettingKey(IReadOnlyDictionary<string, string> parameters) =>
        string.Join(' ', parameters.Where(p => p.Key != SeedOption).OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}"));
}
