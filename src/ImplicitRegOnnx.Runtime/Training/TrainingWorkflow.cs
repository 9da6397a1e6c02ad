using System.Diagnostics;
using System.Text;
using System.Text.Json;
using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Onnx.IO;
using ImplicitRegOnnx.Runtime.Data;
using ImplicitRegOnnx.Training;

namespace ImplicitRegOnnx.Runtime.Training;

/// <summary>What <see cref="TrainingWorkflow.TrainFromFiles"/> trains, on what, and what it writes.</summary>
public sealed record TrainFromFilesOptions
{
    /// <summary>
    /// The model: an inference model (its step model is built) or a step model written by <c>rewrite</c>/<c>convert</c>
    /// (trained as it is, <see cref="TrainingArtifacts"/>); what it is comes from its metadata. Messages name it.
    /// </summary>
    public required string ModelPath { get; init; }

    /// <summary>The model already loaded (e.g. one embedded in an app); when set, <see cref="ModelPath"/> is only its name.</summary>
    public Model? Model { get; init; }

    /// <summary>Training data: .npz/.npy, CSV or IDX (<see cref="DataLoader"/>); or give <see cref="Train"/>.</summary>
    public string? DataPath { get; init; }

    /// <summary>Held-out data evaluated after every epoch.</summary>
    public string? TestDataPath { get; init; }

    /// <summary>Training data already in memory, instead of <see cref="DataPath"/> (not normalized again).</summary>
    public Dataset? Train { get; init; }

    /// <summary>Held-out data in memory, instead of <see cref="TestDataPath"/>.</summary>
    public Dataset? Test { get; init; }

    /// <summary>CSV label column (name or index; default the last).</summary>
    public string? LabelColumn { get; init; }

    /// <summary>none, scale, scale:D, standardize or minmax, with statistics from the training data (<see cref="Normalization.Parse"/>).</summary>
    public string Normalize { get; init; } = "none";

    /// <summary>The loss attached to an inference model; null: cross-entropy for class labels, mse otherwise. Step models bring their own.</summary>
    public LossKind? Loss { get; init; }

    /// <summary>A step model's initial-state model (default: beside it, <see cref="TrainingArtifacts.Load"/>).</summary>
    public string? InitPath { get; init; }

    /// <summary>A step model's evaluation model (default: beside it when there).</summary>
    public string? EvalPath { get; init; }

    /// <summary>How to train.</summary>
    public TrainerOptions Trainer { get; init; } = new();

    /// <summary>Write the trained inference model here.</summary>
    public string? ExportPath { get; init; }

    /// <summary>Write one JSON line per step and per epoch here (committed when the run ends, also when it fails).</summary>
    public string? MetricsPath { get; init; }

    /// <summary>Checks the options that need no file; <see cref="TrainingWorkflow.TrainFromFiles"/> calls it first.</summary>
    /// <exception cref="ImplicitRegException">BadInput naming the first bad property.</exception>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(ModelPath))
        {
            throw ImplicitRegException.BadParameter("TrainFromFilesOptions.ModelPath", "is empty; give the path of an .onnx model");
        }
        if ((DataPath is null) == (Train is null))
        {
            throw ImplicitRegException.BadParameter("TrainFromFilesOptions.DataPath", DataPath is null
                ? $"is required: give the training data of {ModelPath} (or TrainFromFilesOptions.Train, data in memory)"
                : "and TrainFromFilesOptions.Train both give training data; give one");
        }
        if (TestDataPath is not null && Test is not null)
        {
            throw ImplicitRegException.BadParameter("TrainFromFilesOptions.TestDataPath", "and TrainFromFilesOptions.Test both give test data; give one");
        }
        foreach (var (name, path) in new[] { ("TrainFromFilesOptions.ExportPath", ExportPath), ("TrainerOptions.KeepBestPath", Trainer.KeepBestPath) })
        {
            if (path is null)
            {
                continue;
            }
            var full = Path.GetFullPath(path);
            if (File.Exists(ModelPath) && string.Equals(full, Path.GetFullPath(ModelPath), StringComparison.Ordinal))
            {
                throw ImplicitRegException.BadParameter(name, $"{path} is the model being trained; write to another path");
            }
            if (Directory.Exists(full))
            {
                throw ImplicitRegException.BadParameter(name, $"{path} is a directory; give a file path inside it");
            }
            if (!Directory.Exists(Path.GetDirectoryName(full)))
            {
                throw ImplicitRegException.BadParameter(name, $"{path}: the folder {Path.GetDirectoryName(full)} does not exist; create it first");
            }
        }
        Trainer.Validate();
    }
}

/// <summary>What a training run did: the summary <c>implicitreg train --summary-json</c> writes, and every epoch.</summary>
public sealed record TrainingResult
{
    /// <summary>The model as <see cref="TrainFromFilesOptions.ModelPath"/> named it.</summary>
    public required string Model { get; init; }

    /// <summary>Whether it was an inference model or a step model.</summary>
    public required ModelFileKind ModelKind { get; init; }

    /// <summary>Where the steps ran ("cpu", "cuda:0", or why auto fell back).</summary>
    public required string Device { get; init; }

    /// <summary>Examples in the training set.</summary>
    public required int TrainExamples { get; init; }

    /// <summary>The completed epochs of this run (a resumed run: those after the checkpoint).</summary>
    public required IReadOnlyList<EpochEvent> Epochs { get; init; }

    /// <summary>Steps taken in all, counting those before a resume.</summary>
    public required long Steps { get; init; }

    /// <summary>The step a resumed run started from (0: a fresh run).</summary>
    public required long ResumedFromStep { get; init; }

    /// <summary>Wall-clock seconds of the run, loading included.</summary>
    public required double Seconds { get; init; }

    /// <summary>Why training stopped before its end (early stopping, a callback); null when it ran to the end.</summary>
    public string? StopReason { get; init; }

    /// <summary>Where the trained inference model was written, when asked.</summary>
    public string? ExportPath { get; init; }

    /// <summary>The best epoch of the monitored metric, when early stopping or keep-best were on.</summary>
    public MonitorState? Best { get; init; }

    /// <summary>The metric <see cref="Best"/> is about.</summary>
    public string? Monitor { get; init; }

    private EpochEvent? Last => Epochs.Count > 0 ? Epochs[^1] : null;

    /// <summary>Test accuracy after the last epoch (class labels).</summary>
    public double? TestAccuracy => Last?.Test?.Accuracy;

    /// <summary>Test loss after the last epoch.</summary>
    public double? TestLoss => Last?.Test?.Loss;

    /// <summary>Mean training loss of the last epoch.</summary>
    public double? TrainLoss => Last?.TrainLoss;

    /// <summary>Mean penalty of the last epoch.</summary>
    public double? Penalty => Last?.Penalty;

    /// <summary>Test mean squared error after the last epoch (regression losses).</summary>
    public double? TestMeanSquaredError => Last?.Test?.MeanSquaredError;

    /// <summary>Test mean absolute error after the last epoch (regression losses).</summary>
    public double? TestMeanAbsoluteError => Last?.Test?.MeanAbsoluteError;

    /// <summary>The processes that trained together (1 alone; W under <c>mpirun -np W</c>).</summary>
    public int Workers { get; init; } = 1;

    /// <summary>Whether this process wrote the outputs (metrics, export, checkpoints): rank 0, or a process alone.</summary>
    public bool Writes { get; init; } = true;

    /// <summary>Wall-clock seconds of the training steps alone (no loading, no export).</summary>
    public double TrainSeconds { get; init; }

    /// <summary>Seconds spent averaging gradients over the processes (0 alone).</summary>
    public double AllReduceSeconds { get; init; }
}

/// <summary>
/// Training as one library call ("train from files"): load the model (inference or step model) and the data,
/// train with <see cref="Trainer"/>, write the metrics, the export and checkpoints, and return a
/// <see cref="TrainingResult"/>. No console output and no exit codes: <c>implicitreg train</c> parses its
/// options, calls this and formats the result.
/// </summary>
public static class TrainingWorkflow
{
    /// <summary>Trains the model of <paramref name="options"/> on its data.</summary>
    /// <param name="options">What to train on what; validated first.</param>
    /// <param name="callbacks">Called at the start, after every step and every epoch (progress display, stop requests).</param>
    /// <param name="cancellation">Checked between steps; see <see cref="Trainer.Fit(Dataset, Dataset?, IEnumerable{TrainerCallback}, IProgress{StepEvent}?, CancellationToken)"/>.</param>
    /// <param name="world">The processes of an MPI job (<see cref="Distributed.Collectives.Open()"/>): data-parallel training
    /// when it has more than one, rank 0 alone writing; null for this process alone.</param>
    /// <exception cref="ImplicitRegException">Bad options, files or data (BadInput); the run diverged (Diverged) or was cancelled (Cancelled, after a checkpoint when checkpoints are on).</exception>
    public static TrainingResult TrainFromFiles(TrainFromFilesOptions options, IEnumerable<TrainerCallback>? callbacks = null,
        Distributed.ICollectives? world = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var watch = Stopwatch.StartNew();
        options.Validate();
        var model = options.Model ?? Model.Load(options.ModelPath);
        var kind = TrainingArtifacts.KindOf(model);
        if (kind != ModelFileKind.Inference && world is { Size: > 1 })
        {
            throw ImplicitRegException.Unsupported($"{options.ModelPath}: data-parallel training of a step model file is not supported yet; run mpirun on the inference model instead");
        }
        var artifacts = kind == ModelFileKind.Inference ? null
            : About(options.ModelPath, () => TrainingArtifacts.Open(options.ModelPath, model, options.InitPath, options.EvalPath));
        var inputs = artifacts is null ? DataInput.Of(model)
            : [.. artifacts.ModelInputs.Select(name => DataInput.Of(artifacts.Step.Model.Graph.Inputs.First(v => v.Name == name)))];
        var (train, test) = options.Train is { } inMemory
            ? (inMemory, options.Test)
            : LoadData(options.DataPath!, options.TestDataPath, inputs, options.LabelColumn, options.Normalize);
        test ??= options.Test;
        var trainerOptions = options.Trainer;
        if (kind != ModelFileKind.Inference && options.Loss is { } given)
        {
            throw ImplicitRegException.BadParameter("TrainFromFilesOptions.Loss", $"{given.Name()}: {options.ModelPath} is a step model, whose loss is built in; leave the loss unset");
        }
        if (kind == ModelFileKind.Inference)
        {
            var loss = options.Loss ?? (train.HasClassLabels ? LossKind.CrossEntropy : LossKind.Mse);
            trainerOptions = trainerOptions with { Step = trainerOptions.Step with { Gradient = trainerOptions.Step.Gradient with { Loss = loss } } };
        }
        using var trainer = About(options.ModelPath, () => artifacts is null
            ? new Trainer(model, trainerOptions, world)
            : new Trainer(artifacts, trainerOptions));
        var hooks = new List<TrainerCallback>(callbacks ?? []);
        IReadOnlyList<EpochEvent> epochs;
        var fitWatch = Stopwatch.StartNew();
        // In an MPI job rank 0 alone writes files.
        using (var metrics = options.MetricsPath is null || !trainer.Writes ? null : new MetricsLog(options.MetricsPath))
        {
            if (metrics is not null)
            {
                hooks.Insert(0, metrics);
            }
            epochs = About(options.ModelPath, () => trainer.Fit(train, test, hooks, null, cancellation));
        }
        fitWatch.Stop();
        if (options.ExportPath is { } exportPath && trainer.Writes)
        {
            try
            {
                trainer.ExportInferenceModel().Save(exportPath);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw ImplicitRegException.BadParameter("TrainFromFilesOptions.ExportPath", $"{exportPath}: cannot write the model ({e.Message.ReplaceLineEndings(" ")}); choose a writable path");
            }
        }
        return new TrainingResult
        {
            Model = options.ModelPath,
            ModelKind = kind,
            Device = trainer.DeviceDescription,
            TrainExamples = train.Count,
            Epochs = epochs,
            Steps = trainer.Steps,
            ResumedFromStep = trainer.ResumedFromStep,
            Seconds = watch.Elapsed.TotalSeconds,
            StopReason = trainer.StopReason,
            ExportPath = options.ExportPath,
            Best = trainer.Monitor?.State,
            Monitor = trainer.Monitor?.Metric,
            Workers = trainer.Workers,
            Writes = trainer.Writes,
            TrainSeconds = fitWatch.Elapsed.TotalSeconds,
            AllReduceSeconds = trainer.AllReduceTime.TotalSeconds,
        };
    }

    /// <summary>Loads training (and test) data and normalizes both with statistics of the training data.</summary>
    /// <param name="dataPath">.npz with one array per model input plus "target"; for one input also .npz/.npy (x, y), CSV or IDX.</param>
    /// <param name="testPath">Held-out data, or null.</param>
    /// <param name="inputs">The model's inputs (<see cref="DataInput.Of(Model)"/>).</param>
    /// <param name="labelColumn">CSV label column (name or index; null: the last).</param>
    /// <param name="normalize">none, scale, scale:D, standardize or minmax (per floating-point array).</param>
    public static (Dataset Train, Dataset? Test) LoadData(string dataPath, string? testPath, IReadOnlyList<DataInput> inputs, string? labelColumn, string normalize) =>
        DataFiles.LoadTrainTest(dataPath, testPath, inputs, normalize, new DataLoadOptions { LabelColumn = labelColumn });

    /// <summary>Errors about the model get its name in front (the libraries below see the loaded model only).</summary>
    private static T About<T>(string model, Func<T> work)
    {
        try
        {
            return work();
        }
        catch (ImplicitRegException e) when (!e.Message.StartsWith(model + ":", StringComparison.Ordinal))
        {
            throw e.Within(model);
        }
    }

    /// <summary>One JSON line per step and per epoch, written through the atomic writer and committed when the run ends.</summary>
    private sealed class MetricsLog : TrainerCallback, IDisposable
    {
        private readonly AtomicFileWriter _file;
        private readonly StreamWriter _writer;

        public MetricsLog(string path)
        {
            _file = AtomicFile.Create(path);
            _writer = new StreamWriter(_file.Stream, new UTF8Encoding(false), leaveOpen: true) { NewLine = "\n" };
        }

        public override void OnStep(Trainer trainer, StepEvent e) => _writer.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["step"] = e.Step, ["epoch"] = e.Epoch, ["lr"] = e.LearningRate, ["coefficient"] = e.PenaltyCoefficient,
            ["loss"] = e.Metrics.Loss, ["penalty"] = e.Metrics.Penalty, ["objective"] = e.Metrics.Objective,
        }));

        public override void OnEpoch(Trainer trainer, EpochEvent e) => _writer.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["epoch"] = e.Epoch, ["steps"] = e.Steps, ["train_loss"] = e.TrainLoss, ["penalty"] = e.Penalty,
            ["test_loss"] = e.Test?.Loss, ["test_accuracy"] = e.Test?.Accuracy, ["test_mse"] = e.Test?.MeanSquaredError, ["test_mae"] = e.Test?.MeanAbsoluteError,
        }));

        public void Dispose()
        {
            // Also when the run failed or was cancelled: the lines up to there are what the user needs.
            _writer.Flush();
            _writer.Dispose();
            _file.Commit();
            _file.Dispose();
        }
    }
}
