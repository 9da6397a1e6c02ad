using System.CommandLine;
using System.Globalization;
using ImplicitRegOnnx.Cli.Plots;
using ImplicitRegOnnx.Runtime.Experiments;
using ImplicitRegOnnx.Runtime.Training;

namespace ImplicitRegOnnx.Cli.Commands;

/// <summary>
/// <c>implicitreg sweep [MODEL] --data D --test-data T --out-dir DIR [--lr 0.05,0.1 --seed 1,2 ...]</c> or
/// <c>implicitreg sweep --preset quick --out-dir DIR</c>: a grid of training runs (<see cref="SweepRun.FromFiles"/>), with
/// plots (PNG and SVG) drawn here: ScottPlot stays out of the libraries.
/// </summary>
internal static class SweepCommand
{
    public static Command Create(CommandContext context)
    {
        // The library's table of training settings is the run-key contract; each value means what it means for train.
        var lists = TrainingSettings.Table.Select(s => new Option<string?>("--" + s.Name)
        {
            Description = $"{s.Description} As for train{(s.Default is null ? "" : $" (default {s.Default})")}; a comma-separated list sweeps over its values.",
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
        new Option[] { data, testData, labelColumn, normalize, trainSize, testSize, outDir, preset, only, zip, plotX, parallel, threadsPerRun }.Concat(lists).ToList().ForEach(command.Options.Add);
        command.SetAction(parsed => ErrorHandling.Guard(context, () =>
        {
            var options = new SweepFromFilesOptions
            {
                ModelPath = parsed.GetValue(model),
                DataPath = parsed.GetValue(data),
                TestDataPath = parsed.GetValue(testData),
                LabelColumn = parsed.GetValue(labelColumn),
                Normalize = parsed.GetValue(normalize),
                TrainSize = parsed.GetValue(trainSize),
                TestSize = parsed.GetValue(testSize),
                OutputDirectory = parsed.GetValue(outDir)!,
                Preset = parsed.GetValue(preset),
                Experiments = parsed.GetValue(only) is { } o ? SweepGrid.SplitList(o, "SweepFromFilesOptions.Experiments") : null,
                Lists = SweepGrid.SplitLists(lists.Where(l => parsed.GetValue(l) is not null).Select(l => KeyValuePair.Create(l.Name[2..], parsed.GetValue(l)!))),
                Zip = SweepGrid.SplitZip(parsed.GetValue(zip) ?? []),
                PlotX = parsed.GetValue(plotX)?.TrimStart('-'),
                Parallel = parsed.GetValue(parallel),
                ThreadsPerRun = parsed.GetValue(threadsPerRun),
            };
            var (finished, total) = (0, 0);
            var result = SweepRun.FromFiles(options, new SweepCallbacks
            {
                Warning = context.Warn,
                Start = sweep =>
                {
                    total = sweep.Points.Count;
                    var names = string.Join(", ", sweep.Experiments.Select(e => e.Name).Where(n => n.Length > 0));
                    context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"sweep: {total} runs{(names.Length == 0 ? "" : $" ({names})")}, {sweep.RunsAtOnce} at a time with {sweep.ThreadsPerRun} thread(s) each; {sweep.Train.Count} training and {sweep.Test.Count} test examples"));
                },
                Run = (point, run, outcome) => context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{++finished}/{total}] {point.Key}: {(
                    outcome == RunOutcome.Skipped ? "already done"
                    : run.Diverged ? "diverged"
                    : string.Create(CultureInfo.InvariantCulture, $"test accuracy {run.FinalTestAccuracy * 100:0.00}% (best {run.BestTestAccuracy * 100:0.00}%), {run.Seconds:0.0} s"))}")),
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
        }));
        return command;
    }
}
