using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using ImplicitRegOnnx.Runtime.Distributed;

namespace ImplicitRegOnnx.Runtime.Tests.Distributed;

/// <summary>
/// W ranks as threads of this process (tests only): the collectives meet at a barrier, and a sum adds the ranks'
/// values in rank order (r0 + r1 + …, in double for doubles, in float for floats), so a test can redo any result
/// exactly. <see cref="Run"/> starts one thread per rank and gives each its world.
/// </summary>
public sealed class ThreadWorld : ICollectives
{
    private readonly Shared _shared;

    private ThreadWorld(Shared shared, int rank)
    {
        _shared = shared;
        Rank = rank;
    }

    public int Rank { get; }

    public int Size => _shared.Size;

    /// <summary>Runs <paramref name="work"/> on W threads, one per rank, and returns their results in rank order.</summary>
    public static T[] Run<T>(int size, Func<ICollectives, T> work)
    {
        var shared = new Shared(size);
        var results = new T[size];
        var errors = new Exception?[size];
        var threads = Enumerable.Range(0, size).Select(rank => new Thread(() =>
        {
            try
            {
                results[rank] = work(new ThreadWorld(shared, rank));
            }
#pragma warning disable CA1031 // Reported below, after every rank has ended.
            catch (Exception e)
#pragma warning restore CA1031
            {
                errors[rank] = e;
                shared.Barrier.Dispose(); // the other ranks' next collective fails instead of waiting forever
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        var first = errors.FirstOrDefault(e => e is not null and not ObjectDisposedException)
            ?? errors.FirstOrDefault(e => e is not null);
        return first is null ? results : throw new AggregateException($"a rank failed: {first.Message}", first);
    }

    public void AllReduceSum(Span<float> values)
    {
        var all = Exchange(MemoryMarshal.AsBytes(values));
        for (var i = 0; i < values.Length; i++)
        {
            var sum = 0f;
            foreach (var bytes in all)
            {
                sum += MemoryMarshal.Cast<byte, float>(bytes)[i];
            }
            values[i] = sum;
        }
        _shared.Barrier.SignalAndWait();
    }

    public void AllReduceSum(Span<double> values)
    {
        var all = Exchange(MemoryMarshal.AsBytes(values));
        for (var i = 0; i < values.Length; i++)
        {
            var sum = 0d;
            foreach (var bytes in all)
            {
                sum += MemoryMarshal.Cast<byte, double>(bytes)[i];
            }
            values[i] = sum;
        }
        _shared.Barrier.SignalAndWait();
    }

    public void AllReduceMax(Span<long> values)
    {
        var all = Exchange(MemoryMarshal.AsBytes(values));
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = all.Max(bytes => MemoryMarshal.Cast<byte, long>(bytes)[i]);
        }
        _shared.Barrier.SignalAndWait();
    }

    public void Broadcast(Span<byte> data, int root)
    {
        var all = Exchange(data);
        all[root].CopyTo(data);
        _shared.Barrier.SignalAndWait();
    }

    public void Barrier() => _shared.Barrier.SignalAndWait();

    [DoesNotReturn]
    public void Abort(int exitCode) => throw new InvalidOperationException($"rank {Rank} aborted the job with code {exitCode}");

    public void Finish()
    {
    }

    /// <summary>Every rank's bytes (copies), once all ranks have given theirs.</summary>
    private byte[][] Exchange(Span<byte> mine)
    {
        _shared.Slots[Rank] = mine.ToArray();
        _shared.Barrier.SignalAndWait();
        var all = _shared.Slots.Select(s => s!).ToArray();
        var length = mine.Length;
        if (all.Any(s => s.Length != length))
        {
            throw new InvalidOperationException("ranks called a collective with buffers of different lengths");
        }
        return all;
    }

    private sealed class Shared(int size)
    {
        public int Size { get; } = size;

        public byte[]?[] Slots { get; } = new byte[]?[size];

        public System.Threading.Barrier Barrier { get; } = new(size);
    }
}
