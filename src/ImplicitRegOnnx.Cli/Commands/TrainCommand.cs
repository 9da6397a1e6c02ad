using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Onnx.IO;
using ImplicitRegOnnx.Runtime;
using ImplicitRegOnnx.Runtime.Data;
using ImplicitRegOnnx.Runtime.Distributed;
using ImplicitRegOnnx.Training;
using ImplicitRegOnnx.Runtime.Training;

namespace ImplicitRegOnnx.Cli.Commands;

/// <summary>
/// <c>implicitreg train [MODEL] [--data D] ...</c>: trains a model with the explicit regularizer on the
/// CPU. With no MODEL and no data it trains the embedded default: models/mlp_tanh.onnx on the sklearn
/// digits shipped in models/data (80/20 split).
/// </summary>
internal static class TrainCommand
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static Command Create(CommandContext context)
    {
        var model = new Argument<string?>("MODEL") { Description = "The .onnx inference model, or a step model written by rewrite or convert (default: the embedded MLP on the embedded digits data).", Arity = ArgumentArity.ZeroOrOne };
        var data = new Option<string?>("--data") { Description = "Training data: .npz with one array per model input, named as the input, plus 'target'; or, for one input, .npz/.npy (x and y), CSV (label column last, or --label-column), IDX (images + labels)." };
        var testData = new Option<string?>("--test-data") { Description = "Held-out data evaluated after every epoch." };
        var labelColumn = new Option<string?>("--label-column") { Description = "CSV label column (name or index; default the last)." };
        var normalize = new Option<string>("--normalize") { Description = "none, scale, scale:D, standardize or minmax (statistics from the training data).", DefaultValueFactory = _ => "none" };
        var training = new TrainOptionSet();
        var threads = new Option<int>("--threads") { Description = "ONNX Runtime threads (0: its default).", DefaultValueFactory = _ => 0 };
        var export = new Option<string?>("--export") { Description = "Write the trained inference model here." };
        var metrics = new Option<string?>("--metrics") { Description = "Write one JSON line per step and per epoch here." };
        var device = new Option<string>("--device") { Description = "auto, cpu or cuda[:N] (auto: CUDA when its provider loads, else the CPU).", DefaultValueFactory = _ => "auto" };
        var checkpointDir = new Option<string?>("--checkpoint-dir") { Description = "Write checkpoints here (every --checkpoint-every steps and at each epoch end)." };
        var checkpointEvery = new Option<int>("--checkpoint-every") { Description = "Steps between checkpoints (0: epoch ends only).", DefaultValueFactory = _ => 0 };
        var keepCheckpoints = new Option<int>("--keep-checkpoints") { Description = "How many of the newest checkpoints to keep.", DefaultValueFactory = _ => 3 };
        var resume = new Option<bool>("--resume") { Description = "Continue from the newest checkpoint in --checkpoint-dir (same options required)." };
        var summary = new Option<string?>("--summary-json") { Description = "Write a summary (test_accuracy, test_loss, test_mse, test_mae, train_loss, penalty, epochs_completed, steps, resumed_from_step, stop_reason, seconds, device, workers: the MPI processes, train_seconds: the steps alone, allreduce_seconds: averaging the gradients)." };
        var monitor = new Option<string?>("--monitor") { Description = $"Metric for --patience and --keep-best, optionally :min or :max ({string.Join(", ", TrainingMetrics.Names)}; default test_loss with --test-data, else train_loss)." };
        var patience = new Option<int?>("--patience") { Description = "Early stopping: stop after this many epochs without improvement of --monitor." };
        var minDelta = new Option<double>("--min-delta") { Description = "How much better than the best an epoch must be to count as an improvement.", DefaultValueFactory = _ => 0 };
        var keepBest = new Option<string?>("--keep-best") { Description = "Write the inference model of the best epoch by --monitor here." };
        var initModel = new Option<string?>("--init-model") { Description = "A step model's initial-state model (default: TRAIN.init.onnx beside it)." };
        var evalModel = new Option<string?>("--eval-model") { Description = "A step model's evaluation model (default: TRAIN.eval.onnx beside it, when there)." };

        var command = new Command("train", "Train a model (an inference model, or a step model written by rewrite or convert) with the explicit implicit-regularization penalty.");
        command.Arguments.Add(model);
        foreach (var option in new Option[] { data, testData, labelColumn, normalize })
        {
            command.Options.Add(option);
        }
        training.AddTo(command);
        foreach (var option in new Option[] { threads, device, checkpointDir, checkpointEvery, keepCheckpoints, resume, monitor, patience, minDelta, keepBest, initModel, evalModel, export, metrics, summary })
        {
            command.Options.Add(option);
        }
        command.SetAction(parsed => DistributedCommand.Run(context, (context, world) =>
        {
            var modelPath = parsed.GetValue(model);
            var dataPath = parsed.GetValue(data);
            if (modelPath is not null && dataPath is null)
            {
                throw ImplicitRegException.BadInput("--data is required with a MODEL (only the embedded default trains without data)");
            }
            var (parsedOptions, lossName) = training.Parse(parsed);
            var (monitorName, monitorMode) = ParseMonitor(parsed.GetValue(monitor));
            var trainerOptions = parsedOptions with
            {
                Threads = parsed.GetValue(threads),
                CheckpointDirectory = parsed.GetValue(checkpointDir),
                CheckpointEvery = parsed.GetValue(checkpointEvery),
                KeepCheckpoints = parsed.GetValue(keepCheckpoints),
                Resume = parsed.GetValue(resume),
                Monitor = monitorName,
                MonitorMode = monitorMode,
                EarlyStoppingPatience = parsed.GetValue(patience),
                MinDelta = parsed.GetValue(minDelta),
                KeepBestPath = parsed.GetValue(keepBest),
                Device = Device.TryParse(parsed.GetValue(device)!, out var chosenDevice)
                    ? chosenDevice
                    : throw ImplicitRegException.BadInput($"--device {parsed.GetValue(device)}: use auto, cpu, cuda or cuda:N"),
            };
            LossKind? loss = lossName is null ? null
                : Losses.TryParse(lossName, out var kind) ? kind
                : throw ImplicitRegException.BadInput($"--loss {lossName}: unknown loss; use one of {string.Join(", ", Losses.Names)}");
            var options = new TrainFromFilesOptions
            {
                ModelPath = modelPath ?? ModelFiles.DefaultModelName,
                DataPath = dataPath,
                TestDataPath = parsed.GetValue(testData),
                LabelColumn = parsed.GetValue(labelColumn),
                Normalize = parsed.GetValue(normalize)!,
                Loss = loss,
                InitPath = parsed.GetValue(initModel),
                EvalPath = parsed.GetValue(evalModel),
                Trainer = trainerOptions,
                ExportPath = parsed.GetValue(export),
                MetricsPath = parsed.GetValue(metrics),
            };
            if (modelPath is null)
            {
                var (train, test) = LoadData(null, null, null, null, "none");
                options = options with { Model = ModelFiles.LoadDefault(), DataPath = null, Train = train, Test = test };
            }
            // Bad values fail before the model and the data files are read.
            options.Validate();
            if (modelPath is not null)
            {
                options = options with { Model = ModelFiles.Load(modelPath, context) };
            }
            return Execute(context, options, parsed.GetValue(summary), world);
        }));
        return command;
    }

    /// <summary>--monitor NAME[:min|max].</summary>
    private static (string? Name, MonitorMode Mode) ParseMonitor(string? text)
    {
        if (text is null)
        {
            return (null, MonitorMode.Auto);
        }
        var parts = text.Split(':');
        var mode = parts.Length == 1 ? MonitorMode.Auto
            : parts.Length == 2 && parts[1] == "min" ? MonitorMode.Min
            : parts.Length == 2 && parts[1] == "max" ? MonitorMode.Max
            : throw ImplicitRegException.BadInput($"--monitor {text}: use METRIC, METRIC:min or METRIC:max");
        return (parts[0], mode);
    }

    /// <summary>Training and test data of <c>train</c> and <c>sweep</c>: the files, or the embedded digits (80/20 split) when no path is given.</summary>
    internal static (Dataset Train, Dataset? Test) LoadData(Model? inference, string? dataPath, string? testPath, string? labelColumn, string normalize)
    {
        if (dataPath is null)
        {
            using var stream = typeof(TrainCommand).Assembly.GetManifestResourceStream("ImplicitRegOnnx.Cli.Digits.csv.gz")
                ?? throw new InvalidOperationException("The embedded digits data is missing from this build.");
            var (train, test) = DigitsData.Load(stream, "embedded digits data", testFraction: 0.2, seed: 0);
            return (train, test);
        }
        ArgumentNullException.ThrowIfNull(inference);
        return TrainingWorkflow.LoadData(dataPath, testPath, DataInput.Of(inference), labelColumn, normalize);
    }

    /// <summary>Runs <see cref="TrainingWorkflow.TrainFromFiles"/>, printing progress and the result; writes the summary JSON.</summary>
    public static int Execute(CommandContext context, TrainFromFilesOptions options, string? summaryPath, ICollectives? world = null)
    {
        var trainerOptions = options.Trainer;
        var printer = new ConsolePrinter(context, options.ModelPath, trainerOptions);
        // Ctrl+C (SIGINT) or SIGTERM: the trainer finishes the step it is in, writes a checkpoint when
        // --checkpoint-dir is set, and the cancelled error says where (exit code 130). A second signal ends the process.
        using var cancellation = new CancellationTokenSource();
        void OnSignal(PosixSignalContext signal)
        {
            if (cancellation.IsCancellationRequested)
            {
                return;
            }
            signal.Cancel = true;
            context.Error.WriteLine("implicitreg: stopping after the current step (send the signal again to quit at once)");
            cancellation.Cancel();
        }
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        var result = (world is null || world.Size == 1) && ProgressDisplay.IsInteractive(context)
            ? ProgressDisplay.Run(trainerOptions, printer, callbacks => TrainingWorkflow.TrainFromFiles(options, callbacks, cancellation: cancellation.Token))
            : TrainingWorkflow.TrainFromFiles(options, [printer], world, cancellation.Token);
        if (result.ResumedFromStep > 0)
        {
            context.Out.WriteLine($"resumed from step {result.ResumedFromStep}");
        }
        if (result.StopReason is { } reason)
        {
            context.Out.WriteLine("stopped: " + reason);
        }
        if (result.Best is not null && trainerOptions.KeepBestPath is { } best)
        {
            context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"best {result.Monitor} {result.Best.Best:0.0000} at epoch {result.Best.BestEpoch + 1}: {best}"));
        }
        if (result.ExportPath is not null)
        {
            context.Out.WriteLine($"wrote {result.ExportPath}");
        }
        if (summaryPath is not null && result.Writes)
        {
            var summary = new Dictionary<string, object?>
            {
                ["test_accuracy"] = result.TestAccuracy,
                ["test_loss"] = result.TestLoss,
                ["test_mse"] = result.TestMeanSquaredError,
                ["test_mae"] = result.TestMeanAbsoluteError,
                ["train_loss"] = result.TrainLoss,
                ["penalty"] = result.Penalty,
                ["epochs_completed"] = result.Epochs.Count,
                ["steps"] = result.Steps,
                ["resumed_from_step"] = result.ResumedFromStep,
                ["stop_reason"] = result.StopReason,
                ["seconds"] = Math.Round(result.Seconds, 3),
                ["device"] = result.Device.Split(' ')[0],
                ["workers"] = result.Workers,
                ["train_seconds"] = Math.Round(result.TrainSeconds, 3),
                ["allreduce_seconds"] = Math.Round(result.AllReduceSeconds, 6),
            };
            AtomicFile.WriteAllText(summaryPath, JsonSerializer.Serialize(summary, Indented) + "\n");
        }
        context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"done: {result.Steps} steps in {result.Seconds:0.0} s"));
        return ExitCodes.Ok;
    }

    /// <summary>The plain output: one line when training starts and one per epoch.</summary>
    internal sealed class ConsolePrinter(CommandContext context, string modelName, TrainerOptions options) : TrainerCallback
    {
        /// <summary>Where lines go (the progress display swaps it for its own).</summary>
        public Action<string> Print { get; set; } = context.Out.WriteLine;

        public override void OnStart(Trainer trainer, TrainingStart start) => Print(string.Create(CultureInfo.InvariantCulture,
            $"training {modelName}: {start.Examples} examples, batch {options.BatchSize}, lr {options.LearningRate:g4}, {Describe(trainer, options)}, device {trainer.DeviceDescription}{Processes(trainer, options)}"));

        public override void OnEpoch(Trainer trainer, EpochEvent e) => Print(EpochLine(e, options.Epochs));
    }

    private static string Processes(Trainer trainer, TrainerOptions options) => trainer.Workers > 1
        ? string.Create(CultureInfo.InvariantCulture, $", {trainer.Workers} processes (MPI), {options.BatchSize / trainer.Workers} examples each")
        : "";

    private static string EpochLine(EpochEvent e, int epochs)
    {
        var line = string.Create(CultureInfo.InvariantCulture,
            $"epoch {e.Epoch + 1}/{epochs}  step {e.Steps}  loss {e.TrainLoss:0.0000}  penalty {e.Penalty:0.0000}");
        if (e.Test is { } t)
        {
            line += string.Create(CultureInfo.InvariantCulture, $"  test loss {t.Loss:0.0000}");
            if (t.MeanSquaredError is { } mse && t.MeanAbsoluteError is { } mae)
            {
                line += string.Create(CultureInfo.InvariantCulture, $"  test mse {mse:0.0000}  mae {mae:0.0000}");
            }
            if (t.Accuracy is { } a)
            {
                line += string.Create(CultureInfo.InvariantCulture, $"  test accuracy {a * 100:0.00}%");
            }
        }
        return line;
    }

    private static string Describe(Trainer trainer, TrainerOptions options)
    {
        var scale = options.PenaltyCoefficient is { } c ? string.Create(CultureInfo.InvariantCulture, $"c = {c:g4}") : "c = ε(t)/4";
        var metadata = trainer.StepModel.Model.MetadataProps;
        string Meta(string key) => metadata.LastOrDefault(e => e.Key == "implicitreg." + key)?.Value ?? "?";
        return Meta("penalty") == "none"
            ? "no penalty"
            : $"{Meta("penalty")} penalty {scale}, n = {Meta("microbatches")}";
    }
}
