using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using ImplicitRegOnnx;
using ImplicitRegOnnx.Runtime.Distributed;

// Started by mpirun from the tests (tests/ImplicitRegOnnx.Runtime.Tests/Distributed) and by hand for measurements:
//   probe collectives OUT_DIR COUNT   each rank writes its inputs and results under OUT_DIR for the test to check
//   probe fail OUT_DIR throw|thread|exit   rank 1 fails while rank 0 waits in an allreduce
//   probe block OUT_DIR               rank 0 waits in an allreduce, rank 1 sleeps; both write pid files (kill -9 one)
//   probe bench SIZES CALLS           rank 0 prints one JSON line per buffer size: allreduce times in microseconds
return DistributedRun.Execute(world => Probe.Run(world, args), Probe.Report);

internal static class Probe
{
    public static int Run(ICollectives world, string[] args) => args[0] switch
    {
        "collectives" => Collectives(world, args[1], int.Parse(args[2], CultureInfo.InvariantCulture)),
        "fail" => Fail(world, args[1], args[2]),
        "block" => Block(world, args[1]),
        "bench" => Bench(world, args[1], int.Parse(args[2], CultureInfo.InvariantCulture)),
        _ => throw ImplicitRegException.BadInput($"unknown probe mode '{args[0]}'"),
    };

    public static int Report(Exception e)
    {
        Console.Error.WriteLine($"probe: {e.Message}");
        return 3;
    }

    /// <summary>Random integers as floats (exactly summable: far below 2^24), doubles, longs and bytes, different on
    /// every rank; each rank writes its inputs and what the collectives returned.</summary>
    private static int Collectives(ICollectives world, string folder, int count)
    {
        var random = new Random(7919 * world.Rank + 1);
        var floats = new float[count];
        for (var i = 0; i < count; i++)
        {
            floats[i] = random.Next(-1000, 1001);
        }
        var doubles = new double[1000];
        for (var i = 0; i < doubles.Length; i++)
        {
            doubles[i] = random.Next(-1_000_000, 1_000_001) / 8.0;
        }
        long[] longs = [random.NextInt64(), random.NextInt64(-5, 5), long.MinValue + world.Rank];
        var bytes = new byte[count * 3 + 1];
        random.NextBytes(bytes);
        Write(folder, world.Rank, "floats.in", floats);
        Write(folder, world.Rank, "doubles.in", doubles);
        Write(folder, world.Rank, "longs.in", longs);
        Write(folder, world.Rank, "bytes.in", bytes);

        world.AllReduceSum(floats.AsSpan());
        world.AllReduceSum(doubles.AsSpan());
        world.AllReduceMax(longs.AsSpan());
        var root = world.Size - 1;
        world.Broadcast(bytes.AsSpan(), root);
        var agreeSame = world.AllAgree(42);
        var agreeRank = world.AllAgree(world.Rank);
        world.Barrier();

        Write(folder, world.Rank, "floats.out", floats);
        Write(folder, world.Rank, "doubles.out", doubles);
        Write(folder, world.Rank, "longs.out", longs);
        Write(folder, world.Rank, "bytes.out", bytes);
        var launch = MpiLaunch.FromEnvironment();
        var summary = new Dictionary<string, object?>
        {
            ["rank"] = world.Rank,
            ["size"] = world.Size,
            ["launch_rank"] = launch?.Rank,
            ["launch_size"] = launch?.Size,
            ["broadcast_root"] = root,
            ["agree_same"] = agreeSame,
            ["agree_rank"] = agreeRank,
            // Open MPI installs signal handlers; .NET turns SIGSEGV on a null access into NullReferenceException.
            ["null_reference_caught"] = NullReferenceIsCaught(),
        };
        File.WriteAllText(Path.Combine(folder, $"rank{world.Rank}.json"), JsonSerializer.Serialize(summary));
        return 0;
    }

    private static int Fail(ICollectives world, string folder, string how)
    {
        world.Barrier();
        File.WriteAllText(Path.Combine(folder, $"pid.{world.Rank}"), Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        if (world.Rank == 1)
        {
            switch (how)
            {
                case "throw":
                    throw ImplicitRegException.Failed("rank 1 fails on purpose");
                case "thread":
                    var thread = new Thread(() => throw new InvalidOperationException("rank 1 fails on a worker thread"));
                    thread.Start();
                    thread.Join();
                    break;
                case "exit":
                    Environment.Exit(4);
                    break;
                default:
                    throw ImplicitRegException.BadInput($"unknown failure '{how}'");
            }
        }
        var values = new float[1000];
        world.AllReduceSum(values.AsSpan());
        return 0;
    }

    private static int Block(ICollectives world, string folder)
    {
        world.Barrier();
        File.WriteAllText(Path.Combine(folder, $"pid.{world.Rank}"), Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        if (world.Rank == 0)
        {
            var values = new float[1000];
            world.AllReduceSum(values.AsSpan());
        }
        Thread.Sleep(Timeout.Infinite);
        return 0;
    }

    /// <summary>Per size: warm-up, then CALLS allreduces timed one by one on every rank (each after a barrier, so
    /// that a rank's wait for a late one is not counted); rank 0 prints the medians and the spread.</summary>
    private static int Bench(ICollectives world, string sizes, int calls)
    {
        foreach (var size in sizes.Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)))
        {
            var buffer = new float[size];
            buffer.AsSpan().Fill(1f);
            for (var i = 0; i < 10; i++)
            {
                world.AllReduceSum(buffer.AsSpan());
            }
            var micros = new double[calls];
            for (var i = 0; i < calls; i++)
            {
                world.Barrier();
                var start = Stopwatch.GetTimestamp();
                world.AllReduceSum(buffer.AsSpan());
                micros[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
            }
            Array.Sort(micros);
            Span<double> median = [micros[calls / 2]];
            world.AllReduceSum(median);
            if (world.Rank == 0)
            {
                Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
                {
                    ["floats"] = size,
                    ["calls"] = calls,
                    ["median_us"] = Math.Round(micros[calls / 2], 1),
                    ["p10_us"] = Math.Round(micros[calls / 10], 1),
                    ["p90_us"] = Math.Round(micros[calls * 9 / 10], 1),
                    ["median_us_mean_over_ranks"] = Math.Round(median[0] / world.Size, 1),
                    ["gbytes_per_s"] = Math.Round(size * 4.0 / (micros[calls / 2] * 1e3), 3),
                }));
            }
        }
        return 0;
    }

    private static bool NullReferenceIsCaught()
    {
        try
        {
            string? nothing = Environment.GetEnvironmentVariable("IMPLICITREG_PROBE_UNSET_VARIABLE");
            return nothing!.Length < 0;
        }
        catch (NullReferenceException)
        {
            return true;
        }
    }

    private static void Write<T>(string folder, int rank, string name, T[] values)
        where T : unmanaged =>
        File.WriteAllBytes(Path.Combine(folder, $"rank{rank}.{name}"), MemoryMarshal.AsBytes(values.AsSpan()).ToArray());
}
