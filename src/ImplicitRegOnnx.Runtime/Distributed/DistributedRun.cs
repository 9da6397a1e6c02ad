namespace ImplicitRegOnnx.Runtime.Distributed;

/// <summary>
/// Runs a program's work in the world of this process with the ending rule of <see cref="ICollectives"/>: finish on
/// success; on a failure, report it and abort the whole job so that no rank waits forever for one that failed.
/// Programs started by <c>mpirun</c> (the CLI, a C# trainer) call this around their work.
/// </summary>
public static class DistributedRun
{
    /// <summary>
    /// Opens the world (<see cref="Collectives.Open()"/>), runs <paramref name="work"/> and finishes the world.
    /// When opening or the work throws, <paramref name="onFailure"/> reports the exception (this rank's own message,
    /// e.g. to stderr) and gives the exit code; with more than one process the job is then aborted with that code
    /// (a code of 0 becomes 1), so this method does not return.
    /// </summary>
    /// <param name="work">The program's work; returns the exit code. A non-zero code must be one that every rank
    /// returns (each rank finishes, which waits for the others); a failure of one rank throws.</param>
    /// <param name="onFailure">Reports an exception and returns the exit code.</param>
    /// <returns>The exit code of the work, or of the failure with a single process.</returns>
    public static int Execute(Func<ICollectives, int> work, Func<Exception, int> onFailure) =>
        Execute(Collectives.Open, work, onFailure);

    /// <summary><see cref="Execute(Func{ICollectives, int}, Func{Exception, int})"/> with the world's opener given (tests).</summary>
    internal static int Execute(Func<ICollectives> open, Func<ICollectives, int> work, Func<Exception, int> onFailure)
    {
        ArgumentNullException.ThrowIfNull(open);
        ArgumentNullException.ThrowIfNull(work);
        ArgumentNullException.ThrowIfNull(onFailure);
        ICollectives world;
        try
        {
            world = open();
        }
        catch (Exception e) when (e is ImplicitRegException or DllNotFoundException or EntryPointNotFoundException)
        {
            // No world to abort: this process exits with the code, and mpirun ends the job when a rank exits
            // non-zero without finishing MPI.
            return onFailure(e);
        }
        int code;
        try
        {
            code = work(world);
        }
#pragma warning disable CA1031 // Any failure of one rank must end the job, whatever its type.
        catch (Exception e)
#pragma warning restore CA1031
        {
            var failureCode = onFailure(e);
            if (world.Size > 1)
            {
                world.Abort(failureCode == 0 ? 1 : failureCode);
            }
            return failureCode;
        }
        world.Finish();
        return code;
    }
}
