using System.Diagnostics.CodeAnalysis;

namespace ImplicitRegOnnx.Runtime.Distributed;

/// <summary>
/// The world of one process (W = 1): a sum or maximum over one process is its own value, a broadcast from rank 0
/// leaves the data as it is. Loads no MPI library; what training uses when the process was not started by an MPI
/// launcher.
/// </summary>
public sealed class SingleProcessCollectives : ICollectives
{
    /// <inheritdoc />
    public int Rank => 0;

    /// <inheritdoc />
    public int Size => 1;

    /// <inheritdoc />
    public void AllReduceSum(Span<float> values)
    {
    }

    /// <inheritdoc />
    public void AllReduceSum(Span<double> values)
    {
    }

    /// <inheritdoc />
    public void AllReduceMax(Span<long> values)
    {
    }

    /// <inheritdoc />
    public void Broadcast(Span<byte> data, int root) => CollectiveArguments.CheckRoot(root, Size);

    /// <inheritdoc />
    public void Barrier()
    {
    }

    /// <summary>Ends this process (the whole job) with <paramref name="exitCode"/>.</summary>
    [DoesNotReturn]
    public void Abort(int exitCode)
    {
        Environment.Exit(exitCode);
        throw new System.Diagnostics.UnreachableException();
    }

    /// <inheritdoc />
    public void Finish()
    {
    }
}

/// <summary>Checks shared by the implementations of <see cref="ICollectives"/>.</summary>
internal static class CollectiveArguments
{
    public static void CheckRoot(int root, int size)
    {
        if (root < 0 || root >= size)
        {
            throw ImplicitRegException.BadParameter("root", $"must be a rank in [0, {size}), got {root}");
        }
    }
}
