using System.Globalization;
using ImplicitRegOnnx.Runtime.Data;
using ImplicitRegOnnx.Training;
using ImplicitRegOnnx.Runtime.Training;

namespace ImplicitRegOnnx.Runtime.Distributed;

/// <summary>
/// What <see cref="Trainer"/> does differently in a world of W &gt; 1 processes: the global batch of
/// <see cref="TrainerOptions.BatchSize"/> examples (the same indices on every process: same seed, same permutation)
/// is cut into W contiguous slices, process r taking slice r; every step is a <see cref="DataParallelStep"/>; rank 0's
/// parameters (fresh, or resumed from its checkpoint) and position are broadcast to all at the start; and the
/// processes check that they train the same model, options and data.
/// </summary>
internal sealed class DataParallelTraining(DataParallelStep step)
{
    public DataParallelStep Step { get; } = step;

    public ICollectives World => Step.World;

    /// <summary>Options that must fit the world: the global batch splits into W slices, each into the microbatches.</summary>
    public static void Validate(TrainerOptions options, ICollectives world)
    {
        var workers = world.Size;
        if (options.BatchSize % workers != 0)
        {
            throw ImplicitRegException.BadParameter("TrainerOptions.BatchSize", string.Create(CultureInfo.InvariantCulture,
                $"is the global batch, split into one equal slice per process, but {options.BatchSize} does not divide by the {workers} processes of the MPI job; use a multiple of {workers}"));
        }
        CheckSlice(options, options.BatchSize / workers, workers, "TrainerOptions.BatchSize");
    }

    /// <summary>A slice must split into the penalty's microbatches.</summary>
    private static void CheckSlice(TrainerOptions options, int slice, int workers, string parameter)
    {
        var penalty = options.Step.Gradient.Penalty;
        if (penalty.Mode != PenaltyMode.None && slice % penalty.Microbatches != 0)
        {
            throw ImplicitRegException.BadParameter(parameter, string.Create(CultureInfo.InvariantCulture,
                $"gives each of the {workers} processes a slice of {slice} examples, which does not split into PenaltyOptions.Microbatches = {penalty.Microbatches} equal microbatches; use a batch of a multiple of {workers * penalty.Microbatches}"));
        }
    }

    /// <summary>All processes must build the same step (same model bytes and options: the checkpoint fingerprint).</summary>
    public void CheckAgreement(string fingerprint)
    {
        var hash = long.Parse(fingerprint.AsSpan(0, 16), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        if (!World.AllAgree(hash))
        {
            throw ImplicitRegException.BadInput(string.Create(CultureInfo.InvariantCulture,
                $"rank {World.Rank} of {World.Size}: the processes of the MPI job were started with different models or training options; start every rank with the same command line and files"));
        }
    }

    /// <summary>All processes must see the same number of examples; a kept last batch must split like the others.</summary>
    public void CheckData(int examples, TrainerOptions options)
    {
        if (!World.AllAgree(examples))
        {
            throw ImplicitRegException.BadInput(string.Create(CultureInfo.InvariantCulture,
                $"rank {World.Rank} of {World.Size}: the processes of the MPI job read different training data ({examples} examples here); give every rank the same data file"));
        }
        var last = examples % options.BatchSize;
        if (options.KeepLast && last != 0)
        {
            if (last % World.Size != 0)
            {
                throw ImplicitRegException.BadParameter("TrainerOptions.KeepLast", string.Create(CultureInfo.InvariantCulture,
                    $"keeps a last batch of {last} examples, which does not split into the {World.Size} processes of the MPI job; drop it or choose a batch size whose remainder divides by {World.Size}"));
            }
            CheckSlice(options, last / World.Size, World.Size, "TrainerOptions.KeepLast");
        }
    }

    /// <summary>
    /// Rank 0's start on every process: its resumed position (null for a fresh run) and its parameters and states.
    /// </summary>
    public TrainingPosition? ShareStart(TrainingPosition? rootPosition)
    {
        Span<long> position = rootPosition is { } p
            ? [1, p.Step, unchecked((long)p.Sampler.Seed), p.Sampler.Epoch, p.Sampler.Position]
            : [0, 0, 0, 0, 0];
        World.Broadcast(position, root: 0);
        Step.BroadcastState(root: 0);
        return position[0] == 0
            ? null
            : new TrainingPosition(position[1], new SamplerState(unchecked((ulong)position[2]), position[3], checked((int)position[4])));
    }

    /// <summary>This process's contiguous slice of a batch's indices.</summary>
    public ReadOnlySpan<int> SliceOf(int[] indices)
    {
        var length = indices.Length / World.Size;
        return indices.AsSpan(World.Rank * length, length);
    }
}
