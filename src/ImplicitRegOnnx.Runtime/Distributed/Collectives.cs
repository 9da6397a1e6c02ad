namespace ImplicitRegOnnx.Runtime.Distributed;

/// <summary>Opens the world this process belongs to.</summary>
public static class Collectives
{
    /// <summary>
    /// The world of this process: Open MPI's when an MPI launcher started it (<see cref="MpiLaunch.FromEnvironment"/>),
    /// else a <see cref="SingleProcessCollectives"/> without loading any MPI library. Open it once per process
    /// (MPI initializes once) and end it with <see cref="ICollectives.Finish"/> or <see cref="ICollectives.Abort"/>.
    /// </summary>
    /// <exception cref="ImplicitRegException">Launched by MPI, but libmpi.so.40 is missing or MPI fails to start.</exception>
    public static ICollectives Open() => Open(MpiLaunch.FromEnvironment());

    /// <summary>The world for <paramref name="launch"/>: single-process when null.</summary>
    public static ICollectives Open(MpiLaunch? launch) =>
        launch is null ? new SingleProcessCollectives() : MpiCollectives.Open(launch);
}
