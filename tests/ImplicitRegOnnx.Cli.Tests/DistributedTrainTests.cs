using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using ImplicitRegOnnx.Cli.Commands;
using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Onnx.Numpy;
using ImplicitRegOnnx.Runtime;
using ImplicitRegOnnx.Runtime.Data;
using ImplicitRegOnnx.TestSupport;
using ImplicitRegOnnx.Training;
using Xunit.Abstractions;
using ImplicitRegOnnx.Runtime.Training;

namespace ImplicitRegOnnx.Cli.Tests;

/// <summary>
/// <c>mpirun -np W implicitreg train …</c> on loopback: data-parallel training matches one process with W times the
/// microbatches to the float tolerance of its summation order; a rank that dies or fails ends the job; a run resumes
/// from rank 0's checkpoint, also with another number of ranks. Where mpirun is missing these tests skip, and fail
/// when IMPLICITREG_REQUIRE_TESTDATA=1 (CI).
/// </summary>
public sealed class DistributedTrainTests(ITestOutputHelper output) : IDisposable
{
    /// <summary>Unit roundoff of float32 (round to nearest): u = 2⁻²⁴.</summary>
    private const double U = 1.0 / (1 << 24);

    private const float LearningRate = 0.05f;
    private const int Batch = 32;
    private const int Steps = 6;

    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private static string Cli => Path.Combine(AppContext.BaseDirectory, "implicitreg.dll");

    private static void RequireMpirun()
    {
        if (MpiRun.MpirunPath is null)
        {
            Assert.False(BackendTestSuite.Required, MpiRun.MissingMessage);
            Skip.If(true, MpiRun.MissingMessage);
        }
    }

    private MpiJobResult Mpirun(params (int Processes, string[] Arguments)[] parts)
    {
        RequireMpirun();
        var clock = Stopwatch.StartNew();
        using var process = MpiRun.Start([.. parts.Select(p => (p.Processes, Cli, (IReadOnlyList<string>)p.Arguments))], _temp.Path);
        return Finish(process, clock);
    }

    private MpiJobResult Finish(Process process, Stopwatch clock)
    {
        var result = MpiRun.Wait(process, clock, out var stderr);
        Assert.True(result is not null, $"mpirun still ran after {MpiRun.HangGuard.TotalMinutes} minutes (hang); killed. stderr so far: {stderr}");
        output.WriteLine(result.ToString());
        return result;
    }

    /// <summary>The embedded default (models/mlp_tanh.onnx on the digits), plain SGD so that a step is θ − ε·g.</summary>
    private static string[] Train(int microbatches, params string[] more) =>
    [
        "train", "--optimizer", "sgd", "--lr", LearningRate.ToString(CultureInfo.InvariantCulture), "--batch-size", Batch.ToString(CultureInfo.InvariantCulture),
        "--microbatches", microbatches.ToString(CultureInfo.InvariantCulture), "--seed", "5", "--threads", "1", "--device", "cpu", .. more,
    ];

    private static Dictionary<string, Tensor> Weights(string modelPath) =>
        Model.Load(modelPath).Graph.Initializers.Where(v => v.Initializer!.ElementType == ElementType.Float)
            .ToDictionary(v => v.Name, v => v.Initializer!, StringComparer.Ordinal);

    /// <summary>
    /// <c>mpirun -np 2 train --microbatches 1</c> against one process with <c>--microbatches 2</c>: the same objective
    /// (design.md §1), so the runs differ only in the order of float sums, and the tolerance is derived from that.
    /// </summary>
    /// <remarks>
    /// Per step, from the same weights θ, one process sums the loss gradient over the B examples of the batch in one
    /// reduction and the penalty gradient over each microbatch; the two ranks sum their slices (B/2 examples, which
    /// are the microbatches) and the all-reduce adds the halves. Every such evaluation of a sum of K terms a_i is
    /// within γ_K·Σ|a_i| of the exact sum (γ_K = K·u/(1 − K·u); Higham, Accuracy and Stability of Numerical
    /// Algorithms, §3.1), so the two gradients differ by at most D = 2·γ_K·S per element, with K = B + 4 (the batch
    /// sum and the few additions and scalings after it: ∇C + c·∇R, the 1/n of R, the average over ranks) and
    /// S = (1/B)·Σ_i (|∇ℓ_i| + 2c·|H_i·g_j(i)|), the sum of the absolute values of the examples' terms of
    /// ∇(C + c·R): ∇ℓ_i from per-example gradients and H_i·g_j (the Hessian of example i times its microbatch's
    /// gradient, ∇R's terms) by central differences of per-example gradients. The update θ − ε·g rounds twice per
    /// run, so step t's tolerance is tol_t = ε·D + 2u·(ε|g| + |θ|).
    /// Checked at every step of the 2-rank run: its weights after step t are within tol_t of one single-process step
    /// from its own weights after step t − 1 (the recorded checkpoints). The final weights: with e_t = θ_2ranks − θ_1,
    /// ‖e_t‖∞ ≤ (1 + ε·L_t)·‖e_{t−1}‖∞ + ‖tol_t‖∞, where L_t = ‖g(θ_2ranks) − g(θ_1)‖∞ / ‖e_{t−1}‖∞ is measured along
    /// the runs (the single-process gradient at both weights), which bounds how earlier differences grow.
    /// </remarks>
    [SkippableFact]
    public void TwoRanksEndWithTheWeightsOfOneProcessWithTwoMicrobatchesToTheFloatToleranceOfTheirSums()
    {
        var checkpoints = _temp.File("ranks2-checkpoints");
        var parallel = Mpirun((2, Train(1, "--epochs", "1", "--max-steps", $"{Steps}", "--checkpoint-dir", checkpoints,
            "--checkpoint-every", "1", "--keep-checkpoints", "100", "--export", _temp.File("ranks2.onnx"), "--summary-json", _temp.File("ranks2.json"))));
        Assert.True(parallel.ExitCode == 0, parallel.ToString());
        var single = CliRunner.Run(Train(2, "--epochs", "1", "--max-steps", $"{Steps}", "--export", _temp.File("single.onnx"), "--summary-json", _temp.File("single.json")));
        Assert.True(single.ExitCode == 0, single.Stderr);
        using (var summary = JsonDocument.Parse(File.ReadAllText(_temp.File("ranks2.json"))))
        {
            Assert.Equal(2, summary.RootElement.GetProperty("workers").GetInt32());
            Assert.Equal(Steps, summary.RootElement.GetProperty("steps").GetInt32());
        }
        using (var summary = JsonDocument.Parse(File.ReadAllText(_temp.File("single.json"))))
        {
            Assert.Equal(1, summary.RootElement.GetProperty("workers").GetInt32());
        }
        Assert.Contains("2 processes (MPI), 16 examples each", parallel.Stdout, StringComparison.Ordinal);
        Assert.Single(parallel.Stdout.Split('\n'), l => l.StartsWith("training ", StringComparison.Ordinal)); // rank 0 alone prints

        // The same options as the CLI's (parsed by its own option set), the same data and model.
        var options = ParseTrainOptions(Train(2));
        var model = ModelFiles.LoadDefault();
        var input = model.Graph.RequiredInputs.Single().Name;
        var (train, _) = DigitsData.LoadEmbedded();
        var c = (float)options.Step.Gradient.Penalty.Coefficient;
        var step = StepModelBuilder.Build(model, options.Step with { Form = StepModelForm.GradientsOut, ConstantEvaluator = OrtConstantEvaluator.Instance });
        var lossOnly = StepModelBuilder.Build(model, options.Step with
        {
            Form = StepModelForm.GradientsOut,
            ConstantEvaluator = OrtConstantEvaluator.Instance,
            Gradient = options.Step.Gradient with { Penalty = options.Step.Gradient.Penalty with { Mode = PenaltyMode.None, Microbatches = 1 } },
        });
        using var one = new GradientStepSession(step, StepSession.DefaultOptions(1));
        using var reference = new GradientStepSession(step, StepSession.DefaultOptions(1));
        using var perExample = new GradientStepSession(lossOnly, StepSession.DefaultOptions(1));
        var parameters = step.Parameters;
        var sampler = new EpochSampler(train.Count, Batch, options.Seed);
        var previous = step.InitialState;
        var bound = 0.0;
        for (var t = 1; t <= Steps; t++)
        {
            Assert.True(sampler.TryNextBatch(out var indices));
            Dictionary<string, Tensor> BatchOf(ReadOnlySpan<int> rows)
            {
                var (x, y) = train.GatherBatch(rows);
                return new() { [input] = x.WithName(input), [GradientModelBuilder.Target] = y.WithName(GradientModelBuilder.Target) };
            }
            var batch = BatchOf(indices);

            // One single-process step from the 2-rank run's weights after step t − 1, and the single-process run.
            one.LoadState(previous);
            one.ComputeGradients(batch);
            var gradientThere = one.Gradients.ToArray();
            one.ApplyUpdate(LearningRate);
            var predicted = Flat(one.State(), parameters);
            var singleBefore = Flat(reference.State(), parameters);
            reference.ComputeGradients(batch);
            var gradientHere = reference.Gradients.ToArray();
            reference.ApplyUpdate(LearningRate);

            var recorded = Checkpoints.Read(Path.Combine(checkpoints, $"checkpoint-{t:D10}.ckpt")).State;
            var actual = Flat(recorded, parameters);
            var s = AbsoluteTerms(perExample, previous, parameters, train, indices, input, c);
            var k = Batch + 4;
            var gamma = k * U / (1 - k * U);
            var worstRatio = 0.0;
            var tolInf = 0.0;
            for (var i = 0; i < actual.Length; i++)
            {
                var tol = LearningRate * 2 * gamma * s[i] + 2 * U * (LearningRate * Math.Abs(gradientThere[i]) + Math.Abs(predicted[i]));
                tolInf = Math.Max(tolInf, tol);
                var diff = Math.Abs((double)actual[i] - predicted[i]);
                worstRatio = Math.Max(worstRatio, diff / tol);
                Assert.True(diff <= tol, $"step {t}, element {i}: the 2-rank step differs from one process's step by {diff:g3} > {tol:g3} (the bound of its sums)");
            }
            // e_t's bound: the previous difference grown by the measured Lipschitz ratio, plus this step's tolerance.
            var previousFlat = Flat(previous, parameters);
            var eBefore = MaxAbsDifference(previousFlat, singleBefore);
            var growth = eBefore == 0 ? 0 : LearningRate * MaxAbsDifference(gradientThere, gradientHere) / eBefore;
            bound = (1 + growth) * bound + tolInf + 2 * U * MaxAbs(predicted);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"step {t}: worst |2 ranks − one step| / tol = {worstRatio:0.000}, max tol {tolInf:g3}, growth ε·L = {growth:g3}, ‖e‖∞ = {MaxAbsDifference(actual, Flat(reference.State(), parameters)):g3} ≤ {bound:g3}"));
            previous = recorded;
        }

        // The single-process CLI run is the reference trajectory (the fused step is the gradients-out step bit for bit).
        var singleWeights = Weights(_temp.File("single.onnx"));
        var referenceState = reference.State();
        foreach (var parameter in parameters)
        {
            Assert.True(singleWeights[parameter].ContentEquals(referenceState[parameter].WithName(parameter)), $"'{parameter}': the CLI's single-process run is not the reference trajectory");
        }
        var final = Weights(_temp.File("ranks2.onnx"));
        var e = MaxAbsDifference(Flat(final, parameters), Flat(singleWeights, parameters));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"final weights: ‖θ(2 ranks) − θ(1 process, 2 microbatches)‖∞ = {e:g3} ≤ {bound:g3}"));
        Assert.True(e <= bound, $"the 2-rank run ends {e:g3} from the single-process run's weights, above the bound {bound:g3} of its summation order");
    }

    /// <summary>
    /// A rank killed (SIGKILL) in the middle of training ends the job promptly (no hang: the survivor waits in an
    /// all-reduce); the run then resumes from rank 0's newest checkpoint with 2 ranks, and also in one process with
    /// twice the microbatches (the same objective, so the checkpoint's fingerprint fits).
    /// </summary>
    [SkippableFact]
    public void AKilledRankEndsTheJobAndTheRunResumesFromRankZerosCheckpointWithAnyRankCount()
    {
        RequireMpirun();
        var checkpoints = _temp.File("checkpoints");
        string[] Run(int microbatches, int epochs, params string[] more) =>
            Train(microbatches, ["--epochs", epochs.ToString(CultureInfo.InvariantCulture), "--checkpoint-dir", checkpoints, "--checkpoint-every", "5", .. more]);
        var clock = Stopwatch.StartNew();
        using var job = MpiRun.Start([(2, Cli, Run(1, 400))], _temp.Path);
        // Wait for a checkpoint (rank 0 has trained a while), then kill rank 1, a child of mpirun.
        while (Checkpoints.List(checkpoints).Count == 0 && !job.HasExited && clock.Elapsed < MpiRun.HangGuard)
        {
            Thread.Sleep(100);
        }
        Assert.False(job.HasExited, "the job ended before it wrote a checkpoint");
        var victim = RankProcess(job.Id, rank: 1);
        Assert.True(victim is not null, "no process of rank 1 under mpirun");
        var killedAt = clock.Elapsed;
        victim.Kill();
        var killed = Finish(job, clock);
        Assert.NotEqual(0, killed.ExitCode);
        Assert.Contains("rank 1", killed.Stdout + killed.Stderr, StringComparison.Ordinal);
        output.WriteLine($"the job ended {(killed.Elapsed - killedAt).TotalSeconds:F1} s after rank 1 was killed");
        var newest = Checkpoints.Newest(checkpoints)!.Position.Step;
        Assert.True(newest >= 5 && newest % 5 == 0, $"newest checkpoint at step {newest}");

        // --epochs 3 ends the resumed runs (the checkpoints do not record the epoch count; the schedule is constant).
        var perEpoch = 1438 / Batch;
        Assert.True(newest < 3 * perEpoch, "the killed run got past the resumed runs' end");
        var copy = _temp.File("checkpoints-copy");
        Directory.CreateDirectory(copy);
        foreach (var file in Checkpoints.List(checkpoints))
        {
            File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
        }

        var twoRanks = Mpirun((2, Run(1, 3, "--resume", "--summary-json", _temp.File("two.json"))));
        Assert.True(twoRanks.ExitCode == 0, twoRanks.ToString());
        var alone = CliRunner.Run(Train(2, "--epochs", "3", "--checkpoint-dir", copy, "--checkpoint-every", "5", "--resume", "--summary-json", _temp.File("one.json")));
        Assert.True(alone.ExitCode == 0, alone.Stderr);
        foreach (var (file, workers) in new[] { ("two.json", 2), ("one.json", 1) })
        {
            using var summary = JsonDocument.Parse(File.ReadAllText(_temp.File(file)));
            Assert.Equal(workers, summary.RootElement.GetProperty("workers").GetInt32());
            Assert.Equal(newest, summary.RootElement.GetProperty("resumed_from_step").GetInt64());
            Assert.Equal(3 * perEpoch, summary.RootElement.GetProperty("steps").GetInt64());
            Assert.Equal(3, summary.RootElement.GetProperty("epochs_completed").GetInt32() + (int)(newest / perEpoch));
        }
        Assert.Contains($"resumed from step {newest}", twoRanks.Stdout, StringComparison.Ordinal);
    }

    /// <summary>
    /// A rank that fails while the other waits in a collective ends the job with its message (naming its rank) and
    /// its exit code: rank 1 (MPMD, its own command line) is given data whose examples do not fit the model's input.
    /// </summary>
    [SkippableFact]
    public void ARankThatFailsEndsTheJobWithItsRankMessageAndExitCode()
    {
        RequireMpirun();
        var (train, _) = DigitsData.LoadEmbedded();
        var count = train.Count;
        NpzArchive.Write(_temp.File("good.npz"), new Dictionary<string, Tensor> { ["x"] = train.Features, ["y"] = train.Labels });
        var narrow = Tensor.FromArray(new float[count * 63], [count, 63]);
        NpzArchive.Write(_temp.File("bad.npz"), new Dictionary<string, Tensor> { ["x"] = narrow, ["y"] = train.Labels });
        var model = TestPaths.Model("mlp_tanh.onnx");
        string[] Args(string data) => ["train", model, "--data", _temp.File(data), "--epochs", "50", "--batch-size", "32", "--threads", "1", "--device", "cpu"];
        var result = Mpirun((1, Args("good.npz")), (1, Args("bad.npz")));
        Assert.Equal(ErrorHandling.ExitCodeOf(ErrorKind.BadInput), result.ExitCode);
        Assert.Contains(ErrorHandling.Prefix + "rank 1 of 2: ", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("epoch 50/50", result.Stdout, StringComparison.Ordinal);
    }

    /// <summary>A batch that does not split into the ranks is refused naming --batch-size and the world size.</summary>
    [SkippableFact]
    public void ABatchThatDoesNotSplitIntoTheRanksIsRefused()
    {
        var result = Mpirun((3, Train(1, "--epochs", "1")));
        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("--batch-size", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("does not divide by the 3 processes", result.Stderr, StringComparison.Ordinal);
    }

    /// <summary>The process of rank <paramref name="rank"/> among mpirun's children (Open MPI sets OMPI_COMM_WORLD_RANK in its environment).</summary>
    private static Process? RankProcess(int mpirunId, int rank)
    {
        foreach (var folder in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(folder), out var pid))
            {
                continue;
            }
            try
            {
                var stat = File.ReadAllText(Path.Combine(folder, "stat"));
                var parent = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], CultureInfo.InvariantCulture);
                if (parent != mpirunId)
                {
                    continue;
                }
                var environment = File.ReadAllText(Path.Combine(folder, "environ")).Split('\0');
                if (environment.Contains($"OMPI_COMM_WORLD_RANK={rank}"))
                {
                    return Process.GetProcessById(pid);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
            {
                // The process ended while we looked.
            }
        }
        return null;
    }

    /// <summary>
    /// S per element: (1/B)·Σ_i (|∇ℓ_i| + 2c·|H_i·g_j(i)|) at the weights <paramref name="state"/>, where g_j is the loss
    /// gradient of example i's microbatch (consecutive halves of the batch) and H_i·g_j ≈ (∇ℓ_i(θ + h·v) − ∇ℓ_i(θ − h·v))·‖g_j‖/(2h),
    /// v = g_j/‖g_j‖, h = 10⁻³.
    /// </summary>
    private static double[] AbsoluteTerms(GradientStepSession perExample, IReadOnlyDictionary<string, Tensor> state, IReadOnlyList<string> parameters,
        Dataset train, int[] indices, string input, float c)
    {
        const double h = 1e-3;
        Dictionary<string, Tensor> Rows(ReadOnlySpan<int> rows)
        {
            var (x, y) = train.GatherBatch(rows);
            return new() { [input] = x.WithName(input), [GradientModelBuilder.Target] = y.WithName(GradientModelBuilder.Target) };
        }
        var length = perExample.GradientLength;
        var s = new double[length];
        var half = indices.Length / 2;
        for (var j = 0; j < 2; j++)
        {
            perExample.LoadState(state);
            perExample.ComputeGradients(Rows(indices.AsSpan(j * half, half)));
            var g = perExample.Gradients.ToArray();
            var norm = Math.Sqrt(g.Sum(v => (double)v * v));
            var plus = Shifted(state, parameters, g, h / norm);
            var minus = Shifted(state, parameters, g, -h / norm);
            for (var r = j * half; r < (j + 1) * half; r++)
            {
                var example = Rows(indices.AsSpan(r, 1));
                perExample.LoadState(state);
                perExample.ComputeGradients(example);
                var at = perExample.Gradients.ToArray();
                perExample.LoadState(plus);
                perExample.ComputeGradients(example);
                var up = perExample.Gradients.ToArray();
                perExample.LoadState(minus);
                perExample.ComputeGradients(example);
                var down = perExample.Gradients.ToArray();
                for (var i = 0; i < length; i++)
                {
                    var hvp = ((double)up[i] - down[i]) * norm / (2 * h);
                    s[i] += (Math.Abs(at[i]) + 2 * c * Math.Abs(hvp)) / indices.Length;
                }
            }
        }
        return s;
    }

    /// <summary>θ + step·g (float) for the parameters; other state values as they are.</summary>
    private static Dictionary<string, Tensor> Shifted(IReadOnlyDictionary<string, Tensor> state, IReadOnlyList<string> parameters, float[] g, double step)
    {
        var shifted = new Dictionary<string, Tensor>(state, StringComparer.Ordinal);
        var offset = 0;
        foreach (var p in parameters)
        {
            var values = state[p].ToDoubles();
            var moved = new float[values.Length];
            for (var i = 0; i < values.Length; i++)
            {
                moved[i] = (float)(values[i] + step * g[offset + i]);
            }
            offset += values.Length;
            shifted[p] = Tensor.FromArray(moved, state[p].Dims, p);
        }
        return shifted;
    }

    private static float[] Flat(IReadOnlyDictionary<string, Tensor> state, IReadOnlyList<string> parameters) =>
        [.. parameters.SelectMany(p => state[p].ToDoubles().Select(v => (float)v))];

    private static double MaxAbsDifference(float[] a, float[] b) => a.Zip(b, (x, y) => Math.Abs((double)x - y)).Max();

    private static double MaxAbs(float[] a) => a.Max(v => Math.Abs((double)v));

    /// <summary>The trainer options <c>train</c> makes of these arguments (its own option set and loss choice).</summary>
    private static TrainerOptions ParseTrainOptions(string[] arguments)
    {
        var set = new TrainOptionSet();
        var command = new Command("train");
        set.AddTo(command);
        foreach (var extra in new[] { "--threads", "--device" })
        {
            command.Options.Add(new Option<string>(extra));
        }
        var parsed = command.Parse(arguments[1..]);
        Assert.Empty(parsed.Errors);
        return set.Parse(parsed).TrainerFor(classLabels: true);
    }
}
