using System.Globalization;
using System.Text;
using ImplicitRegOnnx.Onnx.IO;

namespace ImplicitRegOnnx.Runtime.Experiments;

/// <summary>Writes sweep results: one row per run (CSV and JSON lines) and one row per setting (CSV and a Markdown table).</summary>
public static class ResultFiles
{
    private static readonly string[] RunMetrics =
    [
        "status", "final_test_accuracy", "best_test_accuracy", "best_epoch", "final_test_loss", "train_loss", "train_accuracy",
        "penalty", "full_batch_grad_norm_sq", "mean_minibatch_grad_norm_sq", "epochs", "steps", "seconds",
    ];

    private static readonly string[] SeriesColumn = ["series"];

    private static readonly string[] SummaryMetrics =
        ["final_test_accuracy", "best_test_accuracy", "train_loss", "penalty", "full_batch_grad_norm_sq", "mean_minibatch_grad_norm_sq", "seconds"];

    /// <summary>results.csv: the options of each run (one column per option), then its metrics.</summary>
    public static void WriteRunsCsv(string path, IReadOnlyList<RunResult> results, IReadOnlyDictionary<string, string>? seriesByKey = null)
    {
        ArgumentNullException.ThrowIfNull(results);
        var options = OptionColumns(results.Select(r => r.Parameters));
        var text = new StringBuilder();
        text.AppendLine(string.Join(',', (seriesByKey is null ? [] : SeriesColumn).Concat(options).Concat(RunMetrics)));
        foreach (var r in results)
        {
            var cells = new List<string>();
            if (seriesByKey is not null)
            {
                cells.Add(Csv(seriesByKey.GetValueOrDefault(r.Key, "")));
            }
            cells.AddRange(options.Select(o => Csv(r.Parameters.GetValueOrDefault(o, ""))));
            cells.Add(r.Status);
            cells.AddRange(new[] { r.FinalTestAccuracy, r.BestTestAccuracy }.Select(Number));
            cells.Add(r.BestEpoch.ToString(CultureInfo.InvariantCulture));
            cells.AddRange(new[] { r.FinalTestLoss, r.TrainLoss, r.TrainAccuracy, r.Penalty, r.FullBatchGradNormSq, r.MeanMinibatchGradNormSq }.Select(Number));
            cells.Add(r.Epochs.ToString(CultureInfo.InvariantCulture));
            cells.Add(r.Steps.ToString(CultureInfo.InvariantCulture));
            cells.Add(Number(r.Seconds));
            text.AppendLine(string.Join(',', cells));
        }
        AtomicFile.WriteAllText(path, text.ToString());
    }

    /// <summary>results.jsonl: each run's full result (per-epoch test accuracies included), one JSON object a line.</summary>
    public static void WriteRunsJsonl(string path, IReadOnlyList<RunResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        AtomicFile.WriteAllText(path, string.Concat(results.Select(r => r.ToJson() + "\n")));
    }

    /// <summary>summary.csv: per setting, mean and std over seeds of each metric, and the run counts.</summary>
    public static void WriteSummaryCsv(string path, IReadOnlyList<AggregateRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var options = OptionColumns(rows.Select(r => r.Parameters));
        var text = new StringBuilder();
        text.AppendLine(string.Join(',', SeriesColumn.Concat(options).Concat(["runs", "diverged"]).Concat(SummaryMetrics.SelectMany(m => new[] { m + "_mean", m + "_std" }))));
        foreach (var row in rows)
        {
            var cells = new List<string> { Csv(row.Series) };
            cells.AddRange(options.Select(o => Csv(row.Parameters.GetValueOrDefault(o, ""))));
            cells.Add(row.Runs.ToString(CultureInfo.InvariantCulture));
            cells.Add(row.Diverged.ToString(CultureInfo.InvariantCulture));
            foreach (var s in Statistics(row))
            {
                cells.Add(Number(s.Mean));
                cells.Add(Number(s.StandardDeviation));
            }
            text.AppendLine(string.Join(',', cells));
        }
        AtomicFile.WriteAllText(path, text.ToString());
    }

    /// <summary>
    /// A Markdown table of the settings: the options that differ between rows, then accuracies in %
    /// (mean ± std over seeds), training loss and the two gradient norms.
    /// </summary>
    public static string MarkdownTable(IReadOnlyList<AggregateRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var options = OptionColumns(rows.Select(r => r.Parameters))
            .Where(o => rows.Select(r => r.Parameters.GetValueOrDefault(o, "")).Distinct(StringComparer.Ordinal).Count() > 1).ToList();
        var withSeries = rows.Select(r => r.Series).Distinct(StringComparer.Ordinal).Count() > 1;
        var header = (withSeries ? ["series"] : Array.Empty<string>()).Concat(options)
            .Concat(["seeds", "final test acc. %", "best test acc. %", "train loss", "‖∇C‖²", "mean ‖∇Ĉ_k‖²"]).ToList();
        var text = new StringBuilder();
        text.AppendLine("| " + string.Join(" | ", header) + " |");
        text.AppendLine("|" + string.Concat(header.Select(_ => "---|")));
        foreach (var r in rows)
        {
            var cells = new List<string>();
            if (withSeries)
            {
                cells.Add(r.Series);
            }
            cells.AddRange(options.Select(o => r.Parameters.GetValueOrDefault(o, "")));
            cells.Add(r.Diverged == 0 ? r.Runs.ToString(CultureInfo.InvariantCulture) : string.Create(CultureInfo.InvariantCulture, $"{r.Runs} ({r.Diverged} diverged)"));
            cells.Add(PlusMinus(r.FinalTestAccuracy, 100, "0.00"));
            cells.Add(PlusMinus(r.BestTestAccuracy, 100, "0.00"));
            cells.Add(PlusMinus(r.TrainLoss, 1, "0.0000"));
            cells.Add(PlusMinus(r.FullBatchGradNormSq, 1, "0.000e+0"));
            cells.Add(PlusMinus(r.MeanMinibatchGradNormSq, 1, "0.000e+0"));
            text.AppendLine("| " + string.Join(" | ", cells) + " |");
        }
        return text.ToString();
    }

    private static Statistic[] Statistics(AggregateRow r) =>
        [r.FinalTestAccuracy, r.BestTestAccuracy, r.TrainLoss, r.Penalty, r.FullBatchGradNormSq, r.MeanMinibatchGradNormSq, r.Seconds];

    private static string PlusMinus(Statistic s, double scale, string format)
    {
        if (s.Count == 0)
        {
            return "–";
        }
        var mean = (s.Mean * scale).ToString(format, CultureInfo.InvariantCulture);
        return double.IsNaN(s.StandardDeviation) ? mean : mean + " ± " + (s.StandardDeviation * scale).ToString(format, CultureInfo.InvariantCulture);
    }

    /// <summary>Every option name that occurs, in first-seen order.</summary>
    private static List<string> OptionColumns(IEnumerable<IReadOnlyDictionary<string, string>> parameters)
    {
        var names = new List<string>();
        foreach (var p in parameters)
        {
            names.AddRange(p.Keys.Where(k => !names.Contains(k)));
        }
        return names;
    }

    private static string Number(double value) =>
        double.IsFinite(value) ? value.ToString("R", CultureInfo.InvariantCulture) : "";

    private static string Csv(string value) =>
        value.Contains(',', StringComparison.Ordinal) || value.Contains('"', StringComparison.Ordinal)
            ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\""
            : value;
}
