using System.Runtime.InteropServices;

namespace ImplicitRegOnnx.Runtime.Distributed;

/// <summary>
/// The few Open MPI entry points the toolkit calls, bound by P/Invoke to <c>libmpi.so.40</c> (Open MPI 4 and 5).
/// MPI.NET on NuGet binds only Windows' MS-MPI, hence this binding. Signatures follow the MPI standard's C
/// bindings (MPI 3.1 and 4.0); every function returns an error code, <see cref="Success"/> when it worked.
/// In Open MPI's ABI the handle types (MPI_Comm, MPI_Datatype, MPI_Op, MPI_Errhandler) are pointers to
/// predefined objects that the library exports by name (mpi.h: <c>#define MPI_COMM_WORLD
/// OMPI_PREDEFINED_GLOBAL(MPI_Comm, ompi_mpi_comm_world)</c>, the address of <c>ompi_mpi_comm_world</c>), so
/// <see cref="OpenMpiHandles"/> resolves them with <see cref="NativeLibrary.GetExport"/>; they are
/// <see cref="nint"/> here.
/// </summary>
internal static partial class OpenMpiNative
{
    /// <summary>The shared library's soname (Debian package libopenmpi3, pulled in by openmpi-bin).</summary>
    public const string Library = "libmpi.so.40";

    /// <summary>MPI_SUCCESS.</summary>
    public const int Success = 0;

    /// <summary>MPI_MAX_ERROR_STRING in Open MPI (OPAL_MAX_ERROR_STRING).</summary>
    public const int MaxErrorString = 256;

    /// <summary>MPI_IN_PLACE: <c>((void *) 1)</c> in Open MPI's mpi.h.</summary>
    public static readonly nint InPlace = 1;

    /// <summary>MPI_THREAD_SERIALIZED: any thread may call, one at a time (the enum's third value, 2).</summary>
    public const int ThreadSerialized = 2;

    [LibraryImport(Library, EntryPoint = "MPI_Init_thread")]
    public static partial int InitThread(nint argc, nint argv, int required, out int provided);

    [LibraryImport(Library, EntryPoint = "MPI_Initialized")]
    public static partial int Initialized(out int flag);

    [LibraryImport(Library, EntryPoint = "MPI_Finalized")]
    public static partial int Finalized(out int flag);

    [LibraryImport(Library, EntryPoint = "MPI_Finalize")]
    public static partial int Finalize();

    [LibraryImport(Library, EntryPoint = "MPI_Comm_rank")]
    public static partial int CommRank(nint comm, out int rank);

    [LibraryImport(Library, EntryPoint = "MPI_Comm_size")]
    public static partial int CommSize(nint comm, out int size);

    [LibraryImport(Library, EntryPoint = "MPI_Comm_set_errhandler")]
    public static partial int CommSetErrhandler(nint comm, nint errhandler);

    [LibraryImport(Library, EntryPoint = "MPI_Allreduce")]
    public static unsafe partial int Allreduce(nint sendBuffer, void* receiveBuffer, int count, nint datatype, nint op, nint comm);

    [LibraryImport(Library, EntryPoint = "MPI_Bcast")]
    public static unsafe partial int Bcast(void* buffer, int count, nint datatype, int root, nint comm);

    [LibraryImport(Library, EntryPoint = "MPI_Barrier")]
    public static partial int Barrier(nint comm);

    [LibraryImport(Library, EntryPoint = "MPI_Abort")]
    public static partial int Abort(nint comm, int errorCode);

    [LibraryImport(Library, EntryPoint = "MPI_Error_string")]
    public static unsafe partial int ErrorString(int errorCode, byte* text, out int length);
}

/// <summary>Open MPI's predefined handles: the addresses of its exported objects (see <see cref="OpenMpiNative"/>).</summary>
internal sealed class OpenMpiHandles
{
    private OpenMpiHandles(nint library)
    {
        CommWorld = Export(library, "ompi_mpi_comm_world");
        Float = Export(library, "ompi_mpi_float");
        Double = Export(library, "ompi_mpi_double");
        Int64 = Export(library, "ompi_mpi_int64_t");
        Byte = Export(library, "ompi_mpi_byte");
        Sum = Export(library, "ompi_mpi_op_sum");
        Max = Export(library, "ompi_mpi_op_max");
        ErrorsReturn = Export(library, "ompi_mpi_errors_return");
    }

    /// <summary>MPI_COMM_WORLD.</summary>
    public nint CommWorld { get; }

    /// <summary>MPI_FLOAT.</summary>
    public nint Float { get; }

    /// <summary>MPI_DOUBLE.</summary>
    public nint Double { get; }

    /// <summary>MPI_INT64_T.</summary>
    public nint Int64 { get; }

    /// <summary>MPI_BYTE.</summary>
    public nint Byte { get; }

    /// <summary>MPI_SUM.</summary>
    public nint Sum { get; }

    /// <summary>MPI_MAX.</summary>
    public nint Max { get; }

    /// <summary>MPI_ERRORS_RETURN: errors come back as codes instead of aborting the job.</summary>
    public nint ErrorsReturn { get; }

    /// <summary>
    /// Loads <paramref name="libraryName"/> (<see cref="OpenMpiNative.Library"/>; the P/Invokes then bind to the same
    /// loaded copy; tests pass another name) and resolves the
    /// handles. A library that cannot be loaded, or that lacks Open MPI's symbols (another MPI's libmpi.so.40), is a
    /// one-line <see cref="ImplicitRegException"/> naming the library and the package.
    /// </summary>
    public static OpenMpiHandles Load(string libraryName, string launchDescription)
    {
        if (!NativeLibrary.TryLoad(libraryName, out var library))
        {
            throw ImplicitRegException.Unsupported(
                $"{launchDescription}, but {libraryName} (Open MPI) cannot be loaded: install Open MPI " +
                "(Debian/Ubuntu: apt-get install openmpi-bin) or add its lib folder to LD_LIBRARY_PATH");
        }
        try
        {
            return new OpenMpiHandles(library);
        }
        catch (EntryPointNotFoundException e)
        {
            throw ImplicitRegException.Unsupported(
                $"{libraryName} was loaded but is not Open MPI's ({e.Message}); the toolkit binds Open MPI 4 or 5", e);
        }
    }

    private static nint Export(nint library, string name) => NativeLibrary.GetExport(library, name);
}
