using System.Diagnostics;
using ImplicitRegOnnx.TestSupport;

namespace ImplicitRegOnnx.Runtime.Tests.Distributed;

/// <summary>
/// Starts <c>mpirun -np W dotnet ImplicitRegOnnx.MpiProbe.dll …</c> (the probe is built with this test project and
/// copied into its output; <see cref="MpiRun"/> starts it). mpirun is Open MPI's, which .ci/run installs; where it is
/// missing the tests skip, and fail instead when IMPLICITREG_REQUIRE_TESTDATA=1 (as CI sets), like the other tests of
/// installed prerequisites.
/// </summary>
public static class MpiJob
{
    /// <inheritdoc cref="MpiRun.HangGuard"/>
    public static readonly TimeSpan HangGuard = MpiRun.HangGuard;

    /// <summary>Skips the test when mpirun is missing, or fails it where CI requires it.</summary>
    public static void RequireMpirun()
    {
        if (MpiRun.MpirunPath is null)
        {
            Assert.False(BackendTestSuite.Required, MpiRun.MissingMessage);
            Skip.If(true, MpiRun.MissingMessage);
        }
    }

    /// <summary>The probe started under mpirun with W processes; the caller waits for it (or kills a rank first).</summary>
    public static Process Start(int processes, params string[] probeArguments)
    {
        RequireMpirun();
        var probe = Path.Combine(AppContext.BaseDirectory, "ImplicitRegOnnx.MpiProbe.dll");
        Assert.True(File.Exists(probe), $"{probe} is missing: the test project builds it");
        return MpiRun.Start([(processes, probe, probeArguments)]);
    }

    /// <summary>Runs the probe to its end (or kills it at <see cref="HangGuard"/> and fails).</summary>
    public static MpiJobResult Run(int processes, params string[] probeArguments)
    {
        var clock = Stopwatch.StartNew();
        using var process = Start(processes, probeArguments);
        return Wait(process, clock);
    }

    /// <summary>Waits for a started job; a job still running at <see cref="HangGuard"/> is killed and the test fails.</summary>
    public static MpiJobResult Wait(Process process, Stopwatch clock) =>
        MpiRun.Wait(process, clock, out var stderr)
            ?? throw new Xunit.Sdk.XunitException($"mpirun still ran after {HangGuard.TotalMinutes} minutes (hang); killed. stderr so far: {stderr}");
}
