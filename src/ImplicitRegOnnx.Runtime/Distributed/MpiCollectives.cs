using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace ImplicitRegOnnx.Runtime.Distributed;

/// <summary>
/// <see cref="ICollectives"/> over Open MPI's MPI_COMM_WORLD (<see cref="OpenMpiNative"/>). MPI is initialized at
/// MPI_THREAD_SERIALIZED and every call holds one lock, so any thread may call; MPI_COMM_WORLD's error handler is set
/// to MPI_ERRORS_RETURN so that a failing call becomes an <see cref="ImplicitRegException"/> naming the operation and
/// the rank instead of Open MPI's own abort. An exception that no code catches on any thread aborts the job
/// (<see cref="AppDomain.UnhandledException"/>), so the other ranks do not wait for this one.
/// </summary>
internal sealed class MpiCollectives : ICollectives
{
    private static readonly Lock OpenGate = new();
    private static MpiCollectives? _opened;

    private readonly Lock _gate = new();
    private readonly OpenMpiHandles _handles;
    private readonly bool _ownsInitialization;
    private bool _finished;

    private MpiCollectives(OpenMpiHandles handles, bool ownsInitialization, int rank, int size)
    {
        _handles = handles;
        _ownsInitialization = ownsInitialization;
        Rank = rank;
        Size = size;
    }

    public int Rank { get; }

    public int Size { get; }

    /// <summary>Loads Open MPI, initializes it (unless the host application already did) and checks the world
    /// against what the launcher said. A process opens it at most once.</summary>
    public static MpiCollectives Open(MpiLaunch launch)
    {
        lock (OpenGate)
        {
            if (_opened is not null)
            {
                throw ImplicitRegException.Failed(_opened._finished
                    ? "the MPI world of this process was finished and cannot open again (MPI starts once per process)"
                    : "the MPI world of this process is already open (Collectives.Open is called once per process)");
            }
            var handles = OpenMpiHandles.Load(OpenMpiNative.Library, launch.Description);
            Check(OpenMpiNative.Finalized(out var finalized), "MPI_Finalized", "");
            if (finalized != 0)
            {
                throw ImplicitRegException.Failed("MPI was already finalized in this process and cannot start again");
            }
            Check(OpenMpiNative.Initialized(out var initialized), "MPI_Initialized", "");
            var owns = initialized == 0;
            if (owns)
            {
                // argc and argv may be null (MPI 3.1 §8.7): Open MPI takes its settings from the launcher's environment.
                Check(OpenMpiNative.InitThread(0, 0, OpenMpiNative.ThreadSerialized, out var provided), "MPI_Init_thread", "");
                if (provided < OpenMpiNative.ThreadSerialized)
                {
                    throw ImplicitRegException.Unsupported(
                        $"Open MPI provides thread level {provided}; the toolkit needs MPI_THREAD_SERIALIZED (2)");
                }
            }
            Check(OpenMpiNative.CommSetErrhandler(handles.CommWorld, handles.ErrorsReturn), "MPI_Comm_set_errhandler", "");
            Check(OpenMpiNative.CommRank(handles.CommWorld, out var rank), "MPI_Comm_rank", "");
            Check(OpenMpiNative.CommSize(handles.CommWorld, out var size), "MPI_Comm_size", "");
            if ((launch.Size is { } w && w != size) || (launch.Rank is { } r && r != rank))
            {
                throw ImplicitRegException.Failed(
                    $"MPI_COMM_WORLD is rank {rank} of {size}, but {launch.Description} says rank {launch.Rank?.ToString(CultureInfo.InvariantCulture) ?? "?"} of " +
                    $"{launch.Size?.ToString(CultureInfo.InvariantCulture) ?? "?"}: is this libmpi.so.40 the one of the mpirun that started the job?");
            }
            _opened = new MpiCollectives(handles, owns, rank, size);
            AppDomain.CurrentDomain.UnhandledException += _opened.AbortOnUnhandledException;
            return _opened;
        }
    }

    public void AllReduceSum(Span<float> values) => AllReduce(values, _handles.Float, _handles.Sum, "MPI_Allreduce(MPI_SUM, MPI_FLOAT)");

    public void AllReduceSum(Span<double> values) => AllReduce(values, _handles.Double, _handles.Sum, "MPI_Allreduce(MPI_SUM, MPI_DOUBLE)");

    public void AllReduceMax(Span<long> values) => AllReduce(values, _handles.Int64, _handles.Max, "MPI_Allreduce(MPI_MAX, MPI_INT64_T)");

    public unsafe void Broadcast(Span<byte> data, int root)
    {
        CollectiveArguments.CheckRoot(root, Size);
        lock (_gate)
        {
            CheckOpen();
            // MPI counts are C ints; longer buffers go in pieces, the same on every rank.
            for (var start = 0; start < data.Length; start += int.MaxValue)
            {
                var piece = data[start..Math.Min(data.Length, start + int.MaxValue)];
                fixed (byte* pointer = piece)
                {
                    Check(OpenMpiNative.Bcast(pointer, piece.Length, _handles.Byte, root, _handles.CommWorld), "MPI_Bcast", Where);
                }
            }
        }
    }

    public void Barrier()
    {
        lock (_gate)
        {
            CheckOpen();
            Check(OpenMpiNative.Barrier(_handles.CommWorld), "MPI_Barrier", Where);
        }
    }

    [DoesNotReturn]
    public void Abort(int exitCode)
    {
        // No lock: another thread may be blocked inside a collective, which is what an abort must end.
        // MPI_Abort does not return when it works; if it fails, ending this process still makes mpirun end the job.
        var code = OpenMpiNative.Abort(_handles.CommWorld, exitCode);
        Console.Error.WriteLine($"implicitreg: MPI_Abort failed{Where}: {ErrorText(code)} (MPI error {code}); exiting");
        Environment.Exit(exitCode);
        throw new System.Diagnostics.UnreachableException();
    }

    public void Finish()
    {
        lock (_gate)
        {
            if (_finished)
            {
                return;
            }
            _finished = true;
            AppDomain.CurrentDomain.UnhandledException -= AbortOnUnhandledException;
            if (_ownsInitialization)
            {
                Check(OpenMpiNative.Finalize(), "MPI_Finalize", Where);
            }
        }
    }

    private string Where => string.Create(CultureInfo.InvariantCulture, $" on rank {Rank} of {Size}");

    private unsafe void AllReduce<T>(Span<T> values, nint datatype, nint op, string operation)
        where T : unmanaged
    {
        lock (_gate)
        {
            CheckOpen();
            for (var start = 0; start < values.Length; start += int.MaxValue)
            {
                var piece = values[start..Math.Min(values.Length, start + int.MaxValue)];
                fixed (T* pointer = piece)
                {
                    Check(OpenMpiNative.Allreduce(OpenMpiNative.InPlace, pointer, piece.Length, datatype, op, _handles.CommWorld), operation, Where);
                }
            }
        }
    }

    private void CheckOpen()
    {
        if (_finished)
        {
            throw ImplicitRegException.Failed($"the MPI world was finished{Where}; no collective can follow ICollectives.Finish");
        }
    }

    private void AbortOnUnhandledException(object sender, UnhandledExceptionEventArgs e)
    {
        var what = e.ExceptionObject is Exception exception ? $"{exception.GetType().Name}: {exception.Message}" : "unknown error";
        Console.Error.WriteLine($"implicitreg: rank {Rank} of {Size}: unhandled {what}; aborting the MPI job");
        Console.Error.Flush();
        Abort(1);
    }

    private static void Check(int code, string operation, string where)
    {
        if (code != OpenMpiNative.Success)
        {
            throw ImplicitRegException.Failed($"{operation} failed{where}: {ErrorText(code)} (MPI error {code})");
        }
    }

    private static unsafe string ErrorText(int code)
    {
        var text = stackalloc byte[OpenMpiNative.MaxErrorString];
        return OpenMpiNative.ErrorString(code, text, out var length) == OpenMpiNative.Success && length > 0
            ? Encoding.UTF8.GetString(text, Math.Min(length, OpenMpiNative.MaxErrorString))
            : "no description";
    }
}
