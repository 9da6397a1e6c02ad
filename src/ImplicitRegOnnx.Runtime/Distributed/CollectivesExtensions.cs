using System.Runtime.InteropServices;

namespace ImplicitRegOnnx.Runtime.Distributed;

/// <summary>Operations built on <see cref="ICollectives"/>'s primitives.</summary>
public static class CollectivesExtensions
{
    /// <summary>Broadcasts unmanaged values (floats, ints) from <paramref name="root"/> as their bytes.</summary>
    public static void Broadcast<T>(this ICollectives world, Span<T> data, int root)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(world);
        world.Broadcast(MemoryMarshal.AsBytes(data), root);
    }

    /// <summary>
    /// Whether every process passed the same <paramref name="value"/> (a seed, a batch size, a fingerprint's hash);
    /// all processes get the same answer. One allreduce of (v, ~v) under MPI_MAX gives the maximum and, since
    /// ~v = −v − 1 reverses the order of all longs without overflow, the complement of the minimum; the maximum
    /// and the minimum are equal exactly when all values are.
    /// </summary>
    public static bool AllAgree(this ICollectives world, long value)
    {
        ArgumentNullException.ThrowIfNull(world);
        Span<long> maxAndComplementedMin = [value, ~value];
        world.AllReduceMax(maxAndComplementedMin);
        return maxAndComplementedMin[0] == value && ~maxAndComplementedMin[1] == value;
    }
}
