using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using ImplicitRegOnnx.Runtime.Data;
using ImplicitRegOnnx.Runtime.Distributed;
using ImplicitRegOnnx.Runtime.Training;

namespace ImplicitRegOnnx.Cli.Commands;

/// <summary>
/// <c>implicitreg train [MODEL] [--data D] ...</c>: trains a model with the explicit regularizer (<see cref="TrainingWorkflow.TrainFromFiles"/>).
/// With no MODEL it trains the embedded default: models/mlp_tanh.onnx on the sklearn digits (<see cref="DigitsData.LoadEmbedded"/>).
/// </summary>
internal static class TrainCommand
{
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
        new Option[] { data, testData, labelColumn, normalize }.ToList().ForEach(command.Options.Add);
        training.AddTo(command);
        new Option[] { threads, device, checkpointDir, checkpointEvery, keepCheckpoints, resume, monitor, patience, minDelta, keepBest, initModel, evalModel, export, metrics, summary }.ToList().ForEach(command.Options.Add);
        command.SetAction(parsed => DistributedCommand.Run(context, (context, world) =>
        {
            var modelPath = parsed.GetValue(model);
            var settings = training.Parse(parsed);
            var (monitorName, monitorMode) = TrainingSettings.ParseMonitor(parsed.GetValue(monitor));
            (Dataset? Train, Dataset? Test) embedded = modelPath is null ? DigitsData.LoadEmbedded() : (null, null);
            var options = new TrainFromFilesOptions
            {
                ModelPath = modelPath ?? ModelFiles.DefaultModelName,
                DataPath = modelPath is null ? null : parsed.GetValue(data),
                Train = embedded.Train,
                Test = embedded.Test,
                TestDataPath = parsed.GetValue(testData),
                LabelColumn = parsed.GetValue(labelColumn),
                Normalize = parsed.GetValue(normalize)!,
                Loss = settings.Loss,
                InitPath = parsed.GetValue(initModel),
                EvalPath = parsed.GetValue(evalModel),
                ExportPath = parsed.GetValue(export),
                MetricsPath = parsed.GetValue(metrics),
                Trainer = settings.Trainer with
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
                    Device = TrainingSettings.ParseDevice(parsed.GetValue(device)!),
                },
            };
            // Bad values fail before the model and the data files are read.
            options.Validate();
            options = options with { Model = modelPath is null ? ModelFiles.LoadDefault() : ModelFiles.Load(modelPath, context) };
            return Execute(context, options, parsed.GetValue(summary), world);
        }));
        return command;
    }

    /// <summary>Runs <see cref="TrainingWorkflow.TrainFromFiles"/>, printing progress and the result; writes the summary JSON.</summary>
    private static int Execute(CommandContext context, TrainFromFilesOptions options, string? summaryPath, ICollectives? world = null)
    {
        var printer = new ConsolePrinter(context, options.ModelPath);
        // Ctrl+C (SIGINT) or SIGTERM: the trainer finishes the step it is in, writes a checkpoint when
        // --checkpoint-dir is set, and the cancelled error says where (exit code 130). A second signal ends the process.
        using var cancellation = new CancellationTokenSource();
        void OnSignal(PosixSignalContext signal)
        {
            if (!cancellation.IsCancellationRequested)
            {
                signal.Cancel = true;
                context.Error.WriteLine("implicitreg: stopping after the current step (send the signal again to quit at once)");
                cancellation.Cancel();
            }
        }
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        var result = (world is null || world.Size == 1) && ProgressDisplay.IsInteractive(context)
            ? ProgressDisplay.Run(options.Trainer, printer, callbacks => TrainingWorkflow.TrainFromFiles(options, callbacks, cancellation: cancellation.Token))
            : TrainingWorkflow.TrainFromFiles(options, [printer], world, cancellation.Token);
        var lines = new[]
        {
            result.ResumedFromStep > 0 ? $"resumed from step {result.ResumedFromStep}" : null,
            result.StopReason is { } reason ? "stopped: " + reason : null,
            result.Best is { } best && options.Trainer.KeepBestPath is { } path ? Invariant($"best {result.Monitor} {best.Best:0.0000} at epoch {best.BestEpoch + 1}: {path}") : null,
            result.ExportPath is { } exported ? $"wrote {exported}" : null,
        };
        lines.OfType<string>().ToList().ForEach(context.Out.WriteLine);
        if (summaryPath is not null && result.Writes)
        {
            TrainingSummary.From(result).Write(summaryPath);
        }
        context.Out.WriteLine(Invariant($"done: {result.Steps} steps in {result.Seconds:0.0} s"));
        return ExitCodes.Ok;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    /// <summary>The plain output: one line when training starts and one per epoch.</summary>
    internal sealed class ConsolePrinter(CommandContext context, string modelName) : TrainerCallback
    {
        /// <summary>Where lines go (the progress display swaps it for its own).</summary>
        public Action<string> Print { get; set; } = context.Out.WriteLine;

        public override void OnStart(Trainer trainer, TrainingStart start) => Print(Invariant(
            $"training {modelName}: {start.Examples} examples, batch {trainer.Options.BatchSize}, lr {trainer.Options.LearningRate:g4}, {trainer.PenaltyDescription}, device {trainer.DeviceDescription}")
            + (trainer.Workers > 1 ? Invariant($", {trainer.Workers} processes (MPI), {trainer.Options.BatchSize / trainer.Workers} examples each") : ""));

        public override void OnEpoch(Trainer trainer, EpochEvent e) => Print(Invariant($"epoch {e.Epoch + 1}/{trainer.Options.Epochs}  step {e.Steps}  loss {e.TrainLoss:0.0000}  penalty {e.Penalty:0.0000}")
            + (e.Test is not { } t ? "" : Invariant($"  test loss {t.Loss:0.0000}")
                + (t.MeanSquaredError is { } mse && t.MeanAbsoluteError is { } mae ? Invariant($"  test mse {mse:0.0000}  mae {mae:0.0000}") : "")
                + (t.Accuracy is { } a ? Invariant($"  test accuracy {a * 100:0.00}%") : "")));
    }
}
