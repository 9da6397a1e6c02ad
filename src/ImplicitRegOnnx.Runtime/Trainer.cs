using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Runtime.Data;
using ImplicitRegOnnx.Runtime.Distributed;
using ImplicitRegOnnx.Runtime.Verification;
using ImplicitRegOnnx.Training;

namespace ImplicitRegOnnx.Runtime;

/// <summary>Learning-rate schedules over the whole run.</summary>
public enum LearningRateSchedule
{
    Constant,

    /// <summary>Half a cosine from the base rate down to 0 over all steps.</summary>
    Cosine,

    /// <summary>×0.1 at 50% and again at 75% of the steps.</summary>
    Step,
}

/// <summary>How to train.</summary>
public sealed record TrainerOptions
{
    /// <summary>Loss, penalty and optimizer of the step model.</summary>
    public StepModelOptions Step { get; init; } = new();

    public float LearningRate { get; init; } = 0.1f;

    public LearningRateSchedule Schedule { get; init; } = LearningRateSchedule.Constant;

    public int Epochs { get; init; } = 10;

    public int BatchSize { get; init; } = 32;

    /// <summary>Seed of the per-epoch permutations.</summary>
    public ulong Seed { get; init; }

    /// <summary>Keep the last incomplete batch of an epoch (dropped by default).</summary>
    public bool KeepLast { get; init; }

    /// <summary>Stop after this many steps in all (null: run every epoch).</summary>
    public long? MaxSteps { get; init; }

    /// <summary>ONNX Runtime intra-op threads (0: its default). Resumed runs are bit-identical for the same count.</summary>
    public int Threads { get; init; }

    /// <summary>Where checkpoints go (null: none are written).</summary>
    public string? CheckpointDirectory { get; init; }

    /// <summary>Write a checkpoint every this many steps (0: only at the end of each epoch).</summary>
    public int CheckpointEvery { get; init; }

    /// <summary>How many of the newest checkpoints to keep.</summary>
    public int KeepCheckpoints { get; init; } = 3;

    /// <summary>Continue from the newest checkpoint in <see cref="CheckpointDirectory"/>, if there is one.</summary>
    public bool Resume { get; init; }

    /// <summary>Where the steps run (auto: CUDA when it loads, else the CPU).</summary>
    public Device Device { get; init; } = Device.Cpu;

    /// <summary>Checks every option that does not depend on the model or the data; <see cref="Trainer"/> calls it first.</summary>
    /// <exception cref="ImplicitRegException">Of kind <see cref="ErrorKind.BadInput"/>, naming the first bad property (<c>TrainerOptions.BatchSize</c>).</exception>
    public void Validate()
    {
        static void Check(bool ok, string parameter, FormattableString problem)
        {
            if (!ok)
            {
                throw ImplicitRegException.BadParameter(parameter, FormattableString.Invariant(problem));
            }
        }
        Check(float.IsFinite(LearningRate) && LearningRate > 0, "TrainerOptions.LearningRate", $"must be a positive number, got {LearningRate}");
        Check(Epochs >= 1, "TrainerOptions.Epochs", $"must be at least 1, got {Epochs}");
        Check(BatchSize >= 1, "TrainerOptions.BatchSize", $"must be at least 1, got {BatchSize}");
        Check(MaxSteps is null or >= 1, "TrainerOptions.MaxSteps", $"must be at least 1, got {MaxSteps}");
        Check(Threads >= 0, "TrainerOptions.Threads", $"must be at least 0 (0: ONNX Runtime's default), got {Threads}");
        Check(CheckpointEvery >= 0, "TrainerOptions.CheckpointEvery", $"must be at least 0 (0: at epoch ends only), got {CheckpointEvery}");
        Check(KeepCheckpoints >= 1, "TrainerOptions.KeepCheckpoints", $"must be at least 1, got {KeepCheckpoints}");
        Check(!Resume || CheckpointDirectory is not null, "TrainerOptions.Resume", $"needs TrainerOptions.CheckpointDirectory, the folder to resume from");
        Step.Validate();
    }
}

/// <summary>What one step did.</summary>
public readonly record struct StepEvent(long Step, long Epoch, float LearningRate, StepMetrics Metrics);

/// <summary>What one epoch did; test metrics when a test set was given.</summary>
public sealed record EpochEvent(long Epoch, long Steps, double TrainLoss, double Penalty, Evaluation? Test);

/// <summary>Loss (and accuracy, for class labels) of a model on a data set.</summary>
public sealed record Evaluation(double Loss, double? Accuracy, int Examples);

/// <summary>
/// NaN or infinity appeared in the loss, the penalty or the weights (kind <see cref="ErrorKind.Diverged"/>);
/// <see cref="Step"/> says after how many steps.
/// </summary>
public sealed class TrainingDivergedException : ImplicitRegException
{
    /// <summary>Training diverged at <paramref name="step"/>.</summary>
    /// <param name="step">Steps taken when the non-finite value was found.</param>
    /// <param name="message">One line: what was not finite and what to do.</param>
    public TrainingDivergedException(long step, string message)
        : base(ErrorKind.Diverged, message)
    {
        Step = step;
    }

    /// <summary>Steps taken when the non-finite value was found.</summary>
    public long Step { get; }
}

/// <summary>
/// Trains an inference model with the explicit implicit-regularization penalty on ONNX Runtime:
/// builds the step and evaluation models, keeps parameters in bound buffers (<see cref="StepSession"/>),
/// draws a fresh permutation of the training set every epoch (<see cref="EpochSampler"/>), and exports
/// the trained inference model. Given an <see cref="ICollectives"/> world of more than one process (an MPI job), it
/// trains data-parallel (<see cref="DataParallelTraining"/>): the global batch of <see cref="TrainerOptions.BatchSize"/>
/// is split into one contiguous slice per process and the gradients are averaged every step; rank 0 alone writes
/// checkpoints.
/// </summary>
public sealed class Trainer : IDisposable
{
    private readonly Model _inference;
    private readonly StepModel _step;
    private readonly Model _eval;
    private readonly ITrainingStepRunner _session;
    private readonly DataParallelTraining? _parallel;
    private readonly IReadOnlyList<DataInput> _inputs;
    private readonly DataInput? _target;
    private readonly string _outputName;
    private readonly string _configuration;
    private readonly string _fingerprint;

    public Trainer(Model inference, TrainerOptions options)
        : this(inference, options, null)
    {
    }

    /// <summary>A trainer in <paramref name="world"/>: data-parallel when it has more than one process, else as alone.</summary>
    /// <param name="inference">The inference model to train (the same on every process).</param>
    /// <param name="options">How to train (the same on every process; checked to agree).</param>
    /// <param name="world">The processes of the job (<see cref="Collectives.Open()"/>); null for this process alone.</param>
    public Trainer(Model inference, TrainerOptions options, ICollectives? world)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        _inference = inference;
        if (world is { Size: > 1 })
        {
            DataParallelTraining.Validate(options, world);
        }
        // Trainer runs ONNX Runtime anyway, so constant subgraphs are folded by it unless the options say otherwise.
        var evaluator = options.Step.ConstantEvaluator ?? OrtConstantEvaluator.Instance;
        var stepOptions = options.Step with { ConstantEvaluator = evaluator };
        _step = StepModelBuilder.Build(inference, world is { Size: > 1 } ? stepOptions with { Form = StepModelForm.GradientsOut } : stepOptions);
        _eval = EvalModelBuilder.Build(inference, options.Step.Gradient, evaluator);
        using (var setup = Devices.Create(options.Device, options.Threads))
        {
            if (world is { Size: > 1 })
            {
                _parallel = new DataParallelTraining(new DataParallelStep(new GradientStepSession(_step, setup.Options, setup.StateMemory), world));
                _session = _parallel.Step;
            }
            else
            {
                _session = new StepSession(_step, setup.Options, setup.StateMemory);
            }
            DeviceDescription = setup.Chosen;
        }
        _inputs = DataInput.Of(inference);
        _target = _step.Model.Graph.RequiredInputs.Where(v => v.Name == GradientModelBuilder.Target).Select(DataInput.Of).FirstOrDefault();
        _outputName = options.Step.Gradient.Output ?? inference.Graph.Outputs[0].Name;
        _configuration = Configuration(inference, options, world?.Size ?? 1);
        _fingerprint = Checkpoints.Fingerprint(_configuration);
        _parallel?.CheckAgreement(_fingerprint);
    }

    /// <summary>
    /// Everything a resumed run must share with the run that wrote the checkpoint: the model's bytes
    /// (by hash) and every option that changes the sequence of steps.
    /// </summary>
    /// <remarks>The penalty's microbatches are counted over all <paramref name="workers"/> (n per slice times W), so a
    /// run resumes with another number of processes when it trains the same objective.</remarks>
    private static string Configuration(Model inference, TrainerOptions o, int workers)
    {
        var g = o.Step.Gradient;
        var opt = o.Step.Optimizer;
        var modelHash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(inference.ToBytes()));
        return string.Join('\n', new[]
        {
            "model " + modelHash,
            $"loss {g.Loss} {g.LossOutput} {g.Output}",
            FormattableString.Invariant($"penalty {g.Penalty.Mode} {g.Penalty.Coefficient:R} {g.Penalty.Microbatches * workers} {g.Penalty.FiniteDifferenceStep:R}"),
            FormattableString.Invariant($"optimizer {opt.Kind} {opt.Momentum:R} {opt.Nesterov} {opt.WeightDecay:R} {opt.Beta1:R} {opt.Beta2:R} {opt.Epsilon:R}"),
            FormattableString.Invariant($"trainable {string.Join(',', g.Trainable ?? [])} freeze {string.Join(',', g.Freeze ?? [])}"),
            FormattableString.Invariant($"lr {o.LearningRate:R} {o.Schedule} {(o.Schedule == LearningRateSchedule.Constant ? "" : o.Epochs.ToString(System.Globalization.CultureInfo.InvariantCulture))}"),
            FormattableString.Invariant($"batch {o.BatchSize} keep-last {o.KeepLast} seed {o.Seed}"),
        });
    }

    /// <summary>The device the steps run on, e.g. "cpu" or "cuda:0" (auto says why it fell back).</summary>
    public string DeviceDescription { get; }

    /// <summary>The step a resumed run started from (0 for a fresh run).</summary>
    public long ResumedFromStep { get; private set; }

    public TrainerOptions Options { get; }

    /// <summary>The number of processes training together (1 alone).</summary>
    public int Workers => _parallel?.World.Size ?? 1;

    /// <summary>Whether this process writes (checkpoints; the CLI: metrics, export, summary): rank 0, or a process alone.</summary>
    public bool Writes => _parallel is null || _parallel.World.Rank == 0;

    /// <summary>Time spent averaging gradients over the processes so far (zero alone).</summary>
    public TimeSpan AllReduceTime => _parallel?.Step.AllReduceTime ?? TimeSpan.Zero;

    /// <summary>Steps taken so far.</summary>
    public long Steps { get; private set; }

    /// <summary>The training-step model the trainer runs.</summary>
    public StepModel StepModel => _step;

    /// <summary>Trains for <see cref="TrainerOptions.Epochs"/> epochs (or <see cref="TrainerOptions.MaxSteps"/> steps).</summary>
    public IReadOnlyList<EpochEvent> Fit(Dataset train, Dataset? test = null, Action<StepEvent>? onStep = null,
        Action<EpochEvent>? onEpoch = null, CancellationToken cancellation = default)
    {
        train = train.ForInputs(_inputs, _target);
        test = test?.ForInputs(_inputs, _target);
        var sampler = new EpochSampler(train.Count, Options.BatchSize, Options.Seed, Options.KeepLast);
        var totalSteps = Math.Min(Options.MaxSteps ?? long.MaxValue, (long)sampler.BatchesPerEpoch * Options.Epochs);
        var scheduleSteps = (long)sampler.BatchesPerEpoch * Options.Epochs;
        _parallel?.CheckData(train.Count, Options);
        // Rank 0 alone reads the checkpoint (the others may not see its folder); the position and state go to all.
        var resumed = Options.Resume && Writes && Options.CheckpointDirectory is { } directory && Checkpoints.Newest(directory) is { } checkpoint
            ? Resumed(directory, checkpoint)
            : null;
        if (_parallel is not null)
        {
            resumed = _parallel.ShareStart(resumed);
        }
        if (resumed is not null)
        {
            Steps = resumed.Step;
            ResumedFromStep = Steps;
            sampler = new EpochSampler(train.Count, Options.BatchSize, resumed.Sampler, Options.KeepLast);
        }
        var epochs = new List<EpochEvent>();
        for (var epoch = sampler.Epoch; epoch < Options.Epochs && Steps < totalSteps; epoch++)
        {
            double lossSum = 0, penaltySum = 0;
            var count = 0;
            while (Steps < totalSteps && sampler.TryNextBatch(out var indices))
            {
                cancellation.ThrowIfCancellationRequested();
                var rate = LearningRateAt(Steps, scheduleSteps);
                var metrics = _session.Step(train.Gather(_parallel is null ? indices : _parallel.SliceOf(indices)), rate);
                Steps++;
                if (!float.IsFinite(metrics.Loss) || !float.IsFinite(metrics.Penalty))
                {
                    throw Diverged($"at step {Steps}: the loss ({metrics.Loss}) or the penalty ({metrics.Penalty}) is not finite");
                }
                lossSum += metrics.Loss;
                penaltySum += metrics.Penalty;
                count++;
                onStep?.Invoke(new StepEvent(Steps, epoch, rate, metrics));
                if (Options.CheckpointEvery > 0 && Steps % Options.CheckpointEvery == 0 && !sampler.EpochFinished)
                {
                    SaveCheckpoint(sampler.State);
                }
            }
            if (!sampler.EpochFinished)
            {
                break; // stopped by MaxSteps inside the epoch
            }
            sampler.NextEpoch();
            CheckWeights();
            SaveCheckpoint(sampler.State);
            var result = new EpochEvent(epoch, Steps, count == 0 ? double.NaN : lossSum / count, count == 0 ? double.NaN : penaltySum / count,
                test is null || !Writes ? null : Evaluate(test));
            epochs.Add(result);
            onEpoch?.Invoke(result);
        }
        return epochs;
    }

    /// <summary>Loads a checkpoint's state after checking it was written for this configuration; returns its position.</summary>
    private TrainingPosition Resumed(string directory, Checkpoint checkpoint)
    {
        if (checkpoint.Fingerprint != _fingerprint)
        {
            throw ImplicitRegException.BadInput($"{directory}: the newest checkpoint was written for another model or configuration; resume with the same options or use another TrainerOptions.CheckpointDirectory");
        }
        _session.LoadState(checkpoint.State);
        return checkpoint.Position;
    }

    private void SaveCheckpoint(SamplerState sampler)
    {
        if (Writes && Options.CheckpointDirectory is { } directory)
        {
            Checkpoints.Write(directory, new Checkpoint(new TrainingPosition(Steps, sampler), _session.State(), _fingerprint, _configuration), Options.KeepCheckpoints);
        }
    }

    /// <summary>Weights are checked once an epoch (a host copy); loss and penalty every step.</summary>
    private void CheckWeights()
    {
        foreach (var (name, tensor) in _session.State())
        {
            if (tensor.ElementType.IsFloatingPoint() && tensor.ToDoubles().Any(v => !double.IsFinite(v)))
            {
                throw Diverged($"after step {Steps}: '{name}' holds NaN or infinity");
            }
        }
    }

    /// <summary>The divergence error at the current step: what was not finite, what to do, and where the last good state is.</summary>
    private TrainingDivergedException Diverged(string what) => new(Steps,
        FormattableString.Invariant($"training diverged {what}; lower the learning rate (TrainerOptions.LearningRate) or the penalty's coefficient (PenaltyOptions.Coefficient)")
        + (Options.CheckpointDirectory is { } directory ? $"; the last good checkpoint is in {directory}" : ""));

    private float LearningRateAt(long step, long total)
    {
        var progress = total <= 1 ? 0 : (double)step / total;
        return Options.Schedule switch
        {
            LearningRateSchedule.Cosine => (float)(Options.LearningRate * 0.5 * (1 + Math.Cos(Math.PI * progress))),
            LearningRateSchedule.Step => Options.LearningRate * (progress >= 0.75 ? 0.01f : progress >= 0.5 ? 0.1f : 1f),
            _ => Options.LearningRate,
        };
    }

    /// <summary>Mean loss, and accuracy when the labels are classes, with the current weights.</summary>
    public Evaluation Evaluate(Dataset data, int batchSize = 256)
    {
        var state = _session.State();
        var parameters = _step.Parameters.Select(p => state[p].WithName(p)).ToList();
        var evaluation = ModelEvaluation.Run(_eval, _inputs, _outputName, data, parameters, batchSize);
        if (!double.IsFinite(evaluation.Loss))
        {
            throw Diverged($"after step {Steps}: the evaluation loss is not finite");
        }
        return evaluation;
    }

    /// <summary>The inference model with the current weights.</summary>
    public Model ExportInferenceModel() => ModelExport.WithWeights(_inference, _session.State()
        .Where(p => _step.Parameters.Contains(p.Key)).ToDictionary(p => p.Key, p => p.Value), "trainer");

    public void Dispose() => _session.Dispose();
}
