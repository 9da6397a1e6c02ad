using System.Diagnostics.CodeAnalysis;

namespace ImplicitRegOnnx.Runtime.Distributed;

/// <summary>
/// The collective operations data-parallel training needs, over all processes of one job (the "world"). Every
/// process calls the same operations in the same order with buffers of the same length; an operation returns once
/// its result is in this process's buffer. <see cref="Collectives.Open()"/> gives the implementation for how this
/// process was started: <see cref="SingleProcessCollectives"/> without an MPI launcher, Open MPI under
/// <c>mpirun</c>. An implementation over NCCL (GPU buffers) can sit beside them.
/// </summary>
/// <remarks>
/// <para>Ending: on success every process calls <see cref="Finish"/> once after its last collective. On a failure
/// after the world is open, call <see cref="Abort"/> (it ends every process of the job), never <see cref="Finish"/>:
/// finishing MPI waits for the other processes, which may be waiting in a collective for this one, so the job
/// would hang. <see cref="DistributedRun.Execute(Func{ICollectives, int}, Func{Exception, int})"/> does both; use it, or follow the same rule.</para>
/// <para>Errors are <see cref="ImplicitRegException"/>s; a collective that fails leaves the world unusable
/// (abort).</para>
/// </remarks>
public interface ICollectives
{
    /// <summary>This process's index in the world, 0 ≤ Rank &lt; <see cref="Size"/>; rank 0 is the one that writes.</summary>
    int Rank { get; }

    /// <summary>The number of processes W in the world (1 without an MPI launcher).</summary>
    int Size { get; }

    /// <summary>Replaces every element by its sum over all processes (in place). The order of the float additions
    /// is the library's, so results agree across processes but may differ in the last bits from a serial sum.</summary>
    void AllReduceSum(Span<float> values);

    /// <inheritdoc cref="AllReduceSum(Span{float})"/>
    void AllReduceSum(Span<double> values);

    /// <summary>Replaces every element by its maximum over all processes (in place); for agreement checks.</summary>
    void AllReduceMax(Span<long> values);

    /// <summary>Copies <paramref name="root"/>'s bytes into every other process's <paramref name="data"/>.</summary>
    /// <param name="data">The bytes: read on the root, overwritten elsewhere.</param>
    /// <param name="root">The rank whose data is sent, 0 ≤ root &lt; <see cref="Size"/>.</param>
    void Broadcast(Span<byte> data, int root);

    /// <summary>Returns once every process has called it.</summary>
    void Barrier();

    /// <summary>Ends every process of the job with <paramref name="exitCode"/> (MPI_Abort); for failures.</summary>
    [DoesNotReturn]
    void Abort(int exitCode);

    /// <summary>Ends this process's part of the world after its last collective (MPI_Finalize); only on success.</summary>
    void Finish();
}
