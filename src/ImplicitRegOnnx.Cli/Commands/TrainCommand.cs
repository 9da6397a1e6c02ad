using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Onnx.IO;
using ImplicitRegOnnx.Runtime;
using ImplicitRegOnnx.Runtime.Data;
using ImplicitRegOnnx.Training;

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
        var model = new Argument<string?>("MODEL") { Description = "The .onnx inference model (default: the embedded MLP on the embedded digits data).", Arity = ArgumentArity.ZeroOrOne };
        var data = new Option<string?>("--data") { Description = "Training data: .npz/.npy (x and y), CSV (label column last, or --label-column), IDX (images + labels)." };
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
        var summary = new Option<string?>("--summary-json") { Description = "Write a summary (test_accuracy, test_loss, train_loss, penalty, epochs_completed, steps, resumed_from_step, seconds, device)." };

        var command = new Command("train", "Train a model with the explicit implicit-regularization penalty (CPU).");
        command.Arguments.Add(model);
        foreach (var option in new Option[] { data, testData, labelColumn, normalize })
        {
            command.Options.Add(option);
        }
        training.AddTo(command);
        foreach (var option in new Option[] { threads, device, checkpointDir, checkpointEvery, keepCheckpoints, resume, export, metrics, summary })
        {
            command.Options.Add(option);
        }
        command.SetAction(parsed => ErrorHandling.Guard(context, () =>
        {
            var modelPath = parsed.GetValue(model);
            var dataPath = parsed.GetValue(data);
            if (modelPath is not null && dataPath is null)
            {
                throw ImplicitRegException.BadInput("--data is required with a MODEL (only the embedded default trains without data)");
            }
            var (parsedOptions, lossName) = training.Parse(parsed);
            // Bad values fail before the model and the data are read.
            parsedOptions.Validate();

            var inference = modelPath is null ? ModelFiles.LoadDefault() : ModelFiles.Load(modelPath, context);
            var (train, test) = LoadData(dataPath, parsed.GetValue(testData), parsed.GetValue(labelColumn), parsed.GetValue(normalize)!);
            var options = TrainOptionSet.WithLoss(parsedOptions, lossName, train.HasClassLabels) with
            {
                Threads = parsed.GetValue(threads),
                CheckpointDirectory = parsed.GetValue(checkpointDir),
                CheckpointEvery = parsed.GetValue(checkpointEvery),
                KeepCheckpoints = parsed.GetValue(keepCheckpoints),
                Resume = parsed.GetValue(resume),
                Device = Device.TryParse(parsed.GetValue(device)!, out var chosenDevice)
                    ? chosenDevice
                    : throw ImplicitRegException.BadInput($"--device {parsed.GetValue(device)}: use auto, cpu, cuda or cuda:N"),
            };
            return Execute(context, inference, modelPath ?? ModelFiles.DefaultModelName, train, test, options,
                parsed.GetValue(export), parsed.GetValue(metrics), parsed.GetValue(summary));
        }));
        return command;
    }

    internal static (Dataset Train, Dataset? Test) LoadData(string? dataPath, string? testPath, string? labelColumn, string normalize)
    {
        if (dataPath is null)
        {
            using var stream = typeof(TrainCommand).Assembly.GetManifestResourceStream("ImplicitRegOnnx.Cli.Digits.csv.gz")
                ?? throw new InvalidOperationException("The embedded digits data is missing from this build.");
            var (train, test) = DigitsData.Load(stream, "embedded digits data", testFraction: 0.2, seed: 0);
            return (train, test);
        }
        var options = new DataLoadOptions { LabelColumn = labelColumn };
        var training = DataLoader.Load(dataPath, options);
        var held = testPath is null ? null : DataLoader.Load(testPath, options);
        var normalization = Normalization.Parse(normalize, training);
        return (normalization.Apply(training), held is null ? null : normalization.Apply(held));
    }

    public static int Execute(CommandContext context, Model inference, string modelName, Dataset train, Dataset? test, TrainerOptions options,
        string? exportPath, string? metricsPath, string? summaryPath)
    {
        var watch = Stopwatch.StartNew();
        // Errors of the options are not about the model: they are reported without its name.
        options.Validate();
        using var trainer = ErrorHandling.About(modelName, () => new Trainer(inference, options));
        using var metrics = metricsPath is null ? null : new StreamWriter(metricsPath);
        context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"training {modelName}: {train.Count} examples, batch {options.BatchSize}, lr {options.LearningRate:g4}, {Describe(options)}, device {trainer.DeviceDescription}"));
        IReadOnlyList<EpochEvent> epochs;
        try
        {
            void OnStep(StepEvent e) => metrics?.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["step"] = e.Step, ["epoch"] = e.Epoch, ["lr"] = e.LearningRate, ["loss"] = e.Metrics.Loss, ["penalty"] = e.Metrics.Penalty,
            }));
            void OnEpoch(EpochEvent e, Action<string> print)
            {
                print(EpochLine(e, options.Epochs));
                metrics?.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
                {
                    ["epoch"] = e.Epoch, ["steps"] = e.Steps, ["train_loss"] = e.TrainLoss, ["penalty"] = e.Penalty,
                    ["test_loss"] = e.Test?.Loss, ["test_accuracy"] = e.Test?.Accuracy,
                }));
            }
            epochs = ProgressDisplay.IsInteractive(context)
                ? ProgressDisplay.Run(trainer, train, test, options, OnStep, OnEpoch)
                : trainer.Fit(train, test, OnStep, e => OnEpoch(e, context.Out.WriteLine));
        }
        catch (TrainingDivergedException e)
        {
            throw e.Within(modelName);
        }
        if (trainer.ResumedFromStep > 0)
        {
            context.Out.WriteLine($"resumed from step {trainer.ResumedFromStep}");
        }
        if (exportPath is not null)
        {
            OutputPaths.Check(modelName, exportPath);
            OutputPaths.Save(trainer.ExportInferenceModel(), exportPath);
            context.Out.WriteLine($"wrote {exportPath}");
        }
        var last = epochs.Count > 0 ? epochs[^1] : null;
        if (summaryPath is not null)
        {
            var summary = new Dictionary<string, object?>
            {
                ["test_accuracy"] = last?.Test?.Accuracy,
                ["test_loss"] = last?.Test?.Loss,
                ["train_loss"] = last?.TrainLoss,
                ["penalty"] = last?.Penalty,
                ["epochs_completed"] = epochs.Count,
                ["steps"] = trainer.Steps,
                ["resumed_from_step"] = trainer.ResumedFromStep,
                ["seconds"] = Math.Round(watch.Elapsed.TotalSeconds, 3),
                ["device"] = trainer.DeviceDescription.Split(' ')[0],
            };
            AtomicFile.WriteAllText(summaryPath, JsonSerializer.Serialize(summary, Indented) + "\n");
        }
        context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"done: {trainer.Steps} steps in {watch.Elapsed.TotalSeconds:0.0} s"));
        return ExitCodes.Ok;
    }

    private static string EpochLine(EpochEvent e, int epochs)
    {
        var line = string.Create(CultureInfo.InvariantCulture,
            $"epoch {e.Epoch + 1}/{epochs}  step {e.Steps}  loss {e.TrainLoss:0.0000}  penalty {e.Penalty:0.0000}");
        if (e.Test is { } t)
        {
            line += string.Create(CultureInfo.InvariantCulture, $"  test loss {t.Loss:0.0000}");
            if (t.Accuracy is { } a)
            {
                line += string.Create(CultureInfo.InvariantCulture, $"  test accuracy {a * 100:0.00}%");
            }
        }
        return line;
    }

    private static string Describe(TrainerOptions options)
    {
        var penalty = options.Step.Gradient.Penalty;
        return penalty.Mode == PenaltyMode.None
            ? "no penalty"
            : string.Create(CultureInfo.InvariantCulture, $"{penalty.Mode.Name()} penalty c = {penalty.Coefficient:g4}, n = {penalty.Microbatches}");
    }
}
