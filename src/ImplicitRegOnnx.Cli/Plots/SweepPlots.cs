using System.Globalization;
using ImplicitRegOnnx.Onnx.IO;
using ImplicitRegOnnx.Runtime.Experiments;
using ScottPlot;

namespace ImplicitRegOnnx.Cli.Plots;

/// <summary>One plotted quantity of a sweep: how to read it from a row and how to label it.</summary>
/// <param name="FileStem">File name without extension, e.g. "test_accuracy".</param>
/// <param name="YLabel">The y axis label.</param>
/// <param name="Select">The statistic of a row.</param>
/// <param name="Scale">Multiplies mean and std (100 for percentages).</param>
/// <param name="ZoomSpan">When set, the y axis shows only this span below the best mean (above the lowest, for
/// losses), so that differences of a point or two stay visible next to collapsed runs, which fall off the scale.</param>
/// <param name="HigherIsBetter">Whether the best mean is the highest (accuracies) or the lowest (losses).</param>
internal sealed record PlotMetric(string FileStem, string YLabel, Func<AggregateRow, Statistic> Select, double Scale = 1, double? ZoomSpan = null, bool HigherIsBetter = true);

/// <summary>
/// Plots of an experiment with ScottPlot: one line per series, mean over seeds with ± one standard
/// deviation as error bars, against the experiment's x option; written as PNG and SVG.
/// </summary>
internal static class SweepPlots
{
    public const int Width = 760;
    public const int Height = 560;

    /// <summary>
    /// What every experiment gets plotted: final test accuracy (whole range and zoomed on the best), best
    /// test accuracy over epochs (zoomed), the final training loss and the final mean minibatch ||∇Ĉ_k||².
    /// </summary>
    public static IReadOnlyList<PlotMetric> Standard { get; } =
    [
        new("test_accuracy", "final test accuracy (%)", r => r.FinalTestAccuracy, 100),
        new("test_accuracy_zoom", "final test accuracy (%), zoomed", r => r.FinalTestAccuracy, 100, ZoomSpan: 6),
        new("best_test_accuracy_zoom", "best test accuracy over epochs (%), zoomed", r => r.BestTestAccuracy, 100, ZoomSpan: 6),
        new("train_loss", "training loss C at the end", r => r.TrainLoss),
        new("minibatch_grad_norm", "mean minibatch ‖∇Ĉ_k‖² at the end", r => r.MeanMinibatchGradNormSq),
    ];

    /// <summary>
    /// Writes FOLDER/STEM.png and FOLDER/STEM.svg for each metric and returns their paths. Rows whose
    /// x value is not a number, or whose statistic has no finite value, are left out.
    /// </summary>
    public static IReadOnlyList<string> Write(string folder, SweepExperiment experiment, IReadOnlyList<AggregateRow> rows, IEnumerable<PlotMetric>? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(experiment);
        ArgumentNullException.ThrowIfNull(rows);
        var written = new List<string>();
        foreach (var metric in metrics ?? Standard)
        {
            var plot = Build(experiment, rows, metric);
            var png = Path.Combine(folder, metric.FileStem + ".png");
            var svg = Path.Combine(folder, metric.FileStem + ".svg");
            // Rendered in memory and written by the one atomic writer (never through a path ScottPlot opens itself).
            using (var image = plot.GetImage(Width, Height))
            {
                AtomicFile.WriteAllBytes(png, image.GetImageBytes(ImageFormat.Png, 100));
            }
            AtomicFile.WriteAllText(svg, plot.GetSvgXml(Width, Height));
            written.Add(png);
            written.Add(svg);
        }
        return written;
    }

    /// <summary>The plot of one metric (not yet saved).</summary>
    public static Plot Build(SweepExperiment experiment, IReadOnlyList<AggregateRow> rows, PlotMetric metric)
    {
        ArgumentNullException.ThrowIfNull(experiment);
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(metric);
        var plot = new Plot();
        MarkerShape[] shapes = [MarkerShape.FilledCircle, MarkerShape.FilledSquare, MarkerShape.FilledTriangleUp, MarkerShape.FilledDiamond, MarkerShape.OpenCircle];
        var ticks = new SortedDictionary<double, string>();
        var plotted = new List<(double Mean, double Error)>();
        var index = 0;
        foreach (var series in experiment.Series)
        {
            var points = rows.Where(r => r.Series == series.Label)
                .Select(r => (X: XValue(r, experiment.XOption), Raw: r.Parameters.GetValueOrDefault(experiment.XOption, ""), Stat: metric.Select(r)))
                .Where(p => double.IsFinite(p.X) && (!experiment.LogX || p.X > 0) && p.Stat.Count > 0)
                .OrderBy(p => p.X)
                .ToList();
            if (points.Count == 0)
            {
                index++;
                continue;
            }
            var xs = points.Select(p => experiment.LogX ? Math.Log2(p.X) : p.X).ToArray();
            var ys = points.Select(p => p.Stat.Mean * metric.Scale).ToArray();
            var errors = points.Select(p => double.IsNaN(p.Stat.StandardDeviation) ? 0 : p.Stat.StandardDeviation * metric.Scale).ToArray();
            var line = plot.Add.Scatter(xs, ys);
            line.LegendText = series.Label;
            line.LineWidth = 2;
            line.MarkerSize = 8;
            line.MarkerShape = shapes[index % shapes.Length];
            plotted.AddRange(ys.Zip(errors));
            var bars = plot.Add.ErrorBar(xs, ys, errors);
            bars.Color = line.Color;
            for (var i = 0; i < xs.Length; i++)
            {
                ticks.TryAdd(xs[i], points[i].Raw);
            }
            index++;
        }
        if (experiment.LogX && ticks.Count > 0)
        {
            plot.Axes.Bottom.SetTicks([.. ticks.Keys], [.. ticks.Values]);
        }
        if (metric.ZoomSpan is { } span && plotted.Count > 0)
        {
            var margin = span / 6;
            var (low, high) = metric.HigherIsBetter
                ? (plotted.Max(p => p.Mean) - span, Math.Min(plotted.Max(p => p.Mean + p.Error), plotted.Max(p => p.Mean) + span / 2) + margin)
                : (Math.Max(plotted.Min(p => p.Mean - p.Error), plotted.Min(p => p.Mean) - span / 2) - margin, plotted.Min(p => p.Mean) + span);
            plot.Axes.SetLimitsY(low, high);
        }
        plot.Title(experiment.Title);
        plot.XLabel(experiment.XLabel + (experiment.LogX ? " (log scale)" : ""));
        plot.YLabel(metric.YLabel);
        plot.ShowLegend(Edge.Bottom);
        plot.Legend.Orientation = Orientation.Vertical;
        return plot;
    }

    private static double XValue(AggregateRow row, string option) =>
        row.Parameters.TryGetValue(option, out var raw) && double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var x) ? x : double.NaN;
}
