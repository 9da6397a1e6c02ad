using System.Globalization;
using System.Runtime.ExceptionServices;
using System.Security.Cryptography;
using System.Text.Json;
using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Onnx.IO;
using ImplicitRegOnnx.Runtime.Data;
using ImplicitRegOnnx.Runtime.Training;

namespace ImplicitRegOnnx.Runtime.Experiments;

/// <summary>
/// The options a sweep point may set, by name (the training settings, <see cref="TrainingSettings.Table"/>): the names of a point's values, of its <see cref="SweepPoint.Key"/>
/// and so of its run folder under runs/ (<see cref="SweepPoint.FolderName"/>). They are the run-key contract:
/// renaming one would make every finished run of a resumed sweep unrecognizable. <c>implicitreg sweep</c>
/// offers each as an option (<c>--lr 0.05,0.1</c>) with the meaning it has for <c>implicitreg train</c>.
/// </summary>
public static class SweepableOptions
{
    /// <summary>The names, in the order the CLI lists them.</summary>
    public static IReadOnlyList<string> Names => TrainingSettings.Names;

    /// <summary>The name of the seed option, which aggregation averages over (<see cref="SweepAggregation.SeedOption"/>).</summary>
    public static string Seed => SweepAggregation.SeedOption;

    /// <summary>Whether <paramref name="name"/> is one of <see cref="Names"/>.</summary>
    public static bool Contains(string name) => Names.Contains(name, StringComparer.Ordinal);
}

/// <summary>What <see cref="SweepRun.Run"/> trains and where its results go.</summary>
public sealed record SweepOptions
{
    /// <summary>The inference model every run starts from.</summary>
    public required Model Model { get; init; }

    /// <summary>The training data (already subset and normalized).</summary>
    public required Dataset Train { get; init; }

    /// <summary>The test data evaluated after every epoch.</summary>
    public required Dataset Test { get; init; }

    /// <summary>The experiments: named groups of series of points (<see cref="SweepExperiment"/>); a point in several runs once.</summary>
    public required IReadOnlyList<SweepExperiment> Experiments { get; init; }

    /// <summary>
    /// The training options of a point; null (the default): its values read as training settings (<see cref="TrainingSettings.Parse"/>,
    /// as <c>implicitreg train</c> reads its options), the loss chosen from the training labels. Threads and device are set by the sweep.
    /// </summary>
    public Func<SweepPoint, TrainerOptions>? PointOptions { get; init; }

    /// <summary>The folder for runs/KEY/result.json, setup.json and one folder of result files per named experiment (created if missing).</summary>
    public required string OutputDirectory { get; init; }

    /// <summary>Runs at a time (null: the processor count divided by <see cref="ThreadsPerRun"/>, at least 1).</summary>
    public int? Parallel { get; init; }

    /// <summary>ONNX Runtime threads of each run.</summary>
    public int ThreadsPerRun { get; init; } = 1;

    /// <summary>
    /// What else the runs were trained on (e.g. model and data file names, normalization), recorded in
    /// setup.json with the model's hash and the example counts; a later sweep into the same folder with another setup is refused.
    /// </summary>
    public IReadOnlyDictionary<string, string> Setup { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Runs at a time: <see cref="Parallel"/> or its default.</summary>
    public int RunsAtOnce => Parallel ?? Math.Max(1, Environment.ProcessorCount / Math.Max(1, ThreadsPerRun));

    /// <summary>Every point of every experiment, each once, in experiment order.</summary>
    public IReadOnlyList<SweepPoint> Points => [.. Experiments.SelectMany(e => e.Points).DistinctBy(p => p.Key, StringComparer.Ordinal)];

    /// <summary>Checks the counts and the output folder.</summary>
    /// <exception cref="ImplicitRegException">Of kind <see cref="ErrorKind.BadInput"/>, naming the bad property.</exception>
    public void Validate()
    {
        if (ThreadsPerRun < 1)
        {
            throw ImplicitRegException.BadParameter("SweepOptions.ThreadsPerRun", "must be at least 1");
        }
        if (RunsAtOnce < 1)
        {
            throw ImplicitRegException.BadParameter("SweepOptions.Parallel", "must be at least 1");
        }
        if (string.IsNullOrWhiteSpace(OutputDirectory))
        {
            throw ImplicitRegException.BadParameter("SweepOptions.OutputDirectory", "is empty; give the folder for the runs and results");
        }
        if (Experiments.Count == 0 || Points.Count == 0)
        {
            throw ImplicitRegException.BadParameter("SweepOptions.Experiments", "has no points; give at least one run");
        }
    }
}

/// <summary>The results of one experiment, written to <see cref="Folder"/>.</summary>
/// <param name="Experiment">The experiment.</param>
/// <param name="Folder">Where its results.csv, results.jsonl, summary.csv and table.md are.</param>
/// <param name="Runs">Its runs, in point order.</param>
/// <param name="Rows">Its runs aggregated over seeds, series by series.</param>
public sealed record SweepExperimentResult(SweepExperiment Experiment, string Folder, IReadOnlyList<RunResult> Runs, IReadOnlyList<AggregateRow> Rows)
{
    /// <summary>Whether the x option has numbers to plot against.</summary>
    public bool Plottable => Rows.Any(r => double.TryParse(r.Parameters.GetValueOrDefault(Experiment.XOption), NumberStyles.Float, CultureInfo.InvariantCulture, out _));
}

/// <summary>The outcome of a sweep.</summary>
/// <param name="Runs">Every run, in point order (finished earlier or now).</param>
/// <param name="Experiments">Each experiment's aggregated results and where they were written.</param>
public sealed record SweepResult(IReadOnlyList<RunResult> Runs, IReadOnlyList<SweepExperimentResult> Experiments);

/// <summary>
/// A sweep (<c>implicitreg sweep</c>): checks every point's options before anything runs, refuses an output
/// folder of another setup (setup.json), trains the points several at a time with <see cref="ExperimentRun"/>
/// (resumable: <see cref="SweepRunner"/> skips points whose result exists), and writes each experiment's
/// results (<see cref="ResultFiles"/>: CSV, JSON lines, summary over seeds, Markdown table).
/// </summary>
public static partial class SweepRun
{
    /// <summary>The file in the output folder that records the setup.</summary>
    public const string SetupFileName = "setup.json";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>Runs the sweep.</summary>
    /// <param name="options">What to train; validated first.</param>
    /// <param name="onRun">Called after each point (skipped or trained), one call at a time.</param>
    /// <param name="cancellation">Stops starting new runs.</param>
    /// <exception cref="ImplicitRegException">Bad options or point values (naming the point), another setup in the folder, or a run's own error (naming the run).</exception>
    public static SweepResult Run(SweepOptions options, Action<SweepPoint, RunResult, RunOutcome>? onRun = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var points = options.Points;
        // Every point is checked before anything runs, so a bad value fails at once, naming its point.
        var optionsByKey = points.ToDictionary(p => p.Key, p => About($"sweep point {p.Key}", () =>
        {
            var given = options.PointOptions?.Invoke(p) ?? TrainingSettings.Parse(p.Values).TrainerFor(options.Train.HasClassLabels);
            var o = given with { Threads = options.ThreadsPerRun, Device = Device.Cpu };
            o.Validate();
            return o;
        }), StringComparer.Ordinal);
        var setup = new Dictionary<string, string>(options.Setup, StringComparer.Ordinal)
        {
            ["model_sha256"] = Convert.ToHexStringLower(SHA256.HashData(options.Model.ToBytes())),
            ["train_examples"] = options.Train.Count.ToString(CultureInfo.InvariantCulture),
            ["test_examples"] = options.Test.Count.ToString(CultureInfo.InvariantCulture),
        };
        CheckSetup(options.OutputDirectory, setup);

        IReadOnlyList<RunResult> results;
        try
        {
            results = SweepRunner.Run(points, Path.Combine(options.OutputDirectory, "runs"), options.RunsAtOnce,
                point => About($"run {point.Key}", () => ExperimentRun.Execute(point, options.Model, options.Train, options.Test, optionsByKey[point.Key])),
                onRun, cancellation);
        }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0)
        {
            // A run's own error (e.g. a batch the penalty's microbatches do not divide) reaches the caller as it was thrown.
            ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
            throw;
        }
        var byKey = results.ToDictionary(r => r.Key, StringComparer.Ordinal);
        var written = new List<SweepExperimentResult>();
        foreach (var experiment in options.Experiments)
        {
            var folder = experiment.Name.Length == 0 ? options.OutputDirectory : Path.Combine(options.OutputDirectory, experiment.Name);
            Directory.CreateDirectory(folder);
            var ordered = experiment.Points.Select(p => byKey[p.Key]).ToList();
            var seriesByKey = new Dictionary<string, string>(StringComparer.Ordinal);
            var rows = new List<AggregateRow>();
            foreach (var series in experiment.Series)
            {
                foreach (var p in series.Points)
                {
                    seriesByKey.TryAdd(p.Key, series.Label);
                }
                rows.AddRange(SweepAggregation.Aggregate(series.Points.Select(p => byKey[p.Key]), series.Label));
            }
            ResultFiles.WriteRunsCsv(Path.Combine(folder, "results.csv"), ordered, seriesByKey);
            ResultFiles.WriteRunsJsonl(Path.Combine(folder, "results.jsonl"), ordered);
            ResultFiles.WriteSummaryCsv(Path.Combine(folder, "summary.csv"), rows);
            AtomicFile.WriteAllText(Path.Combine(folder, "table.md"), ResultFiles.MarkdownTable(rows));
            written.Add(new SweepExperimentResult(experiment, folder, ordered, rows));
        }
        return new SweepResult(results, written);
    }

    private static T About<T>(string what, Func<T> work)
    {
        try
        {
            return work();
        }
        catch (ImplicitRegException e)
        {
            throw e.Within(what);
        }
    }

    /// <summary>
    /// Runs are keyed by their training options only; setup.json records the model and data they were
    /// trained on, so that a rerun into the same folder with other data cannot mix results.
    /// </summary>
    private static void CheckSetup(string outFolder, Dictionary<string, string> setup)
    {
        var path = Path.Combine(outFolder, SetupFileName);
        if (File.Exists(path))
        {
            Dictionary<string, string>? stored;
            try
            {
                stored = JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(path));
            }
            catch (JsonException e)
            {
                throw ImplicitRegException.BadInput($"{path}: not a sweep setup file ({e.Message}); use another SweepOptions.OutputDirectory", e);
            }
            var differs = setup.Where(p => stored?.GetValueOrDefault(p.Key) != p.Value).Select(p => p.Key).ToList();
            if (differs.Count > 0)
            {
                throw ImplicitRegException.BadInput($"{outFolder}: holds runs of another setup ({string.Join(", ", differs.Select(k => $"{k} was {stored?.GetValueOrDefault(k) ?? "unset"}, now {setup[k]}"))}); use another SweepOptions.OutputDirectory");
            }
            return;
        }
        Directory.CreateDirectory(outFolder);
        AtomicFile.WriteAllText(path, JsonSerializer.Serialize(setup, Indented) + "\n");
    }
}
