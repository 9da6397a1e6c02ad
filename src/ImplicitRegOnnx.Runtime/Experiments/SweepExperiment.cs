namespace ImplicitRegOnnx.Runtime.Experiments;

/// <summary>One curve of an experiment: a label and the grid points (all seeds) it is made of.</summary>
public sealed record SweepSeries(string Label, IReadOnlyList<SweepPoint> Points);

/// <summary>
/// A named group of series plotted against one option (e.g. test accuracy against the learning rate,
/// with and without the penalty). Results go to a folder of its <see cref="Name"/> ("" for the output folder itself).
/// </summary>
/// <param name="Name">Folder name, e.g. "a-lr-sweep".</param>
/// <param name="Title">Plot title.</param>
/// <param name="XOption">The option on the x axis (its values must be numbers), e.g. "lr".</param>
/// <param name="XLabel">The x axis label.</param>
/// <param name="LogX">Place x values on a log₂ scale.</param>
/// <param name="Series">The curves.</param>
public sealed record SweepExperiment(string Name, string Title, string XOption, string XLabel, bool LogX, IReadOnlyList<SweepSeries> Series)
{
    /// <summary>Every point of every series, each once.</summary>
    public IEnumerable<SweepPoint> Points => Series.SelectMany(s => s.Points).DistinctBy(p => p.Key, StringComparer.Ordinal);
}
