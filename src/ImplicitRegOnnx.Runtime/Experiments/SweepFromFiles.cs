using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Runtime.Data;
using ImplicitRegOnnx.Runtime.Training;
using ImplicitRegOnnx.Runtime.Workflows;

namespace ImplicitRegOnnx.Runtime.Experiments;

/// <summary>
/// What <see cref="SweepRun.FromFiles"/> sweeps: a preset of docs/reproduction.md (<see cref="SweepPresets"/>), or a grid
/// of training settings (<see cref="TrainingSettings"/>) given as lists, on a model and data files.
/// </summary>
public sealed record SweepFromFilesOptions
{
    /// <summary>The inference model; null: the preset's.</summary>
    public string? ModelPath { get; init; }

    /// <summary>The training data (as for <see cref="TrainingWorkflow.LoadData"/>); null: the preset's.</summary>
    public string? DataPath { get; init; }

    /// <summary>The test data evaluated after every epoch (required without a preset: test accuracy is what a sweep compares).</summary>
    public string? TestDataPath { get; init; }

    /// <summary>CSV label column (name or index; default the last).</summary>
    public string? LabelColumn { get; init; }

    /// <summary>none, scale, scale:D, standardize or minmax (<see cref="Normalization.Parse"/>); null: the preset's, else none.</summary>
    public string? Normalize { get; init; }

    /// <summary>Use the first N training examples; null: the preset's, else all.</summary>
    public int? TrainSize { get; init; }

    /// <summary>Use the first N test examples; null: the preset's, else all.</summary>
    public int? TestSize { get; init; }

    /// <summary>Where runs/, setup.json and the results go (<see cref="SweepOptions.OutputDirectory"/>).</summary>
    public required string OutputDirectory { get; init; }

    /// <summary>A preset (<see cref="SweepPresets.Names"/>): it fixes the experiments, model, data and sizes; only seeds may be listed with it.</summary>
    public string? Preset { get; init; }

    /// <summary>With a preset: the experiments to run, by their letter or name (a, b, c, d, e); null: all.</summary>
    public IReadOnlyList<string>? Experiments { get; init; }

    /// <summary>Setting name (<see cref="TrainingSettings.Names"/>) → its values, in the order given; a list of several sweeps over them.</summary>
    public IReadOnlyList<KeyValuePair<string, IReadOnlyList<string>>> Lists { get; init; } = [];

    /// <summary>Groups of settings whose lists go together instead of crossed (<see cref="SweepGrid.Axes"/>).</summary>
    public IReadOnlyList<IReadOnlyList<string>> Zip { get; init; } = [];

    /// <summary>The setting on the plots' x axis; null: lr when it is listed, else the first listed setting.</summary>
    public string? PlotX { get; init; }

    /// <summary>Runs at a time (<see cref="SweepOptions.Parallel"/>).</summary>
    public int? Parallel { get; init; }

    /// <summary>ONNX Runtime threads of each run.</summary>
    public int ThreadsPerRun { get; init; } = 1;

    /// <summary>The experiments these options describe, every point's settings parsed (<see cref="TrainingSettings.Parse"/>); reads no file.</summary>
    /// <exception cref="ImplicitRegException">Of kind <see cref="ErrorKind.BadInput"/>, naming the bad property, setting or sweep point.</exception>
    public IReadOnlyList<SweepExperiment> BuildExperiments()
    {
        if (Lists.FirstOrDefault(l => TrainingSettings.Find(l.Key) is null) is { Key: { } unknown })
        {
            throw ImplicitRegException.BadParameter("SweepFromFilesOptions.Lists", $"'{unknown}' is not a training setting; use one of {string.Join(", ", TrainingSettings.Names)}");
        }
        IReadOnlyList<SweepExperiment> experiments;
        if (Preset is not null)
        {
            SweepPresets.Setup(Preset);
            if (Lists.FirstOrDefault(l => l.Key != SweepableOptions.Seed) is { Key: { } fixedByPreset })
            {
                var parameter = TrainingSettings.Find(fixedByPreset)!.Parameter;
                throw new ImplicitRegException(ErrorKind.BadInput, $"{parameter}: a preset fixes the training options (only TrainerOptions.Seed may be given with SweepFromFilesOptions.Preset)", null, parameter);
            }
            experiments = Select(SweepPresets.Experiments(Preset, Lists.FirstOrDefault(l => l.Key == SweepableOptions.Seed).Value));
        }
        else
        {
            if (Experiments is not null)
            {
                throw ImplicitRegException.BadParameter("SweepFromFilesOptions.Experiments", "selects experiments of a SweepFromFilesOptions.Preset; give SweepFromFilesOptions.Preset too");
            }
            if (TestDataPath is null)
            {
                throw ImplicitRegException.BadParameter("SweepFromFilesOptions.TestDataPath", "is required (test accuracy is what a sweep compares), or use SweepFromFilesOptions.Preset");
            }
            experiments = [GridExperiment()];
        }
        if (TrainSize is < 1 || TestSize is < 1)
        {
            throw ImplicitRegException.BadParameter(TrainSize is < 1 ? "SweepFromFilesOptions.TrainSize" : "SweepFromFilesOptions.TestSize", "must be at least 1");
        }
        // Every point is checked before any data is read, so a bad value fails at once, naming its setting and point.
        foreach (var point in experiments.SelectMany(e => e.Points).DistinctBy(p => p.Key, StringComparer.Ordinal))
        {
            WorkflowFiles.About($"sweep point {point.Key}", () => TrainingSettings.Parse(point.Values).Trainer);
        }
        return experiments;
    }

    /// <summary>The one experiment of a grid: series per combination of the other listed settings (seeds aside), against <see cref="PlotX"/>.</summary>
    private SweepExperiment GridExperiment()
    {
        var axes = WorkflowFiles.About("SweepFromFilesOptions.Zip", () => SweepGrid.Axes(Lists, Zip));
        var points = SweepGrid.Expand(axes);
        var listed = Lists.Where(p => p.Value.Count > 1).Select(p => p.Key).ToList();
        var x = PlotX ?? (listed.Contains("lr") ? "lr" : listed.FirstOrDefault(n => n != SweepableOptions.Seed) ?? "lr");
        if (PlotX is not null && !Lists.Any(p => p.Key == x))
        {
            throw ImplicitRegException.BadParameter("SweepFromFilesOptions.PlotX", $"{PlotX}: not one of the listed settings ({string.Join(", ", Lists.Select(p => p.Key))})");
        }
        var seriesSettings = listed.Where(n => n != x && n != SweepableOptions.Seed).ToList();
        var series = points.GroupBy(p => string.Join(", ", seriesSettings.Select(n => $"{n} = {p[n]}")), StringComparer.Ordinal)
            .Select(g => new SweepSeries(g.Key.Length == 0 ? "runs" : g.Key, [.. g])).ToList();
        return new SweepExperiment("", $"test accuracy against {x}", x, x, LogX: x is "lr" or "batch-size" or "lambda" or "coefficient", series);
    }

    private IReadOnlyList<SweepExperiment> Select(IReadOnlyList<SweepExperiment> all)
    {
        if (Experiments is null)
        {
            return all;
        }
        bool Matches(SweepExperiment e, string wanted) => e.Name == wanted || e.Name.StartsWith(wanted + "-", StringComparison.Ordinal);
        var unknown = Experiments.Where(w => !all.Any(e => Matches(e, w))).ToList();
        if (unknown.Count > 0)
        {
            throw ImplicitRegException.BadParameter("SweepFromFilesOptions.Experiments", $"{string.Join(",", Experiments)}: no experiment {string.Join(", ", unknown)}; use {string.Join(", ", all.Select(e => e.Name[..1]))}");
        }
        return [.. all.Where(e => Experiments.Any(w => Matches(e, w)))];
    }
}

/// <summary>What <see cref="SweepRun.FromFiles"/> reports while it works (each optional; called one at a time).</summary>
public sealed record SweepCallbacks
{
    /// <summary>A warning about the model (e.g. an IR version newer than the toolkit knows).</summary>
    public Action<string>? Warning { get; init; }

    /// <summary>The sweep as loaded (data subset and normalized), before the first run.</summary>
    public Action<SweepOptions>? Start { get; init; }

    /// <summary>After each point, skipped or trained (<see cref="SweepRun.Run"/>).</summary>
    public Action<SweepPoint, RunResult, RunOutcome>? Run { get; init; }
}

public static partial class SweepRun
{
    /// <summary>
    /// A sweep from files (<c>implicitreg sweep</c>): builds the experiments (every point checked first), checks that the
    /// data files exist, loads and normalizes the data, takes the subsets, and runs <see cref="Run"/>.
    /// </summary>
    /// <param name="options">What to sweep.</param>
    /// <param name="callbacks">Progress: warnings, the start, each run.</param>
    /// <param name="cancellation">Stops starting new runs.</param>
    /// <exception cref="ImplicitRegException">Bad options, a missing file (with how to get the presets' Fashion-MNIST), bad data, another setup in the folder, or a run's own error.</exception>
    public static SweepResult FromFiles(SweepFromFilesOptions options, SweepCallbacks? callbacks = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var experiments = options.BuildExperiments();
        var setup = options.Preset is null ? null : SweepPresets.Setup(options.Preset);
        var modelPath = options.ModelPath ?? setup?.Model
            ?? throw ImplicitRegException.BadParameter("SweepFromFilesOptions.ModelPath", "is required without SweepFromFilesOptions.Preset");
        var dataPath = options.DataPath ?? setup?.Data
            ?? throw ImplicitRegException.BadParameter("SweepFromFilesOptions.DataPath", "is required without SweepFromFilesOptions.Preset");
        var testPath = options.TestDataPath ?? setup!.TestData;
        foreach (var (path, parameter) in new[] { (dataPath, "SweepFromFilesOptions.DataPath"), (testPath, "SweepFromFilesOptions.TestDataPath") })
        {
            if (!File.Exists(path) && !Directory.Exists(path))
            {
                var hint = path.StartsWith(SweepPresets.FashionMnist, StringComparison.Ordinal)
                    ? "; install Debian's Fashion-MNIST (apt-get install dataset-fashion-mnist) or give " + parameter
                    : "";
                throw ImplicitRegException.BadInput($"{path}: no such file ({parameter}){hint}");
            }
        }
        var warnings = new List<string>();
        var model = WorkflowFiles.Load(modelPath, warnings);
        warnings.ForEach(w => callbacks?.Warning?.Invoke(w));
        var normalization = options.Normalize ?? setup?.Normalize ?? "none";
        var (train, test) = TrainingWorkflow.LoadData(dataPath, testPath, DataInput.Of(model), options.LabelColumn, normalization);
        var sweep = new SweepOptions
        {
            Model = model,
            Train = (options.TrainSize ?? setup?.TrainSize) is { } n ? train.Take(n) : train,
            Test = (options.TestSize ?? setup?.TestSize) is { } t ? test!.Take(t) : test!,
            Experiments = experiments,
            OutputDirectory = options.OutputDirectory,
            Parallel = options.Parallel,
            ThreadsPerRun = options.ThreadsPerRun,
            Setup = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["model"] = Path.GetFileName(modelPath),
                ["data"] = Path.GetFileName(dataPath),
                ["test_data"] = Path.GetFileName(testPath),
                ["normalize"] = normalization,
            },
        };
        sweep.Validate();
        callbacks?.Start?.Invoke(sweep);
        return Run(sweep, callbacks?.Run, cancellation);
    }
}
