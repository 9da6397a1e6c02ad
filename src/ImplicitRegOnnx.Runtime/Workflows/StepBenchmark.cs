using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Runtime.Verification;
using ImplicitRegOnnx.Training;

namespace ImplicitRegOnnx.Runtime.Workflows;

/// <summary>What <see cref="StepBenchmark.Run"/> times.</summary>
public sealed record BenchOptions
{
    /// <summary>The .onnx inference model.</summary>
    public string Model { get; init; } = "";

    /// <summary>The step model's options (loss, penalty, optimizer); its microbatches must divide <see cref="Batch"/>.</summary>
    public StepModelOptions Step { get; init; } = new() { ConstantEvaluator = OrtConstantEvaluator.Instance };

    /// <summary>Examples per step; also the size of every symbolic dimension of the random inputs.</summary>
    public int Batch { get; init; } = 128;

    /// <summary>Timed steps.</summary>
    public int Steps { get; init; } = 10;

    /// <summary>Untimed steps before the timed ones.</summary>
    public int WarmupSteps { get; init; } = 3;

    /// <summary>ONNX Runtime threads (0: its default).</summary>
    public int Threads { get; init; }

    /// <summary>The execution provider.</summary>
    public Device Device { get; init; } = Device.Cpu;

    /// <summary>When set, ONNX Runtime writes its per-node profile of the steps to PREFIX_&lt;date&gt;.json.</summary>
    public string? ProfilePrefix { get; init; }

    /// <summary>
    /// The step model options of <c>implicitreg bench</c> for a loss and a penalty: the default optimizer and, with a penalty,
    /// c = 0.025 (λ = 0.1) on <paramref name="microbatches"/> microbatches.
    /// </summary>
    /// <param name="loss">The loss (<see cref="OptionNames.ParseLoss"/>).</param>
    /// <param name="penalty">The penalty mode (<see cref="OptionNames.ParsePenaltyMode"/>).</param>
    /// <param name="microbatches">n microbatches of the penalty; must divide <see cref="Batch"/>.</param>
    public static StepModelOptions StepFor(LossKind loss, PenaltyMode penalty, int microbatches = 1) => new()
    {
        Gradient = new GradientModelOptions
        {
            Loss = loss,
            Penalty = new PenaltyOptions { Mode = penalty, Coefficient = penalty == PenaltyMode.None ? 0 : 0.025, Microbatches = microbatches },
        },
        ConstantEvaluator = OrtConstantEvaluator.Instance,
    };

    /// <summary>Checks the counts and the step options.</summary>
    /// <exception cref="ImplicitRegException">Of kind <see cref="ErrorKind.BadInput"/>, naming the bad property.</exception>
    public void Validate()
    {
        Step.Validate();
        if (Batch < 1)
        {
            throw ImplicitRegException.BadParameter("BenchOptions.Batch", FormattableString.Invariant($"must be at least 1, got {Batch}"));
        }
        if (Steps < 1)
        {
            throw ImplicitRegException.BadParameter("BenchOptions.Steps", FormattableString.Invariant($"must be at least 1, got {Steps}"));
        }
        if (WarmupSteps < 0 || Threads < 0)
        {
            throw ImplicitRegException.BadParameter(WarmupSteps < 0 ? "BenchOptions.WarmupSteps" : "BenchOptions.Threads", "must not be negative");
        }
        if (Batch % Step.Gradient.Penalty.Microbatches != 0)
        {
            throw ImplicitRegException.BadParameter("BenchOptions.Batch", FormattableString.Invariant($"{Batch} is not divisible by PenaltyOptions.Microbatches {Step.Gradient.Penalty.Microbatches}"));
        }
    }
}

/// <summary>The timings and sizes of <see cref="StepBenchmark.Run"/>.</summary>
/// <param name="Model">The model file.</param>
/// <param name="Penalty">The penalty mode of the step.</param>
/// <param name="Batch">Examples per step.</param>
/// <param name="Threads">ONNX Runtime threads asked for (0: its default).</param>
/// <param name="Device">The execution provider that ran the steps (e.g. "cpu").</param>
/// <param name="StepSeconds">Each timed step's wall time, sorted.</param>
/// <param name="BuildSeconds">Time to build the step model.</param>
/// <param name="ForwardNodes">Nodes of the inference model.</param>
/// <param name="StepNodes">Nodes of the step model.</param>
/// <param name="PeakMemoryMb">Peak resident size of the process, in MiB (building and steps).</param>
/// <param name="StepPeakMemoryMb">Peak resident size while the session ran the steps, in MiB; null where the peak cannot be reset (off Linux).</param>
/// <param name="StepAddedMemoryMb">What the session and the steps added to what the process held before, in MiB; null where unknown.</param>
/// <param name="Warnings">Warnings about the model (e.g. an IR version newer than the toolkit knows).</param>
/// <param name="CpuStepSeconds">Processor time of the whole process per timed step: unlike the wall time it hardly
/// grows when other processes compete for the cores (with one thread the step runs on the calling thread).</param>
public sealed record BenchResult(string Model, PenaltyMode Penalty, int Batch, int Threads, string Device, IReadOnlyList<double> StepSeconds, double BuildSeconds,
    int ForwardNodes, int StepNodes, double PeakMemoryMb, double? StepPeakMemoryMb, double? StepAddedMemoryMb, IReadOnlyList<string> Warnings,
    double CpuStepSeconds)
{
    /// <summary>The <paramref name="q"/>-quantile of the step times (nearest rank), e.g. 0.5 for the median.</summary>
    public double Quantile(double q) => StepSeconds[(int)Math.Round(Math.Clamp(q, 0, 1) * (StepSeconds.Count - 1))];

    /// <summary>The median step time in seconds.</summary>
    public double MedianStepSeconds => Quantile(0.5);

    /// <summary>The report of <c>implicitreg bench --json</c> (seconds and MiB, rounded).</summary>
    public BenchReport Report() => new()
    {
        Model = Model,
        Penalty = Penalty.Name(),
        Batch = Batch,
        Threads = Threads,
        Device = Device,
        Steps = StepSeconds.Count,
        MedianStepSeconds = Quantile(0.5),
        P10StepSeconds = Quantile(0.1),
        P90StepSeconds = Quantile(0.9),
        CpuStepSeconds = Math.Round(CpuStepSeconds, 4),
        BuildSeconds = Math.Round(BuildSeconds, 4),
        ForwardNodes = ForwardNodes,
        StepNodes = StepNodes,
        PeakMemoryMb = Math.Round(PeakMemoryMb, 1),
        StepPeakMemoryMb = StepAddedMemoryMb is null ? null : StepPeakMemoryMb is { } peak ? Math.Round(peak, 1) : null,
        StepAddedMemoryMb = StepPeakMemoryMb is null ? null : StepAddedMemoryMb is { } added ? Math.Round(added, 1) : null,
    };
}

/// <summary>A <see cref="BenchResult"/> as JSON with snake_case names; the step memory fields only where known (Linux).</summary>
public sealed record BenchReport
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    /// <summary>The model file.</summary>
    [JsonPropertyName("model")] public string Model { get; init; } = "";

    /// <summary>The penalty mode's name.</summary>
    [JsonPropertyName("penalty")] public string Penalty { get; init; } = "";

    /// <summary>Examples per step.</summary>
    [JsonPropertyName("batch")] public int Batch { get; init; }

    /// <summary>ONNX Runtime threads asked for (0: its default).</summary>
    [JsonPropertyName("threads")] public int Threads { get; init; }

    /// <summary>The execution provider that ran the steps.</summary>
    [JsonPropertyName("device")] public string Device { get; init; } = "";

    /// <summary>Timed steps.</summary>
    [JsonPropertyName("steps")] public int Steps { get; init; }

    /// <summary>Median step time, seconds.</summary>
    [JsonPropertyName("median_step_s")] public double MedianStepSeconds { get; init; }

    /// <summary>10th percentile of the step time, seconds.</summary>
    [JsonPropertyName("p10_step_s")] public double P10StepSeconds { get; init; }

    /// <summary>90th percentile of the step time, seconds.</summary>
    [JsonPropertyName("p90_step_s")] public double P90StepSeconds { get; init; }

    /// <summary>Processor time per step, seconds.</summary>
    [JsonPropertyName("cpu_step_s")] public double CpuStepSeconds { get; init; }

    /// <summary>Time to build the step model, seconds.</summary>
    [JsonPropertyName("build_s")] public double BuildSeconds { get; init; }

    /// <summary>Nodes of the inference model.</summary>
    [JsonPropertyName("forward_nodes")] public int ForwardNodes { get; init; }

    /// <summary>Nodes of the step model.</summary>
    [JsonPropertyName("step_nodes")] public int StepNodes { get; init; }

    /// <summary>Peak resident size of the process, MiB.</summary>
    [JsonPropertyName("peak_memory_mb")] public double PeakMemoryMb { get; init; }

    /// <summary>Peak resident size while the steps ran, MiB; null where unknown.</summary>
    [JsonPropertyName("step_peak_memory_mb")] public double? StepPeakMemoryMb { get; init; }

    /// <summary>What the session and the steps added, MiB; null where unknown.</summary>
    [JsonPropertyName("step_added_memory_mb")] public double? StepAddedMemoryMb { get; init; }

    /// <summary>The report as indented JSON, with a final newline.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Indented) + "\n";
}

/// <summary>
/// Times whole training steps (forward, loss, penalty, gradient, update; <c>implicitreg bench</c>) after
/// warm-up on random data of the model's input shapes, with the build time, node counts and peak memory
/// (process peak resident size; on Linux also the peak while the steps ran and what they added).
/// </summary>
public static class StepBenchmark
{
    /// <summary>Builds the step model of <see cref="BenchOptions.Model"/> and times its steps.</summary>
    /// <exception cref="ImplicitRegException">Bad options, a model that cannot be loaded or rewritten, or a device that is not available.</exception>
    public static BenchResult Run(BenchOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var warnings = new List<string>();
        var inference = WorkflowFiles.Load(options.Model, warnings);
        var watch = Stopwatch.StartNew();
        var step = WorkflowFiles.About(options.Model, () => StepModelBuilder.Build(inference, options.Step));
        var buildSeconds = watch.Elapsed.TotalSeconds;

        var feeds = BatchFor(inference, step, options.Step.Gradient.Loss, options.Batch);
        var buildPeakMb = ProcessMemory.PeakMb();
        // From here the peak covers the session and the steps (the step model stays resident).
        GC.Collect();
        var peakReset = ProcessMemory.TryResetPeak();
        var beforeSessionMb = ProcessMemory.ResidentMb();
        using var session = OpenSession(step, options, out var chosen);
        for (var i = 0; i < options.WarmupSteps; i++)
        {
            session.Step(feeds, 0.001f);
        }
        var times = new double[options.Steps];
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        for (var i = 0; i < times.Length; i++)
        {
            var t = Stopwatch.GetTimestamp();
            session.Step(feeds, 0.001f);
            times[i] = Stopwatch.GetElapsedTime(t).TotalSeconds;
        }
        var cpuPerStep = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds / times.Length;
        Array.Sort(times);
        var stepPeakMb = ProcessMemory.PeakMb();
        var measuredSteps = peakReset && beforeSessionMb is not null;
        // The steps' peak can lie a little below the resident size before the session when the process gave
        // pages back meanwhile (the garbage collector, the kernel reclaiming file pages under memory pressure):
        // then the session and the steps added nothing, not a negative amount.
        var addedMb = measuredSteps ? Math.Max(0, stepPeakMb - beforeSessionMb!.Value) : (double?)null;
        return new BenchResult(options.Model, options.Step.Gradient.Penalty.Mode, options.Batch, options.Threads, chosen, times, buildSeconds,
            step.ForwardNodes, step.StepNodes, peakReset ? Math.Max(buildPeakMb, stepPeakMb) : stepPeakMb,
            measuredSteps ? stepPeakMb : null, addedMb, warnings, cpuPerStep);
    }

    private static StepSession OpenSession(StepModel step, BenchOptions options, out string chosen)
    {
        using var setup = Devices.Create(options.Device, options.Threads);
        chosen = setup.Chosen;
        if (options.ProfilePrefix is not null)
        {
            // The prefix must be set first: enabling profiling hands the current prefix to ONNX Runtime.
            setup.Options.ProfileOutputPathPrefix = options.ProfilePrefix;
            setup.Options.EnableProfiling = true;
        }
        return new StepSession(step, setup.Options, setup.StateMemory);
    }

    /// <summary>Random inputs of the model's shape (symbolic dims = the batch) and labels for the loss.</summary>
    private static Dictionary<string, Tensor> BatchFor(Model inference, StepModel step, LossKind loss, int batch)
    {
        var random = new Random(1);
        var feeds = RandomFeeds.Create(inference, new FeedOptions { DefaultDim = batch, Seed = 1 })
            .ToDictionary(t => t.Name, t => t, StringComparer.Ordinal);
        var target = step.Model.Graph.Inputs.First(v => v.Name == GradientModelBuilder.Target);
        var output = inference.Graph.Outputs[0].Shape;
        var dims = target.Shape?.Select(d => d.Value ?? batch).ToArray() ?? [batch];
        var count = dims.Aggregate(1L, (a, b) => a * b);
        if (loss.TargetIsClassIndex())
        {
            var classes = output is { Rank: >= 2 } && output[1].Value is { } c ? c : 2;
            feeds[target.Name] = Tensor.FromArray(Enumerable.Range(0, (int)count).Select(_ => (long)random.Next((int)classes)).ToArray(), dims, target.Name);
        }
        else
        {
            feeds[target.Name] = Tensor.FromArray(Enumerable.Range(0, (int)count).Select(_ => (float)random.NextDouble()).ToArray(), dims, target.Name);
        }
        return feeds;
    }
}
