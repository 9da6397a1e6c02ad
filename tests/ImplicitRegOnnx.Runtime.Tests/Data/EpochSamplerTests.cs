using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Runtime.Data;

namespace ImplicitRegOnnx.Runtime.Tests.Data;

public class EpochSamplerTests
{
    [Fact]
    public void Permutation_is_pinned_across_versions()
    {
        // Computed by an independent Python implementation of the documented definition.
        Assert.Equal([6, 7, 9, 8, 2, 0, 1, 3, 5, 4], EpochSampler.Permutation(10, 42, 0));
        Assert.Equal([7, 6, 0, 1, 8, 3, 9, 2, 5, 4], EpochSampler.Permutation(10, 42, 1));
        Assert.Equal([0, 1, 7, 2, 5, 4, 9, 3, 8, 6], EpochSampler.Permutation(10, 0, 0));
    }

    [Fact]
    public void Each_epoch_is_a_fresh_permutation()
    {
        var sampler = new EpochSampler(100, 10, seed: 5);
        var orders = new List<int[]>();
        for (var epoch = 0; epoch < 4; epoch++)
        {
            var order = sampler.RemainingBatches().SelectMany(b => b).ToArray();
            Assert.Equal(Enumerable.Range(0, 100), order.Order());
            orders.Add(order);
            sampler.NextEpoch();
        }
        for (var i = 0; i < orders.Count; i++)
        {
            for (var j = i + 1; j < orders.Count; j++)
            {
                Assert.NotEqual(orders[i], orders[j]);
            }
        }
    }

    [Fact]
    public void Same_seed_and_epoch_give_the_same_order_and_other_seeds_do_not()
    {
        Assert.Equal(EpochSampler.Permutation(50, 9, 3), EpochSampler.Permutation(50, 9, 3));
        Assert.NotEqual(EpochSampler.Permutation(50, 9, 3), EpochSampler.Permutation(50, 10, 3));
        var resumedAtEpoch = new EpochSampler(50, 5, new SamplerState(9, 3, 0));
        Assert.Equal(EpochSampler.Permutation(50, 9, 3), resumedAtEpoch.RemainingBatches().SelectMany(b => b));
    }

    [Theory]
    [InlineData(10, 3, false, 3, 9)]
    [InlineData(10, 3, true, 4, 10)]
    [InlineData(9, 3, false, 3, 9)]
    [InlineData(9, 3, true, 3, 9)]
    [InlineData(5, 8, true, 1, 5)]
    public void Drop_last_and_keep_last_counts(int n, int batch, bool keepLast, int batches, int examples)
    {
        var sampler = new EpochSampler(n, batch, seed: 1, keepLast);
        Assert.Equal(batches, sampler.BatchesPerEpoch);
        var handed = sampler.RemainingBatches().ToList();
        Assert.Equal(batches, handed.Count);
        Assert.Equal(examples, handed.Sum(b => b.Length));
        Assert.All(handed.Take(handed.Count - 1), b => Assert.Equal(batch, b.Length));
        Assert.True(sampler.EpochFinished);
        Assert.False(sampler.TryNextBatch(out _));
        Assert.Equal(handed.SelectMany(b => b).Distinct().Count(), examples);
    }

    [Fact]
    public void Batch_larger_than_the_data_needs_keep_last()
    {
        var tooLarge = Assert.Throws<ImplicitRegException>(() => new EpochSampler(5, 8, seed: 1));
        Assert.Equal(ErrorKind.BadInput, tooLarge.Kind);
        Assert.Equal("TrainerOptions.BatchSize", tooLarge.Parameter);
        Assert.StartsWith("TrainerOptions.BatchSize 8 exceeds the 5 examples", tooLarge.Message, StringComparison.Ordinal);
        Assert.Equal(ErrorKind.BadInput, Assert.Throws<ImplicitRegException>(() => new EpochSampler(0, 1, seed: 1, keepLast: true)).Kind);
    }

    [Fact]
    public void Resuming_mid_epoch_gives_the_same_remaining_batches()
    {
        var uninterrupted = new EpochSampler(23, 4, seed: 77, keepLast: true);
        var all = new List<int[]>();
        for (var epoch = 0; epoch < 3; epoch++)
        {
            all.AddRange(uninterrupted.RemainingBatches());
            uninterrupted.NextEpoch();
        }

        var first = new EpochSampler(23, 4, seed: 77, keepLast: true);
        var resumedRun = new List<int[]>();
        resumedRun.AddRange(first.RemainingBatches());
        first.NextEpoch();
        first.TryNextBatch(out var b1);
        first.TryNextBatch(out var b2);
        resumedRun.Add(b1);
        resumedRun.Add(b2);
        var state = first.State;
        Assert.Equal(new SamplerState(77, 1, 8), state);

        var resumed = new EpochSampler(23, 4, state, keepLast: true);
        resumedRun.AddRange(resumed.RemainingBatches());
        resumed.NextEpoch();
        resumedRun.AddRange(resumed.RemainingBatches());

        Assert.Equal(all, resumedRun);
    }

    [Fact]
    public void Resuming_at_an_epoch_end_continues_with_the_next_epoch()
    {
        var sampler = new EpochSampler(10, 3, seed: 4);
        _ = sampler.RemainingBatches().ToList();
        var resumed = new EpochSampler(10, 3, sampler.State);
        Assert.True(resumed.EpochFinished);
        resumed.NextEpoch();
        Assert.Equal(EpochSampler.Permutation(10, 4, 1).Take(9), resumed.RemainingBatches().SelectMany(b => b));
    }

    [Fact]
    public void A_state_that_does_not_fit_is_refused()
    {
        Assert.Equal(ErrorKind.BadInput, Assert.Throws<ImplicitRegException>(() => new EpochSampler(10, 3, new SamplerState(1, 0, 10))).Kind);
        Assert.Equal(ErrorKind.BadInput, Assert.Throws<ImplicitRegException>(() => new EpochSampler(10, 3, new SamplerState(1, -1, 0))).Kind);
    }
}
