using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Runtime.Data;
using ImplicitRegOnnx.Runtime.Distributed;
using ImplicitRegOnnx.Runtime.Verification;
using ImplicitRegOnnx.Training;

namespace ImplicitRegOnnx.Runtime.Training;

/// <summary>Learning-rate schedules over the whole run.</summary>
public enum LearningRateSchedule
{
    /// <summary>The base rate throughout.</summary>
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

    /// <summary>The base learning rate ε (the schedule scales it).</summary>
    public float LearningRate { get; init; } = 0.1f;

    /// <summary>How the learning rate changes over the run.</summary>
    public LearningRateSchedule Schedule { get; init; } = LearningRateSchedule.Constant;

    /// <summary>Passes over the training set.</summary>
    public int Epochs { get; init; } = 10;

    /// <summary>Examples per batch B.</summary>
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

    /// <summary>
    /// c of objective = C + c·R, fed to the step model's "penalty_coefficient" input at every step. Null (the
    /// default): c(t) = ε(t)/4 with ε(t) the scheduled learning rate of that step, i.e. λ = ε(t), so a cosine or
    /// step schedule scales the penalty as in Smith et al.'s modified loss C + (ε/4m)·Σ_k‖∇Ĉ_k‖² (R is already the
    /// mean over the n microbatches, design.md §1); at a constant rate this is c = ε/4, the fixed default of earlier
    /// versions. A value fixes c for every step (what an explicit λ gives: c = λ/4,
    /// <see cref="PenaltyOptions.CoefficientFromLambda"/>).
    /// </summary>
    public double? PenaltyCoefficient { get; init; }

    /// <summary>Steps of linear warmup: ε(t) = ε·(t+1)/W for t &lt; W, then the schedule over the remaining steps (0: none).</summary>
    public long WarmupSteps { get; init; }

    /// <summary>
    /// The learning rate of step t (0-based), instead of <see cref="Schedule"/> and <see cref="WarmupSteps"/>; it
    /// must return a finite rate ≥ 0. A resumed run must pass the same function (checkpoints cannot record it).
    /// </summary>
    public Func<long, float>? LearningRateFunction { get; init; }

    /// <summary>The epoch metric early stopping and keep-best follow (<see cref="TrainingMetrics.Names"/>); null: test_loss with a test set, else train_loss.</summary>
    public string? Monitor { get; init; }

    /// <summary>Whether the monitored metric is better smaller or larger (auto: larger for accuracy).</summary>
    public MonitorMode MonitorMode { get; init; } = MonitorMode.Auto;

    /// <summary>Stop after this many epochs without improvement of the monitored metric (null: no early stopping).</summary>
    public int? EarlyStoppingPatience { get; init; }

    /// <summary>How much better than the best an epoch must be to count as an improvement.</summary>
    public double MinDelta { get; init; }

    /// <summary>Write the inference model of every epoch that improves the monitored metric here (atomically), so it ends as the best model.</summary>
    public string? KeepBestPath { get; init; }

    /// <summary>The monitored metric for a run with or without a test set.</summary>
    public string MonitorFor(bool hasTestSet) => Monitor ?? (hasTestSet ? TrainingMetrics.TestLoss : TrainingMetrics.TrainLoss);

    /// <summary>The coefficient fed at a step whose learning rate is <paramref name="learningRate"/>.</summary>
    public float CoefficientAt(float learningRate) =>
        (float)(PenaltyCoefficient ?? PenaltyOptions.CoefficientFromLambda(learningRate));

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
        Check(WarmupSteps >= 0, "TrainerOptions.WarmupSteps", $"must be at least 0, got {WarmupSteps}");
        Check(LearningRateFunction is null || (WarmupSteps == 0 && Schedule == LearningRateSchedule.Constant), "TrainerOptions.LearningRateFunction",
            $"gives the whole schedule; leave TrainerOptions.Schedule constant and TrainerOptions.WarmupSteps 0");
        Check(Monitor is null || TrainingMetrics.Names.Contains(Monitor), "TrainerOptions.Monitor", $"unknown metric '{Monitor}'; use one of {string.Join(", ", TrainingMetrics.Names)}");
        Check(EarlyStoppingPatience is null or >= 1, "TrainerOptions.EarlyStoppingPatience", $"must be at least 1 epoch, got {EarlyStoppingPatience}");
        Check(double.IsFinite(MinDelta) && MinDelta >= 0, "TrainerOptions.MinDelta", $"must be a non-negative number, got {MinDelta}");
        Check(KeepBestPath is null || !string.IsNullOrWhiteSpace(KeepBestPath), "TrainerOptions.KeepBestPath", $"is empty; give the path of the .onnx file to write");
        Step.Validate();
        // Each batch is split into n consecutive equal microbatches (design.md §1); the step graph slices by B / n,
        // so a remainder would be left out of the penalty without a word.
        var penalty = Step.Gradient.Penalty;
        Check(penalty.Mode == PenaltyMode.None || BatchSize % penalty.Microbatches == 0, "PenaltyOptions.Microbatches",
            $"is {penalty.Microbatches}, which does not divide TrainerOptions.BatchSize = {BatchSize}: the penalty splits every batch into {penalty.Microbatches} equal microbatches; use a batch size that is a multiple of {penalty.Microbatches}");
        Check(PenaltyCoefficient is null || (double.IsFinite(PenaltyCoefficient.Value) && PenaltyCoefficient >= 0), "TrainerOptions.PenaltyCoefficient",
            $"must be a non-negative number or null (c = ε(t)/4), got {PenaltyCoefficient}");
        // The trainer feeds the coefficient every step; a different one in the step options would be silently unused.
        var built = Step.Gradient.Penalty.Coefficient;
        Check(built == 0 || (float)built == CoefficientAt(LearningRate), "PenaltyOptions.Coefficient",
            $"is {built} but the trainer feeds c = {(PenaltyCoefficient is { } fixedC ? fixedC.ToString(System.Globalization.CultureInfo.InvariantCulture) : "ε(t)/4")} every step; set the coefficient through TrainerOptions.PenaltyCoefficient (null: ε(t)/4) and leave PenaltyOptions.Coefficient 0");
    }
}

/// <summary>What one step did: steps taken, its epoch, the learning rate and penalty coefficient fed, and its scalars.</summary>
public readonly record struct StepEvent(long Step, long Epoch, float LearningRate, StepMetrics Metrics, float PenaltyCoefficient);

/// <summary>Opens the session that runs a step model's steps on a device: how <see cref="Trainer"/> gets its <see cref="ITrainingStep"/>.</summary>
/// <param name="step">The step model (fused, or gradients-out with its apply-update model).</param>
/// <param name="device">Session options and where state lives; the trainer disposes it after the call.</param>
public delegate ITrainingStep StepFactory(StepModel step, DeviceSetup device);

/// <summary>What one epoch did; test metrics when a test set was given.</summary>
public sealed record EpochEvent(long Epoch, long Steps, double TrainLoss, double Penalty, Evaluation? Test);


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
/// Trains a model with the explicit implicit-regularization penalty on ONNX Runtime: from an inference model
/// (it builds the step and evaluation models) or from the files <c>rewrite</c>/<c>convert</c> wrote
/// (<see cref="TrainingArtifacts"/>, nothing rebuilt). The steps run through an <see cref="ITrainingStep"/>
/// (<see cref="StepSession"/> for the fused form, parameters kept in bound buffers); a fresh permutation of the
/// training set is drawn every epoch (<see cref="EpochSampler"/>); the trained inference model is exported.
/// Given an <see cref="ICollectives"/> world of more than one process (an MPI job), it trains data-parallel
/// (<see cref="DataParallelStep"/>): the global batch of <see cref="TrainerOptions.BatchSize"/> is split into one
/// contiguous slice per process and the gradients are averaged every step; rank 0 alone writes checkpoints.
/// </summary>
public sealed class Trainer : IDisposable
{
    private readonly StepModel _step;
    private readonly Model _eval;
    private readonly ITrainingStep _session;
    private readonly DataParallelTraining? _parallel;
    private readonly Func<IReadOnlyDictionary<string, Tensor>, Model> _export;
    private readonly IReadOnlyList<DataInput> _inputs;
    private readonly DataInput? _target;
    private readonly string _outputName;
    private readonly LossKind? _loss;
    private readonly int _microbatches;
    private readonly string _configuration;
    private readonly string _fingerprint;

    /// <summary>Builds the step and evaluation models of <paramref name="inference"/> and opens a session on the chosen device.</summary>
    /// <param name="inference">The inference model (not changed).</param>
    /// <param name="options">How to train; validated first.</param>
    /// <param name="world">The processes of the job (<see cref="Collectives.Open()"/>): data-parallel when it has more than
    /// one; null for this process alone.</param>
    /// <param name="openStep">Opens the session that runs the steps; null: a <see cref="StepSession"/> (fused form).
    /// Not used with a world of more than one process.</param>
    public Trainer(Model inference, TrainerOptions options, ICollectives? world = null, StepFactory? openStep = null)
    {
        ArgumentNullException.ThrowIfNull(inference);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        var parallel = world is { Size: > 1 };
        if (parallel)
        {
            DataParallelTraining.Validate(options, world!);
        }
        // Trainer runs ONNX Runtime anyway, so constant subgraphs are folded by it unless the options say otherwise.
        var evaluator = options.Step.ConstantEvaluator ?? OrtConstantEvaluator.Instance;
        // The built-in default is the coefficient of the first step, so the model alone behaves as the run starts.
        var stepOptions = options.Step with
        {
            ConstantEvaluator = evaluator,
            Gradient = options.Step.Gradient with { Penalty = options.Step.Gradient.Penalty with { Coefficient = options.CoefficientAt(options.LearningRate) } },
        };
        _step = StepModelBuilder.Build(inference, parallel ? stepOptions with { Form = StepModelForm.GradientsOut } : stepOptions);
        _eval = EvalModelBuilder.Build(inference, options.Step.Gradient, evaluator);
        if (parallel)
        {
            _parallel = new DataParallelTraining(new DataParallelStep(OpenGradientsOut(_step, options, out var device), world!));
            (_session, DeviceDescription) = (_parallel.Step, device);
        }
        else
        {
            (_session, DeviceDescription) = Open(_step, options, openStep);
        }
        _inputs = DataInput.Of(inference);
        _outputName = options.Step.Gradient.Output ?? inference.Graph.Outputs[0].Name;
        _loss = options.Step.Gradient.LossOutput is null ? options.Step.Gradient.Loss : null;
        _target = DataInput.TargetOf(_eval, _outputName, _loss is { } kind && kind.TargetIsClassIndex());
        _microbatches = BatchBuffers.MicrobatchesOf(_step);
        _export = state => ModelExport.WithWeights(inference, state.Where(p => _step.Parameters.Contains(p.Key)).ToDictionary(p => p.Key, p => p.Value), "trainer");
        _configuration = Configuration("model " + Sha256(inference.ToBytes()), options, world?.Size ?? 1);
        _fingerprint = Checkpoints.Fingerprint(_configuration);
        _parallel?.CheckAgreement(_fingerprint);
    }

    private static GradientStepSession OpenGradientsOut(StepModel step, TrainerOptions options, out string device)
    {
        using var setup = Devices.Create(options.Device, options.Threads);
        device = setup.Chosen;
        return new GradientStepSession(step, setup.Options, setup.StateMemory);
    }

    /// <summary>
    /// Trains the step model <c>rewrite</c>/<c>convert</c> wrote, as it is: loss, penalty mode, microbatches and
    /// optimizer are the model's (<see cref="TrainerOptions.Step"/> is not used); the coefficient is fed as
    /// <see cref="TrainerOptions.PenaltyCoefficient"/> says. Evaluation needs the evaluation model beside it.
    /// </summary>
    /// <param name="artifacts">The opened files.</param>
    /// <param name="options">How to train; validated first.</param>
    /// <param name="openStep">Opens the session that runs the steps; null: a <see cref="StepSession"/> (fused form).</param>
    public Trainer(TrainingArtifacts artifacts, TrainerOptions options, StepFactory? openStep = null)
    {
        ArgumentNullException.ThrowIfNull(artifacts);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        _step = artifacts.Step;
        _eval = artifacts.Eval!;
        HasEvaluation = artifacts.Eval is not null;
        _inputs = [.. artifacts.ModelInputs.Select(name => DataInput.Of(_step.Model.Graph.Inputs.First(v => v.Name == name)))];
        _outputName = artifacts.ModelOutputs.Count > 0 ? artifacts.ModelOutputs[0] : "";
        _loss = artifacts.Loss;
        _target = DataInput.TargetOf(artifacts.Eval ?? _step.Model, _outputName, _loss is { } kind && kind.TargetIsClassIndex());
        _microbatches = BatchBuffers.MicrobatchesOf(_step);
        if (options.BatchSize % _microbatches != 0)
        {
            throw ImplicitRegException.BadParameter("TrainerOptions.BatchSize",
                FormattableString.Invariant($"is {options.BatchSize}, but the step model {artifacts.StepPath} splits every batch into {_microbatches} equal microbatches; use a multiple of {_microbatches}"));
        }
        (_session, DeviceDescription) = Open(_step, options, openStep);
        _export = state => ModelExport.FromStepModel(_step.Model, state, artifacts.StepPath);
        var initial = string.Join(',', _step.InitialState.Select(p => p.Key + ":" + Sha256(p.Value.RawBytes.ToArray())));
        _configuration = Configuration($"step-model {Sha256(_step.Model.ToBytes())} initial {Sha256(System.Text.Encoding.UTF8.GetBytes(initial))}", options, 1);
        _fingerprint = Checkpoints.Fingerprint(_configuration);
    }

    private static (ITrainingStep Session, string Device) Open(StepModel step, TrainerOptions options, StepFactory? openStep)
    {
        using var setup = Devices.Create(options.Device, options.Threads);
        var session = openStep is null ? new StepSession(step, setup.Options, setup.StateMemory) : openStep(step, setup);
        return (session, setup.Chosen);
    }

    private static string Sha256(byte[] bytes) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));

    /// <summary>
    /// Everything a resumed run must share with the run that wrote the checkpoint: the model's bytes
    /// (by hash) and every option that changes the sequence of steps.
    /// </summary>
    /// <remarks>The penalty's microbatches are counted over all <paramref name="workers"/> (n per slice times W), so a
    /// run resumes with another number of processes when it trains the same objective.</remarks>
    private static string Configuration(string model, TrainerOptions o, int workers)
    {
        var g = o.Step.Gradient;
        var opt = o.Step.Optimizer;
        return string.Join('\n', new[]
        {
            model,
            $"loss {g.Loss} {g.LossOutput} {g.Output}",
            FormattableString.Invariant($"penalty {g.Penalty.Mode} {g.Penalty.Microbatches * workers} {g.Penalty.FiniteDifferenceStep:R} coefficient {(o.PenaltyCoefficient is { } c ? c.ToString("R", System.Globalization.CultureInfo.InvariantCulture) : "lr/4")}"),
            FormattableString.Invariant($"optimizer {opt.Kind} {opt.Momentum:R} {opt.Nesterov} {opt.WeightDecay:R} {opt.Beta1:R} {opt.Beta2:R} {opt.Epsilon:R}"),
            FormattableString.Invariant($"trainable {string.Join(',', g.Trainable ?? [])} freeze {string.Join(',', g.Freeze ?? [])}"),
            FormattableString.Invariant($"lr {o.LearningRate:R} {o.Schedule} {(o.Schedule == LearningRateSchedule.Constant ? "" : o.Epochs.ToString(System.Globalization.CultureInfo.InvariantCulture))}")
                + (o.WarmupSteps > 0 ? FormattableString.Invariant($" warmup {o.WarmupSteps}") : "") + (o.LearningRateFunction is null ? "" : " function"),
            FormattableString.Invariant($"batch {o.BatchSize} keep-last {o.KeepLast} seed {o.Seed}"),
        });
    }

    /// <summary>Whether <see cref="Evaluate"/> can run: always for an inference model, for artifacts when the evaluation model was there.</summary>
    public bool HasEvaluation { get; } = true;

    /// <summary>The device the steps run on, e.g. "cpu" or "cuda:0" (auto says why it fell back).</summary>
    public string DeviceDescription { get; }

    /// <summary>The penalty as the step model's metadata records it, for a start line: "no penalty", or e.g. "exact penalty c = ε(t)/4, n = 2".</summary>
    public string PenaltyDescription
    {
        get
        {
            var metadata = _step.Model.MetadataProps;
            string Meta(string key) => metadata.LastOrDefault(e => e.Key == "implicitreg." + key)?.Value ?? "?";
            var scale = Options.PenaltyCoefficient is { } c ? FormattableString.Invariant($"c = {c:g4}") : "c = ε(t)/4";
            return Meta("penalty") == "none" ? "no penalty" : $"{Meta("penalty")} penalty {scale}, n = {Meta("microbatches")}";
        }
    }

    /// <summary>The step a resumed run started from (0 for a fresh run).</summary>
    public long ResumedFromStep { get; private set; }

    /// <summary>The options this trainer was made with.</summary>
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

    /// <summary>Why the last <see cref="Fit(Dataset, Dataset?, IEnumerable{TrainerCallback}, IProgress{StepEvent}?, CancellationToken)"/> stopped early (early stopping, a callback's request); null when it ran to its end.</summary>
    public string? StopReason { get; private set; }

    /// <summary>The monitor of early stopping and keep-best in the last run; null when neither is on.</summary>
    public MetricMonitor? Monitor { get; private set; }

    /// <summary>Steps the last run was to take in all (epochs × batches per epoch, or <see cref="TrainerOptions.MaxSteps"/>).</summary>
    public long TotalSteps { get; private set; }

    /// <summary>Ends the run after the current step (callbacks call it); <paramref name="reason"/> becomes <see cref="StopReason"/>.</summary>
    public void RequestStop(string reason) => _stopRequest ??= reason;

    private string? _stopRequest;

    /// <summary>Trains for <see cref="TrainerOptions.Epochs"/> epochs (or <see cref="TrainerOptions.MaxSteps"/> steps).</summary>
    public IReadOnlyList<EpochEvent> Fit(Dataset train, Dataset? test = null, Action<StepEvent>? onStep = null,
        Action<EpochEvent>? onEpoch = null, CancellationToken cancellation = default) =>
        Fit(train, test, [new DelegateCallback(onStep, onEpoch)], null, cancellation);

    /// <summary>
    /// Trains for <see cref="TrainerOptions.Epochs"/> epochs (or <see cref="TrainerOptions.MaxSteps"/> steps), or until
    /// early stopping or a callback stops it. Returns the completed epochs.
    /// </summary>
    /// <param name="train">The training set.</param>
    /// <param name="test">Evaluated after every epoch when given.</param>
    /// <param name="callbacks">Called after every step and epoch, in order; they may call <see cref="RequestStop"/>.</param>
    /// <param name="progress">Told of every step.</param>
    /// <param name="cancellation">Checked between steps: a cancelled run ends after the current step, writes a checkpoint
    /// there when <see cref="TrainerOptions.CheckpointDirectory"/> is set, and throws <see cref="TrainingCancelledException"/>.</param>
    public IReadOnlyList<EpochEvent> Fit(Dataset train, Dataset? test, IEnumerable<TrainerCallback> callbacks,
        IProgress<StepEvent>? progress = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(callbacks);
        var hooks = callbacks.ToList();
        if (test is not null && !HasEvaluation)
        {
            throw NoEvaluationModel();
        }
        StopReason = null;
        _stopRequest = null;
        train = train.ForInputs(_inputs, _target);
        test = test?.ForInputs(_inputs, _target);
        Monitor = Options.EarlyStoppingPatience is null && Options.KeepBestPath is null ? null
            : new MetricMonitor(Options.MonitorFor(test is not null), Options.MonitorMode, Options.MinDelta);
        if (Monitor is not null && test is null && Monitor.Metric.StartsWith("test_", StringComparison.Ordinal))
        {
            throw ImplicitRegException.BadParameter("TrainerOptions.Monitor", $"'{Monitor.Metric}' needs a test set; give one or monitor {TrainingMetrics.TrainLoss}");
        }
        var sampler = new EpochSampler(train.Count, Options.BatchSize, Options.Seed, Options.KeepLast);
        if (Options.KeepLast && _parallel is null && train.Count % Options.BatchSize is var last and > 0 && last % _microbatches != 0)
        {
            throw ImplicitRegException.BadParameter("TrainerOptions.KeepLast", FormattableString.Invariant(
                $"keeps a last batch of {last} examples ({train.Count} examples in batches of {Options.BatchSize}), which does not split into {_microbatches} equal microbatches for the penalty; drop it (KeepLast false) or choose a batch size that leaves a multiple of {_microbatches}"));
        }
        var totalSteps = Math.Min(Options.MaxSteps ?? long.MaxValue, (long)sampler.BatchesPerEpoch * Options.Epochs);
        TotalSteps = totalSteps;
        var scheduleSteps = (long)sampler.BatchesPerEpoch * Options.Epochs;
        _parallel?.CheckData(train.Count, Options);
        // Rank 0 alone reads the checkpoint (the others may not see its folder); the position and state go to all.
        var checkpoint = Options.Resume && Writes && Options.CheckpointDirectory is { } directory && Checkpoints.Newest(directory) is { } newest
            ? Resumed(directory, newest)
            : null;
        var resumed = checkpoint?.Position;
        if (_parallel is not null)
        {
            resumed = _parallel.ShareStart(resumed);
        }
        if (resumed is not null)
        {
            Steps = resumed.Step;
            ResumedFromStep = Steps;
            sampler = new EpochSampler(train.Count, Options.BatchSize, resumed.Sampler, Options.KeepLast);
            // Early stopping and keep-best resume on rank 0's monitor; under MPI the others start theirs afresh.
            if (Monitor is not null && checkpoint?.Monitor is { } state && checkpoint.MonitorMetric == Monitor.Metric)
            {
                Monitor.State = state;
            }
        }
        var start = new TrainingStart(train.Count, totalSteps, ResumedFromStep);
        foreach (var hook in hooks)
        {
            hook.OnStart(this, start);
        }
        var epochs = new List<EpochEvent>();
        for (var epoch = sampler.Epoch; epoch < Options.Epochs && Steps < totalSteps; epoch++)
        {
            double lossSum = 0, penaltySum = 0;
            var count = 0;
            while (Steps < totalSteps && _stopRequest is null && !cancellation.IsCancellationRequested && sampler.TryNextBatch(out var indices))
            {
                var rate = LearningRateAt(Steps, scheduleSteps);
                var coefficient = Options.CoefficientAt(rate);
                var metrics = _session.Step(train.Gather(_parallel is null ? indices : _parallel.SliceOf(indices)), rate, coefficient);
                Steps++;
                if (!float.IsFinite(metrics.Loss) || !float.IsFinite(metrics.Penalty))
                {
                    throw Diverged($"at step {Steps}: the loss ({metrics.Loss}) or the penalty ({metrics.Penalty}) is not finite");
                }
                lossSum += metrics.Loss;
                penaltySum += metrics.Penalty;
                count++;
                var stepEvent = new StepEvent(Steps, epoch, rate, metrics, coefficient);
                progress?.Report(stepEvent);
                foreach (var hook in hooks)
                {
                    hook.OnStep(this, stepEvent);
                }
                if (Options.CheckpointEvery > 0 && Steps % Options.CheckpointEvery == 0 && !sampler.EpochFinished)
                {
                    SaveCheckpoint(sampler.State);
                }
            }
            if (!sampler.EpochFinished)
            {
                // Stopped inside the epoch: by MaxSteps, a request or the token. The last two keep the position.
                if (cancellation.IsCancellationRequested && Steps < totalSteps)
                {
                    throw Cancelled(SaveCheckpoint(sampler.State));
                }
                if (_stopRequest is not null)
                {
                    SaveCheckpoint(sampler.State);
                }
                break;
            }
            sampler.NextEpoch();
            CheckWeights();
            var result = new EpochEvent(epoch, Steps, count == 0 ? double.NaN : lossSum / count, count == 0 ? double.NaN : penaltySum / count,
                test is null ? null : Evaluate(test));
            if (Monitor is not null)
            {
                if (Monitor.Update(result) && Writes && Options.KeepBestPath is { } best)
                {
                    ExportInferenceModel().Save(best);
                }
                if (Options.EarlyStoppingPatience is { } patience && Monitor.State!.EpochsWithoutImprovement >= patience)
                {
                    RequestStop(FormattableString.Invariant($"early stopping: {Monitor.Metric} did not improve by more than {Options.MinDelta:g6} for {patience} epochs (best {Monitor.DescribeBest()})"));
                }
            }
            var saved = SaveCheckpoint(sampler.State);
            epochs.Add(result);
            foreach (var hook in hooks)
            {
                hook.OnEpoch(this, result);
            }
            if (cancellation.IsCancellationRequested && epoch + 1 < Options.Epochs && Steps < totalSteps)
            {
                throw Cancelled(saved);
            }
            if (_stopRequest is not null)
            {
                break;
            }
        }
        StopReason = _stopRequest;
        return epochs;
    }

    private TrainingCancelledException Cancelled(string? checkpoint) => new(Steps, checkpoint,
        $"training cancelled after step {Steps}" + (checkpoint is null
            ? "; nothing was saved (set TrainerOptions.CheckpointDirectory to resume an interrupted run)"
            : $"; checkpoint {checkpoint}; continue with TrainerOptions.Resume"));

    /// <summary>Loads a checkpoint's state after checking it was written for this configuration.</summary>
    private Checkpoint Resumed(string directory, Checkpoint checkpoint)
    {
        if (checkpoint.Fingerprint != _fingerprint)
        {
            throw ImplicitRegException.BadInput($"{directory}: the newest checkpoint was written for another model or configuration; resume with the same options or use another TrainerOptions.CheckpointDirectory");
        }
        _session.LoadState(checkpoint.State);
        return checkpoint;
    }

    /// <summary>Writes a checkpoint of the current step when checkpoints are on (rank 0 alone under MPI); returns its path (null when off).</summary>
    private string? SaveCheckpoint(SamplerState sampler)
    {
        if (!Writes || Options.CheckpointDirectory is not { } directory)
        {
            return null;
        }
        var checkpoint = new Checkpoint(new TrainingPosition(Steps, sampler), _session.State(), _fingerprint, _configuration)
        {
            Monitor = Monitor?.State,
            MonitorMetric = Monitor?.Metric,
        };
        return Checkpoints.Write(directory, checkpoint, Options.KeepCheckpoints);
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

    /// <summary>ε of step <paramref name="step"/> (0-based) of <paramref name="total"/>: the function, or warmup then the schedule.</summary>
    private float LearningRateAt(long step, long total)
    {
        if (Options.LearningRateFunction is { } function)
        {
            var r = function(step);
            return float.IsFinite(r) && r >= 0 ? r
                : throw ImplicitRegException.BadParameter("TrainerOptions.LearningRateFunction", FormattableString.Invariant($"returned {r} for step {step}; it must return a finite rate of at least 0"));
        }
        var warmup = Options.WarmupSteps;
        if (step < warmup)
        {
            return (float)(Options.LearningRate * (double)(step + 1) / warmup);
        }
        step -= warmup;
        total -= warmup;
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
        if (!HasEvaluation)
        {
            throw NoEvaluationModel();
        }
        var state = _session.State();
        var parameters = _step.Parameters.Select(p => state[p].WithName(p)).ToList();
        var evaluation = ModelEvaluation.Run(_eval, _inputs, _outputName, data, parameters, batchSize, _loss);
        if (!double.IsFinite(evaluation.Loss))
        {
            throw Diverged($"after step {Steps}: the evaluation loss is not finite");
        }
        return evaluation;
    }

    private static ImplicitRegException NoEvaluationModel() =>
        ImplicitRegException.BadInput("the step model has no evaluation model beside it (TRAIN.eval.onnx), so test data cannot be evaluated; write one with rewrite --eval-out (convert writes it)");

    /// <summary>The inference model with the current weights.</summary>
    public Model ExportInferenceModel() => _export(_session.State());

    /// <summary>Disposes the step session and its state.</summary>
    public void Dispose() => _session.Dispose();
}
