using System.Globalization;
using ImplicitRegOnnx.Runtime.Experiments;
using ScottPlot;

namespace ImplicitRegOnnx.Cli.Plots;

/// <summary>One plotted quantity of a sweep: how to read it from a row and how to label it.</summary>
/// <param name="FileStem">File name without extension, e.g. "test_accuracy".</param>
/// <param name="YLabel">The y axis label.</param>
/// <param name="Select">The statistic of a row.</param>
/// <param name="Scale">Multiplies mean and std (100 for percentages).</param>
public sealed record PlotMetric(string FileStem, string YLabel, Func<AggregateRow, Statistic> Select, double Scale = 1);

/// <summary>
/// Plots of an experiment with ScottPlot: one line per series, mean over seeds with ± one standard
/// deviation as error bars, against the experiment's x option; written as PNG and SVG.
/// </summary>
public static class SweepPlots
{
    public const int Width = 760;
    public const int Height = 500;

    /// <summary>What every experiment gets plotted: final and best test accuracy, and the final training loss.</summary>
    public static IReadOnlyList<PlotMetric> Standard { get; } =
    [
        new("test_accuracy", "final test accuracy (%)", r => r.FinalTestAccuracy, 100),
        new("best_test_accuracy", "best test accuracy over epochs (%)", r => r.BestTestAccuracy, 100),
        new("train_loss", "training loss C at the end", r => r.TrainLoss),
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
            AtomicFile.Write(png, temp => plot.SavePng(temp, Width, Height));
            AtomicFile.Write(svg, temp => plot.SaveSvg(temp, Width, Height));
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
        plot.Title(experiment.Title);
        plot.XLabel(experiment.XLabel + (experiment.LogX ? " (log scale)" : ""));
        plot.YLabel(metric.YLabel);
        plot.ShowLegend(Alignment.LowerRight);
        return plot;
    }

    private static double XValue(AggregateRow row, string option) =>
        row.Parameters.TryGetValue(option, out var raw) && double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var x) ? x : double.NaN;
}
