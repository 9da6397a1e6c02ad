using System.Diagnostics;
using ImplicitRegOnnx.TestSupport;

namespace ImplicitRegOnnx.Runtime.Tests.Distributed;

/// <summary>How an mpirun job of the probe (tests/ImplicitRegOnnx.MpiProbe) ended.</summary>
public sealed record MpiJobResult(int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed)
{
    public override string ToString() => $"mpirun exit code {ExitCode} after {Elapsed.TotalSeconds:F1} s\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
}

/// <summary>
/// Starts <c>mpirun -np W dotnet ImplicitRegOnnx.MpiProbe.dll …</c> (the probe is built with this test project and
/// copied into its output). mpirun is Open MPI's, which .ci/run installs; where it is missing the tests skip, and
/// fail instead when IMPLICITREG_REQUIRE_TESTDATA=1 (as CI sets), like the other tests of installed prerequisites.
/// </summary>
public static class MpiJob
{
    /// <summary>Only a guard against a hang, generous for a loaded machine: the jobs end in seconds.</summary>
    public static readonly TimeSpan HangGuard = TimeSpan.FromMinutes(3);

    private static readonly Lazy<string?> MpirunPath = new(FindMpirun);

    /// <summary>Skips the test when mpirun is missing, or fails it where CI requires it.</summary>
    public static void RequireMpirun()
    {
        if (MpirunPath.Value is null)
        {
            const string message = "mpirun is not on PATH (apt-get install openmpi-bin)";
            Assert.False(BackendTestSuite.Required, message);
            Skip.If(true, message);
        }
    }

    /// <summary>The probe started under mpirun with W processes; the caller waits for it (or kills a rank first).</summary>
    public static Process Start(int processes, params string[] probeArguments)
    {
        RequireMpirun();
        var probe = Path.Combine(AppContext.BaseDirectory, "ImplicitRegOnnx.MpiProbe.dll");
        Assert.True(File.Exists(probe), $"{probe} is missing: the test project builds it");
        var start = new ProcessStartInfo(MpirunPath.Value!)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // Root in CI containers; more processes than cores on a small machine; no pinning, others share the cores.
        foreach (var argument in new[] { "-np", processes.ToString(System.Globalization.CultureInfo.InvariantCulture), "--oversubscribe", "--bind-to", "none", DotnetHost(), probe })
        {
            start.ArgumentList.Add(argument);
        }
        foreach (var argument in probeArguments)
        {
            start.ArgumentList.Add(argument);
        }
        start.Environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1";
        start.Environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1";
        return Process.Start(start)!;
    }

    /// <summary>Runs the probe to its end (or kills it at <see cref="HangGuard"/> and fails).</summary>
    public static MpiJobResult Run(int processes, params string[] probeArguments)
    {
        var clock = Stopwatch.StartNew();
        using var process = Start(processes, probeArguments);
        return Wait(process, clock);
    }

    /// <summary>Waits for a started job; a job still running at <see cref="HangGuard"/> is killed and the test fails.</summary>
    public static MpiJobResult Wait(Process process, Stopwatch clock)
    {
        ArgumentNullException.ThrowIfNull(process);
        ArgumentNullException.ThrowIfNull(clock);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(HangGuard))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            Assert.Fail($"mpirun still ran after {HangGuard.TotalMinutes} minutes (hang); killed. stderr so far: {stderr.Result}");
        }
        process.WaitForExit();
        return new MpiJobResult(process.ExitCode, stdout.Result, stderr.Result, clock.Elapsed);
    }

    /// <summary>The dotnet host that runs this test (the probe runs on the same runtime).</summary>
    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host
        : Environment.ProcessPath is { } path && Path.GetFileNameWithoutExtension(path) == "dotnet" ? path
        : "dotnet";

    private static string? FindMpirun() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(folder => Path.Combine(folder, "mpirun"))
            .FirstOrDefault(File.Exists);
}
