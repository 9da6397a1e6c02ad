using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using ImplicitRegOnnx.TestSupport;
using Xunit.Abstractions;

namespace ImplicitRegOnnx.Runtime.Tests.Distributed;

/// <summary>
/// Open MPI through the binding, in real jobs: <c>mpirun -np W</c> on the probe, which writes each rank's inputs and
/// what the collectives gave it; the sums are recomputed here from the inputs.
/// </summary>
public sealed class MpiCollectivesTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [SkippableTheory]
    [InlineData(2)]
    [InlineData(3)]
    public void CollectivesOfAnMpiJobGiveTheSumsMaximaAndBroadcastOfAllRanks(int processes)
    {
        // An odd length (not a multiple of the ranks or of Open MPI's segment sizes) over 100k floats: Open MPI
        // splits messages of this size into segments.
        const int count = 100_003;
        var result = MpiJob.Run(processes, "collectives", _temp.Path, count.ToString(CultureInfo.InvariantCulture));
        Assert.True(result.ExitCode == 0, result.ToString());

        var summaries = Enumerable.Range(0, processes)
            .Select(rank => JsonDocument.Parse(File.ReadAllText(_temp.File($"rank{rank}.json"))).RootElement)
            .ToArray();
        for (var rank = 0; rank < processes; rank++)
        {
            var summary = summaries[rank];
            Assert.Equal(rank, summary.GetProperty("rank").GetInt32());
            Assert.Equal(processes, summary.GetProperty("size").GetInt32());
            Assert.Equal(rank, summary.GetProperty("launch_rank").GetInt32());
            Assert.Equal(processes, summary.GetProperty("launch_size").GetInt32());
            Assert.True(summary.GetProperty("agree_same").GetBoolean());
            Assert.False(summary.GetProperty("agree_rank").GetBoolean());
            Assert.True(summary.GetProperty("null_reference_caught").GetBoolean());
        }

        // Integers as floats (|x| ≤ 1000) and eighths as doubles: every partial sum is exact in any order.
        var floats = Inputs<float>("floats", processes);
        Assert.Equal(count, floats[0].Length);
        var floatSum = Enumerable.Range(0, count).Select(i => floats.Sum(f => (double)f[i])).Select(s => (float)s).ToArray();
        var doubles = Inputs<double>("doubles", processes);
        var doubleSum = Enumerable.Range(0, doubles[0].Length).Select(i => doubles.Sum(d => d[i])).ToArray();
        var longs = Inputs<long>("longs", processes);
        var longMax = Enumerable.Range(0, longs[0].Length).Select(i => longs.Max(l => l[i])).ToArray();
        var root = summaries[0].GetProperty("broadcast_root").GetInt32();
        var rootBytes = Inputs<byte>("bytes", processes)[root];
        Assert.False(floats[0].AsSpan().SequenceEqual(floats[1]), "ranks must start from different data");

        for (var rank = 0; rank < processes; rank++)
        {
            Assert.Equal(floatSum, Read<float>($"rank{rank}.floats.out"));
            Assert.Equal(doubleSum, Read<double>($"rank{rank}.doubles.out"));
            Assert.Equal(longMax, Read<long>($"rank{rank}.longs.out"));
            Assert.Equal(rootBytes, Read<byte>($"rank{rank}.bytes.out"));
        }
    }

    [SkippableTheory]
    // DistributedRun reports the exception (the probe's report returns 3) and aborts the job with that code.
    [InlineData("throw", 3, "probe: rank 1 fails on purpose")]
    // The unhandled-exception hook aborts with 1.
    [InlineData("thread", 1, "rank 1 of 2: unhandled InvalidOperationException: rank 1 fails on a worker thread; aborting the MPI job")]
    // A rank that exits without finishing: mpirun ends the job and returns that rank's code.
    [InlineData("exit", 4, "exited with non-zero status")]
    public void ARankThatFailsEndsTheJobWithItsExitCode(string how, int exitCode, string message)
    {
        // Rank 0 waits in an allreduce that rank 1 never joins: only the abort (or mpirun noticing rank 1's exit)
        // ends it. MpiJob.Run fails the test if the job is still running at its hang guard.
        var result = MpiJob.Run(2, "fail", _temp.Path, how);
        output.WriteLine(result.ToString());
        Assert.True(result.ExitCode == exitCode, result.ToString());
        Assert.Contains(message, result.Stderr, StringComparison.Ordinal);
        Assert.True(File.Exists(_temp.File("pid.0")) && File.Exists(_temp.File("pid.1")), "both ranks must have started");
    }

    [SkippableFact]
    public void ARankKilledWhileTheOtherWaitsInAnAllreduceEndsTheJob()
    {
        var clock = Stopwatch.StartNew();
        using var job = MpiJob.Start(2, "block", _temp.Path);
        var pids = WaitForPids(job);
        // Rank 0 is in the allreduce by now or soon; either way only the job's end releases it.
        Thread.Sleep(500);
        using (var victim = Process.GetProcessById(pids[1]))
        {
            victim.Kill();
        }
        var killedAt = clock.Elapsed;
        var result = MpiJob.Wait(job, clock);
        output.WriteLine($"mpirun ended {(result.Elapsed - killedAt).TotalSeconds:F2} s after rank 1 was killed");
        output.WriteLine(result.ToString());
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("rank 1", result.Stderr, StringComparison.Ordinal);
        Assert.False(IsRunning(pids[0]), "rank 0 must have ended with the job");
    }

    private int[] WaitForPids(Process job)
    {
        var files = new[] { _temp.File("pid.0"), _temp.File("pid.1") };
        var waited = Stopwatch.StartNew();
        while (!files.All(File.Exists) || files.Any(f => new FileInfo(f).Length == 0))
        {
            if (job.HasExited || waited.Elapsed > MpiJob.HangGuard)
            {
                Assert.Fail($"the probe job did not start both ranks: {MpiJob.Wait(job, waited)}");
            }
            Thread.Sleep(50);
        }
        return [.. files.Select(f => int.Parse(File.ReadAllText(f), CultureInfo.InvariantCulture))];
    }

    /// <summary>Alive and not a zombie (a child that mpirun no longer reaps is reparented and may linger as one).</summary>
    private static bool IsRunning(int pid)
    {
        var status = $"/proc/{pid}/status";
        // "State:\tS (sleeping)"; Z is a zombie.
        return File.Exists(status) && File.ReadLines(status).FirstOrDefault(l => l.StartsWith("State:", StringComparison.Ordinal)) is { } state
            && state["State:".Length..].Trim()[0] != 'Z';
    }

    private T[][] Inputs<T>(string name, int processes)
        where T : unmanaged =>
        [.. Enumerable.Range(0, processes).Select(rank => Read<T>($"rank{rank}.{name}.in"))];

    private T[] Read<T>(string name)
        where T : unmanaged =>
        MemoryMarshal.Cast<byte, T>(File.ReadAllBytes(_temp.File(name))).ToArray();
}
