using System.Diagnostics;
using System.Globalization;

namespace ImplicitRegOnnx.TestSupport;

/// <summary>How an mpirun job ended.</summary>
public sealed record MpiJobResult(int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed)
{
    public override string ToString() => $"mpirun exit code {ExitCode} after {Elapsed.TotalSeconds:F1} s\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
}

/// <summary>
/// Starting .NET programs under Open MPI's <c>mpirun</c> for tests (the probe of Runtime.Tests, the CLI in
/// Cli.Tests): finding mpirun, the options a shared CI machine needs, and waiting with a guard against a hang.
/// </summary>
public static class MpiRun
{
    /// <summary>Only a guard against a hang, generous for a loaded machine: the jobs end in seconds.</summary>
    public static readonly TimeSpan HangGuard = TimeSpan.FromMinutes(3);

    private static readonly Lazy<string?> Mpirun = new(() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(folder => Path.Combine(folder, "mpirun"))
            .FirstOrDefault(File.Exists));

    /// <summary>mpirun's path, or null when Open MPI is not installed.</summary>
    public static string? MpirunPath => Mpirun.Value;

    /// <summary>The message of a test that needs mpirun where it is missing.</summary>
    public const string MissingMessage = "mpirun is not on PATH (apt-get install openmpi-bin)";

    /// <summary>
    /// <c>mpirun -np W dotnet DLL ARGS</c>, or several such parts joined by ':' (MPMD: one command line per group of
    /// ranks, ranks numbered in order). Root in CI containers, more processes than cores on a small machine, no
    /// pinning (others share the cores), TERM=dumb so that .NET writes no terminal codes into the ranks' output.
    /// </summary>
    public static Process Start(IReadOnlyList<(int Processes, string Dll, IReadOnlyList<string> Arguments)> parts, string? workingDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(parts);
        var mpirun = MpirunPath ?? throw new InvalidOperationException(MissingMessage);
        var start = new ProcessStartInfo(mpirun)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var argument in new[] { "--oversubscribe", "--bind-to", "none", "-x", "TERM=dumb" })
        {
            start.ArgumentList.Add(argument);
        }
        for (var i = 0; i < parts.Count; i++)
        {
            if (i > 0)
            {
                start.ArgumentList.Add(":");
            }
            start.ArgumentList.Add("-np");
            start.ArgumentList.Add(parts[i].Processes.ToString(CultureInfo.InvariantCulture));
            start.ArgumentList.Add(DotnetHost());
            start.ArgumentList.Add(parts[i].Dll);
            foreach (var argument in parts[i].Arguments)
            {
                start.ArgumentList.Add(argument);
            }
        }
        start.Environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1";
        start.Environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1";
        start.Environment["TERM"] = "dumb";
        return Process.Start(start)!;
    }

    /// <summary>Waits for a started job; returns null (after killing it) when it still runs at <see cref="HangGuard"/>.</summary>
    public static MpiJobResult? Wait(Process process, Stopwatch clock, out string stderrSoFar)
    {
        ArgumentNullException.ThrowIfNull(process);
        ArgumentNullException.ThrowIfNull(clock);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(HangGuard))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            stderrSoFar = stderr.Result;
            return null;
        }
        process.WaitForExit();
        stderrSoFar = stderr.Result;
        return new MpiJobResult(process.ExitCode, stdout.Result, stderr.Result, clock.Elapsed);
    }

    /// <summary>The dotnet host that runs this test (the programs run on the same runtime).</summary>
    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host
        : Environment.ProcessPath is { } path && Path.GetFileNameWithoutExtension(path) == "dotnet" ? path
        : "dotnet";
}
