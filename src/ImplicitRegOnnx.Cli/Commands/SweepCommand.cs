using System.CommandLine;
using System.Globalization;
using ImplicitRegOnnx.Cli.Plots;
using ImplicitRegOnnx.Runtime;
using ImplicitRegOnnx.Runtime.Experiments;
using ImplicitRegOnnx.Runtime.Training;

namespace ImplicitRegOnnx.Cli.Commands;

/// <summary>
/// <c>implicitreg sweep [MODEL] --data D --test-data T --out-dir DIR [--lr 0.05,0.1 --seed 1,2 ...]</c> or
/// <c>implicitreg sweep --preset quick --out-dir DIR</c>: a grid of training runs, several at a time,
/// resumable (<see cref="SweepRun"/>), with results as CSV/JSON lines, a Markdown table (mean ± std over
/// seeds) and plots (PNG and SVG, drawn here: ScottPlot stays out of the libraries).
/// </summary>
internal static class SweepCommand
{
    public static Command Create(CommandContext context)
    {
        var training = new TrainOptionSet();
        // The library's table of sweepable options is the run-key contract; each is parsed as train parses it.
        var lists = SweepableOptions.Names.Select(name => new Option<string?>("--" + name)
        {
            Description = $"{training.DescriptionOf("--" + name)} As for train (same default); a comma-separated list sweeps over its values.",
        }).ToList();
        var model = new Argument<string?>("MODEL") { Description = "The .onnx inference model (a preset's default: models/mlp_relu.onnx).", Arity = ArgumentArity.ZeroOrOne };
        var data = new Option<string?>("--data") { Description = "Training data (as for train); a preset's default: Debian's Fashion-MNIST training images." };
        var testData = new Option<string?>("--test-data") { Description = "Test data evaluated after every epoch (required without a preset)." };
        var labelColumn = new Option<string?>("--label-column") { Description = "CSV label column (name or index; default the last)." };
        var normalize = new Option<string?>("--normalize") { Description = "none, scale, scale:D, standardize or minmax (default none; presets: scale)." };
        var trainSize = new Option<int?>("--train-size") { Description = "Use the first N training examples (default all; presets fix it)." };
        var testSize = new Option<int?>("--test-size") { Description = "Use the first N test examples (default all; presets fix it)." };
        var outDir = new Option<string>("--out-dir") { Description = "Where runs/, results and plots go (runs already there are skipped).", Required = true };
        var preset = new Option<string?>("--preset") { Description = "quick (the five experiments in about 20 minutes on 2 cores) or full (hours)." };
        var only = new Option<string?>("--experiments") { Description = "With --preset: a comma-separated subset of experiments (a, b, c, d, e)." };
        var zip = new Option<string[]>("--zip") { Description = "Options whose lists go together instead of crossed, e.g. --zip batch-size,lr (repeatable).", AllowMultipleArgumentsPerToken = false };
        var plotX = new Option<string?>("--plot-x") { Description = "Option on the plots' x axis (default: lr when it is listed, else the first listed option)." };
        var parallel = new Option<int?>("--parallel") { Description = "Runs at a time (default: cores / --threads-per-run)." };
        var threadsPerRun = new Option<int>("--threads-per-run") { Description = "ONNX Runtime threads of each run.", DefaultValueFactory = _ => 1 };

        var command = new Command("sweep", "Run a grid of training runs (in parallel, resumable) and write results, tables and plots.");
        command.Arguments.Add(model);
        foreach (var option in new Option[] { data, testData, labelColumn, normalize, trainSize, testSize, outDir, preset, only, zip, plotX, parallel, threadsPerRun })
        {
            command.Options.Add(option);
        }
        foreach (var option in lists)
        {
            command.Options.Add(option);
        }
        command.SetAction(parsed => ErrorHandling.Guard(context, () =>
        {
            var given = lists.Select(o => (Name: o.Name[2..], Value: parsed.GetValue(o))).Where(p => p.Value is not null)
                .Select(p => KeyValuePair.Create(p.Name, SplitList(p.Name, p.Value!))).ToList();
            var presetName = parsed.GetValue(preset);
            IReadOnlyList<SweepExperiment> experiments;
            SweepSetup? setup = null;
            if (presetName is not null)
            {
                if (!SweepPresets.Names.Contains(presetName))
                {
                    throw ImplicitRegException.BadInput($"--preset {presetName}: use one of {string.Join(", ", SweepPresets.Names)}");
                }
                if (given.FirstOrDefault(p => p.Key != SweepAggregation.SeedOption) is { Key: { } fixedByPreset })
                {
                    throw ImplicitRegException.BadInput($"--{fixedByPreset}: a preset fixes the training options (only --seed may be given with --preset)");
                }
                setup = SweepPresets.Setup(presetName);
                var seeds = given.FirstOrDefault(p => p.Key == SweepAggregation.SeedOption).Value;
                experiments = SelectExperiments(SweepPresets.Experiments(presetName, seeds), parsed.GetValue(only));
            }
            else
            {
                if (parsed.GetValue(only) is not null)
                {
                    throw ImplicitRegException.BadInput("--experiments selects experiments of a --preset; give --preset too");
                }
                if (parsed.GetValue(testData) is null)
                {
                    throw ImplicitRegException.BadInput("--test-data is required (test accuracy is what a sweep compares), or use --preset");
                }
                experiments = [PlainExperiment(given, parsed.GetValue(zip) ?? [], parsed.GetValue(plotX))];
            }

            // Every point is checked before any data is read, so a bad value fails at once, naming its option.
            var pointCommand = new Command("point");
            training.AddTo(pointCommand);
            var points = experiments.SelectMany(e => e.Points).DistinctBy(p => p.Key, StringComparer.Ordinal).ToList();
            var parsedPoints = points.ToDictionary(p => p.Key, p => ParsePoint(pointCommand, training, p), StringComparer.Ordinal);

            var modelPath = parsed.GetValue(model) ?? setup?.Model
                ?? throw ImplicitRegException.BadInput("MODEL is required without --preset");
            var dataPath = parsed.GetValue(data) ?? setup?.Data
                ?? throw ImplicitRegException.BadInput("--data is required without --preset");
            var testPath = parsed.GetValue(testData) ?? setup!.TestData;
            foreach (var (path, what) in new[] { (dataPath, "--data"), (testPath, "--test-data") })
            {
                if (!File.Exists(path) && !Directory.Exists(path))
                {
                    var hint = path.StartsWith(SweepPresets.FashionMnist, StringComparison.Ordinal)
                        ? "; install Debian's Fashion-MNIST (apt-get install dataset-fashion-mnist) or give " + what
                        : "";
                    throw ImplicitRegException.BadInput($"{path}: no such file ({what}){hint}");
                }
            }
            var inference = ModelFiles.Load(modelPath, context);
            var normalization = parsed.GetValue(normalize) ?? setup?.Normalize ?? "none";
            var (train, test) = TrainCommand.LoadData(inference, dataPath, testPath, parsed.GetValue(labelColumn), normalization);
            var trainCount = parsed.GetValue(trainSize) ?? setup?.TrainSize;
            var testCount = parsed.GetValue(testSize) ?? setup?.TestSize;
            if (trainCount is < 1 || testCount is < 1)
            {
                throw ImplicitRegException.BadInput("--train-size and --test-size must be at least 1");
            }
            train = trainCount is { } n ? train.Take(n) : train;
            var held = testCount is { } t ? test!.Take(t) : test!;
            var options = new SweepOptions
            {
                Model = inference,
                Train = train,
                Test = held,
                Experiments = experiments,
                PointOptions = point => TrainOptionSet.WithLoss(parsedPoints[point.Key].Options, parsedPoints[point.Key].LossName, train.HasClassLabels),
                OutputDirectory = parsed.GetValue(outDir)!,
                Parallel = parsed.GetValue(parallel),
                ThreadsPerRun = parsed.GetValue(threadsPerRun),
                Setup = new Dictionary<string, string>(StringComparer.Ordinal)
                {
                    ["model"] = Path.GetFileName(modelPath),
                    ["data"] = Path.GetFileName(dataPath),
                    ["test_data"] = Path.GetFileName(testPath),
                    ["normalize"] = normalization,
                },
            };
            return Execute(context, options);
        }));
        return command;
    }

    private static int Execute(CommandContext context, SweepOptions options)
    {
        options.Validate();
        var points = options.Points;
        context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"sweep: {points.Count} runs{Experiments(options.Experiments)}, {options.RunsAtOnce} at a time with {options.ThreadsPerRun} thread(s) each; {options.Train.Count} training and {options.Test.Count} test examples"));
        var finished = 0;
        var result = SweepRun.Run(options, (point, result, outcome) =>
        {
            finished++;
            var what = outcome == RunOutcome.Skipped
                ? "already done"
                : result.Diverged
                    ? "diverged"
                    : string.Create(CultureInfo.InvariantCulture, $"test accuracy {result.FinalTestAccuracy * 100:0.00}% (best {result.BestTestAccuracy * 100:0.00}%), {result.Seconds:0.0} s");
            context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{finished}/{points.Count}] {point.Key}: {what}"));
        });
        foreach (var experiment in result.Experiments)
        {
            if (experiment.Plottable)
            {
                SweepPlots.Write(experiment.Folder, experiment.Experiment, experiment.Rows);
            }
            context.Out.WriteLine($"wrote {experiment.Folder}: results.csv, results.jsonl, summary.csv, table.md and plots");
        }
        return ExitCodes.Ok;
    }

    private static string Experiments(IReadOnlyList<SweepExperiment> experiments)
    {
        var names = experiments.Select(e => e.Name).Where(n => n.Length > 0).ToList();
        return names.Count == 0 ? "" : $" ({string.Join(", ", names)})";
    }

    private static IReadOnlyList<string> SplitList(string name, string value)
    {
        try
        {
            return SweepGrid.SplitList(value);
        }
        catch (ImplicitRegException e)
        {
            throw e.Within("--" + name);
        }
    }

    /// <summary>One point's values parsed exactly as train parses them; a bad value is a usage error naming its option (the library validates the options).</summary>
    private static (TrainerOptions Options, string? LossName) ParsePoint(Command pointCommand, TrainOptionSet training, SweepPoint point)
    {
        var args = point.Values.SelectMany(p => new[] { "--" + p.Key, p.Value }).ToArray();
        var parsed = pointCommand.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            throw ImplicitRegException.BadInput($"{parsed.Errors[0].Message.TrimEnd('.')} (sweep point {point.Key})");
        }
        return ErrorHandling.About($"sweep point {point.Key}", () => training.Parse(parsed));
    }

    private static SweepExperiment PlainExperiment(List<KeyValuePair<string, IReadOnlyList<string>>> given, string[] zip, string? plotX)
    {
        IReadOnlyList<SweepAxis> axes;
        try
        {
            axes = SweepGrid.Axes(given, [.. zip.Select(z => SplitList("zip", z).Select(n => n.TrimStart('-')).ToList())]);
        }
        catch (ImplicitRegException e)
        {
            throw e.Within("--zip");
        }
        var points = SweepGrid.Expand(axes);
        var listed = given.Where(p => p.Value.Count > 1).Select(p => p.Key).ToList();
        var x = plotX?.TrimStart('-') ?? (listed.Contains("lr") ? "lr" : listed.FirstOrDefault(n => n != SweepAggregation.SeedOption) ?? "lr");
        if (plotX is not null && !given.Any(p => p.Key == x))
        {
            throw ImplicitRegException.BadInput($"--plot-x {plotX}: not one of the given options ({string.Join(", ", given.Select(p => "--" + p.Key))})");
        }
        // One series per combination of the other listed options (seeds aside).
        var seriesOptions = listed.Where(n => n != x && n != SweepAggregation.SeedOption).ToList();
        var series = points.GroupBy(p => string.Join(", ", seriesOptions.Select(n => $"{n} = {p[n]}")), StringComparer.Ordinal)
            .Select(g => new SweepSeries(g.Key.Length == 0 ? "runs" : g.Key, [.. g])).ToList();
        return new SweepExperiment("", $"test accuracy against {x}", x, x, LogX: x is "lr" or "batch-size" or "lambda" or "coefficient", series);
    }

    private static IReadOnlyList<SweepExperiment> SelectExperiments(IReadOnlyList<SweepExperiment> all, string? only)
    {
        if (only is null)
        {
            return all;
        }
        var wanted = SplitList("experiments", only);
        var unknown = wanted.Where(w => !all.Any(e => e.Name.StartsWith(w + "-", StringComparison.Ordinal) || e.Name == w)).ToList();
        if (unknown.Count > 0)
        {
            throw ImplicitRegException.BadInput($"--experiments {only}: no experiment {string.Join(", ", unknown)}; use {string.Join(", ", all.Select(e => e.Name[..1]))}");
        }
        return [.. all.Where(e => wanted.Any(w => e.Name.StartsWith(w + "-", StringComparison.Ordinal) || e.Name == w))];
    }
}
