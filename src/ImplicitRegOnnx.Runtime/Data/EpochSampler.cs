using ImplicitRegOnnx.Onnx;
namespace ImplicitRegOnnx.Runtime.Data;

/// <summary>
/// Where an <see cref="EpochSampler"/> stands, for checkpoints: the seed, the current epoch
/// (0-based) and the position in that epoch's permutation of the next example to hand out.
/// </summary>
public sealed record SamplerState(ulong Seed, long Epoch, int Position);

/// <summary>
/// Random shuffling as in Smith et al. (ICLR 2021, §2): every epoch visits the examples in a fresh
/// random permutation and cuts it into consecutive batches of size B. The permutation of epoch e
/// depends only on (seed, e), through <see cref="SplitMix64"/> and Fisher-Yates, so a run resumed
/// from a <see cref="SamplerState"/> continues with exactly the batches an uninterrupted run sees.
/// The last incomplete batch is dropped unless <see cref="KeepLast"/> is set.
/// </summary>
internal sealed class EpochSampler
{
    private int[]? _permutation;
    private long _permutationEpoch = -1;

    /// <summary>A sampler at the start of epoch 0.</summary>
    public EpochSampler(int exampleCount, int batchSize, ulong seed, bool keepLast = false)
        : this(exampleCount, batchSize, new SamplerState(seed, 0, 0), keepLast)
    {
    }

    /// <summary>A sampler resumed from a saved state (same example count, batch size and keep-last as when saved).</summary>
    public EpochSampler(int exampleCount, int batchSize, SamplerState state, bool keepLast = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(exampleCount);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentNullException.ThrowIfNull(state);
        ExampleCount = exampleCount;
        BatchSize = batchSize;
        KeepLast = keepLast;
        if (BatchesPerEpoch == 0)
        {
            // The caller's data and options are at fault, not the caller's code: bad input naming the option.
            throw exampleCount == 0
                ? ImplicitRegException.BadInput("the training data has no examples; give data with at least one example")
                : ImplicitRegException.BadParameter("TrainerOptions.BatchSize",
                    $"{batchSize} exceeds the {exampleCount} examples and the last incomplete batch is dropped, so an epoch has no batch; lower the batch size or keep the last batch (TrainerOptions.KeepLast)");
        }
        if (state.Epoch < 0 || state.Position < 0 || state.Position > ExamplesPerEpoch)
        {
            throw ImplicitRegException.BadInput(
                $"the saved sampler state (epoch {state.Epoch}, position {state.Position}) does not fit {exampleCount} examples in batches of {batchSize}; resume with the data and batch size of the run that saved it");
        }
        Seed = state.Seed;
        Epoch = state.Epoch;
        Position = state.Position;
    }

    /// <summary>Examples in the data set being sampled.</summary>
    public int ExampleCount { get; }

    /// <summary>Examples per batch (the last batch may be smaller when <see cref="KeepLast"/>).</summary>
    public int BatchSize { get; }

    /// <summary>Whether the last, incomplete batch of an epoch is used (otherwise dropped).</summary>
    public bool KeepLast { get; }

    /// <summary>The seed the per-epoch permutations derive from.</summary>
    public ulong Seed { get; }

    /// <summary>The current epoch, 0-based.</summary>
    public long Epoch { get; private set; }

    /// <summary>Index in the current epoch's permutation of the next example to hand out.</summary>
    public int Position { get; private set; }

    /// <summary>Batches per epoch: ⌊N/B⌋, or ⌈N/B⌉ when keeping the last batch.</summary>
    public int BatchesPerEpoch => KeepLast ? (ExampleCount + BatchSize - 1) / BatchSize : ExampleCount / BatchSize;

    /// <summary>Examples handed out per epoch (N, or ⌊N/B⌋·B when the last batch is dropped).</summary>
    public int ExamplesPerEpoch => KeepLast ? ExampleCount : ExampleCount / BatchSize * BatchSize;

    /// <summary>Whether every batch of the current epoch has been handed out.</summary>
    public bool EpochFinished => Position >= ExamplesPerEpoch;

    /// <summary>The state to save in a checkpoint.</summary>
    public SamplerState State => new(Seed, Epoch, Position);

    /// <summary>The current epoch's permutation of the example indices.</summary>
    public ReadOnlySpan<int> CurrentPermutation
    {
        get
        {
            if (_permutation is null || _permutationEpoch != Epoch)
            {
                _permutation = Permutation(ExampleCount, Seed, Epoch);
                _permutationEpoch = Epoch;
            }
            return _permutation;
        }
    }

    /// <summary>
    /// The next batch of example indices of the current epoch, or false when the epoch is finished
    /// (then call <see cref="NextEpoch"/>).
    /// </summary>
    public bool TryNextBatch(out int[] indices)
    {
        if (EpochFinished)
        {
            indices = [];
            return false;
        }
        var size = Math.Min(BatchSize, ExamplesPerEpoch - Position);
        indices = CurrentPermutation.Slice(Position, size).ToArray();
        Position += size;
        return true;
    }

    /// <summary>Moves to the start of the next epoch (a new permutation).</summary>
    public void NextEpoch()
    {
        Epoch++;
        Position = 0;
    }

    /// <summary>The batches left in the current epoch, handed out (and the position advanced) as enumerated.</summary>
    public IEnumerable<int[]> RemainingBatches()
    {
        while (TryNextBatch(out var batch))
        {
            yield return batch;
        }
    }

    /// <summary>
    /// The permutation of epoch <paramref name="epoch"/>: a Fisher-Yates shuffle of 0..count-1 driven
    /// by SplitMix64 started at Mix(seed XOR Mix((epoch + 1)·γ)), γ = <see cref="SplitMix64.Gamma"/>.
    /// This definition is part of the checkpoint format: changing it changes resumed runs.
    /// </summary>
    public static int[] Permutation(int count, ulong seed, long epoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        var rng = new SplitMix64(StreamSeed(seed, epoch));
        var permutation = new int[count];
        for (var i = 0; i < count; i++)
        {
            permutation[i] = i;
        }
        rng.Shuffle(permutation.AsSpan());
        return permutation;
    }

    internal static ulong StreamSeed(ulong seed, long epoch) =>
        SplitMix64.Mix(seed ^ SplitMix64.Mix(unchecked(((ulong)epoch + 1) * SplitMix64.Gamma)));
}
