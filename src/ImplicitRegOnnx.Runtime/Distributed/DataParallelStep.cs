using System.Diagnostics;
using System.Globalization;
using ImplicitRegOnnx.Onnx;

namespace ImplicitRegOnnx.Runtime.Distributed;

/// <summary>
/// One data-parallel training step over the processes of a job (Smith et al.'s regularizer per slice, design.md §1):
/// every process runs the gradients-out step on its own slice of the global batch (<see cref="GradientStepSession.ComputeGradients"/>,
/// which fills one flat buffer with ∇(C_w + c·R_w) and the slice's loss, penalty and objective), one all-reduce sums
/// that buffer over the processes, it is scaled by 1/W to the average, and every process applies the same averaged
/// update. With equal slices the average is the step of one process on the whole batch with W times the microbatches
/// (the mean of the slices' mean losses is the batch's mean loss, the mean of their penalties the penalty over all
/// W·n microbatches); only the order of float sums differs.
/// </summary>
public sealed class DataParallelStep : ITrainingStep
{
    private readonly GradientStepSession _session;
    private readonly float _inverseSize;

    /// <summary>Runs <paramref name="session"/>'s steps averaged over <paramref name="world"/>; takes ownership of the session.</summary>
    public DataParallelStep(GradientStepSession session, ICollectives world)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(world);
        _session = session;
        World = world;
        _inverseSize = 1f / world.Size;
        if (!world.AllAgree(session.Buffer.Length))
        {
            throw ImplicitRegException.BadInput(string.Create(CultureInfo.InvariantCulture,
                $"rank {world.Rank} of {world.Size}: the processes train models with different numbers of parameters ({session.GradientLength} floats here); start every rank with the same model and options"));
        }
    }

    /// <summary>The processes the step is averaged over.</summary>
    public ICollectives World { get; }

    /// <summary>The session that computes this process's gradients and applies the updates.</summary>
    public GradientStepSession Session => _session;

    /// <inheritdoc/>
    public IReadOnlyList<string> Parameters => _session.Parameters;

    /// <inheritdoc/>
    public IReadOnlyCollection<string> BatchInputs => _session.BatchInputs;

    /// <summary>Time spent in the all-reduce (including waiting for slower processes), over all steps so far.</summary>
    public TimeSpan AllReduceTime { get; private set; }

    /// <summary>Steps taken so far.</summary>
    public long Steps { get; private set; }

    /// <summary>
    /// One step on <c>batch</c>, this process's slice of the global batch; returns the metrics averaged over all processes (the
    /// same on every process).
    /// </summary>
    public StepMetrics Step(IReadOnlyDictionary<string, Tensor> batch, float learningRate, float? penaltyCoefficient = null)
    {
        _session.ComputeGradients(batch, penaltyCoefficient);
        var buffer = _session.Buffer;
        var start = Stopwatch.GetTimestamp();
        World.AllReduceSum(buffer);
        AllReduceTime += Stopwatch.GetElapsedTime(start);
        if (World.Size > 1)
        {
            foreach (ref var value in buffer)
            {
                value *= _inverseSize;
            }
        }
        _session.ApplyUpdate(learningRate);
        Steps++;
        return _session.Metrics;
    }

    /// <summary>
    /// Makes every process's parameters and optimizer states those of <paramref name="root"/> (one broadcast of all
    /// state bytes): at the start, so that every process starts from the same weights, and after rank 0 resumed from
    /// a checkpoint.
    /// </summary>
    public void BroadcastState(int root = 0) => LoadState(BroadcastTensors(World, _session.State(), root));

    /// <summary>
    /// <paramref name="root"/>'s tensors on every process: every process passes tensors of the same names, types and
    /// shapes (its own values); all get the root's values.
    /// </summary>
    internal static IReadOnlyDictionary<string, Tensor> BroadcastTensors(ICollectives world, IReadOnlyDictionary<string, Tensor> tensors, int root)
    {
        var names = tensors.Keys.ToArray();
        var total = names.Sum(n => (long)tensors[n].RawBytes.Length);
        if (!world.AllAgree(total))
        {
            throw ImplicitRegException.BadInput(string.Create(CultureInfo.InvariantCulture,
                $"rank {world.Rank} of {world.Size}: the processes hold states of different sizes ({total} bytes here); start every rank with the same model and options"));
        }
        var bytes = new byte[total];
        var offset = 0;
        foreach (var name in names)
        {
            tensors[name].RawBytes.CopyTo(bytes.AsSpan(offset));
            offset += tensors[name].RawBytes.Length;
        }
        world.Broadcast(bytes.AsSpan(), root);
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        offset = 0;
        foreach (var name in names)
        {
            var tensor = tensors[name];
            var length = tensor.RawBytes.Length;
            result[name] = new Tensor(tensor.ElementType, tensor.Dims, bytes.AsSpan(offset, length).ToArray(), name);
            offset += length;
        }
        return result;
    }

    /// <summary>A host copy of every parameter and state (the same on every process).</summary>
    public IReadOnlyDictionary<string, Tensor> State() => _session.State();

    /// <summary>Overwrites this process's parameters and states (every process must load the same, e.g. through <see cref="BroadcastState"/>).</summary>
    public void LoadState(IReadOnlyDictionary<string, Tensor> state) => _session.LoadState(state);

    /// <summary>Disposes the underlying session.</summary>
    public void Dispose() => _session.Dispose();
}
