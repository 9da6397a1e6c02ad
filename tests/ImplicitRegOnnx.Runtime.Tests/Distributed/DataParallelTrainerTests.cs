using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Runtime.Data;
using ImplicitRegOnnx.Runtime.Distributed;
using ImplicitRegOnnx.TestSupport;
using ImplicitRegOnnx.Training;
using ImplicitRegOnnx.Runtime.Training;

namespace ImplicitRegOnnx.Runtime.Tests.Distributed;

/// <summary>
/// <see cref="Trainer"/> given a world of W &gt; 1 processes (here W threads, <see cref="ThreadWorld"/>, whose sums add
/// the ranks in order): the global batch is split into W contiguous slices, the gradients-out step runs on each, the
/// flat buffer is averaged, every rank applies the same update, rank 0 alone writes checkpoints, and resuming starts
/// every rank from rank 0's checkpoint.
/// </summary>
public sealed class DataParallelTrainerTests : IDisposable
{
    private const int Batch = 32;
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private static readonly Lazy<Dataset> Digits = new(() => DigitsData.Load(TestPaths.Model("data/digits.csv.gz")).Train.Take(320));

    private static Model Mlp() => Model.Load(TestPaths.Model("mlp_tanh.onnx"));

    private static TrainerOptions Options(int microbatches, OptimizerKind optimizer = OptimizerKind.Momentum) => new()
    {
        Step = new StepModelOptions
        {
            Gradient = new GradientModelOptions
            {
                Loss = LossKind.CrossEntropy,
                Penalty = new PenaltyOptions { Microbatches = microbatches },
            },
            Optimizer = new OptimizerOptions { Kind = optimizer },
        },
        // Fixed, so that the reference below can feed the same c at every step.
        PenaltyCoefficient = 0.05,
        LearningRate = 0.05f,
        Epochs = 2,
        BatchSize = Batch,
        Seed = 3,
        Threads = 1,
    };

    private static void AssertBitEqual(IReadOnlyDictionary<string, Tensor> expected, IReadOnlyDictionary<string, Tensor> actual, string what)
    {
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (name, tensor) in expected)
        {
            var worst = tensor.ToDoubles().Zip(actual[name].ToDoubles(), (a, b) => Math.Abs(a - b)).Max();
            Assert.True(tensor.ContentEquals(actual[name]), $"{what}: '{name}' differs by up to {worst:g3}");
        }
    }

    /// <summary>
    /// Redoes the data-parallel steps by hand in one process: the same batches (same seed), rank r's slice run
    /// through a gradients-out session, the buffers added in rank order and halved, then applied. Every step of the
    /// two-rank trainer must be exactly this, on both ranks.
    /// </summary>
    [Theory]
    [InlineData(1, OptimizerKind.Momentum)]
    [InlineData(2, OptimizerKind.Adam)]
    public void TwoRanksTakeExactlyTheAveragedStepsOfTheirSlices(int microbatches, OptimizerKind optimizer)
    {
        const int workers = 2;
        var options = Options(microbatches, optimizer) with { MaxSteps = 6 };
        var results = ThreadWorld.Run(workers, world =>
        {
            using var trainer = new Trainer(Mlp(), options, world);
            var metrics = new List<StepMetrics>();
            trainer.Fit(Digits.Value, onStep: e => metrics.Add(e.Metrics));
            Assert.Equal(workers, trainer.Workers);
            Assert.Equal(world.Rank == 0, trainer.Writes);
            return (State: trainer.ExportInferenceModel(), Metrics: metrics, Steps: trainer.Steps);
        });
        Assert.Equal(6, results[0].Steps);
        Assert.Equal(results[0].Metrics, results[1].Metrics);

        var step = StepModelBuilder.Build(Mlp(), options.Step with { ConstantEvaluator = OrtConstantEvaluator.Instance, Form = StepModelForm.GradientsOut });
        using var session = new GradientStepSession(step, StepSession.DefaultOptions(1));
        var sampler = new EpochSampler(Digits.Value.Count, Batch, options.Seed);
        var sum = new float[session.Buffer.Length];
        var input = Mlp().Graph.RequiredInputs.Single().Name;
        for (var t = 0; t < 6; t++)
        {
            Assert.True(sampler.TryNextBatch(out var indices));
            for (var rank = 0; rank < workers; rank++)
            {
                var (x, y) = Digits.Value.GatherBatch(indices.AsSpan(rank * Batch / workers, Batch / workers));
                session.ComputeGradients(new Dictionary<string, Tensor> { [input] = x.WithName(input), [GradientModelBuilder.Target] = y.WithName(GradientModelBuilder.Target) },
                    (float)options.PenaltyCoefficient!.Value);
                for (var i = 0; i < sum.Length; i++)
                {
                    sum[i] = rank == 0 ? session.Buffer[i] : sum[i] + session.Buffer[i];
                }
            }
            for (var i = 0; i < sum.Length; i++)
            {
                session.Buffer[i] = sum[i] * 0.5f;
            }
            Assert.Equal(session.Metrics, results[0].Metrics[t]);
            session.ApplyUpdate(options.LearningRate);
        }
        var expected = ModelExport.WithWeights(Mlp(), session.State().Where(p => step.Parameters.Contains(p.Key)).ToDictionary(p => p.Key, p => p.Value), "trainer");
        for (var rank = 0; rank < workers; rank++)
        {
            AssertBitEqual(expected.Graph.Initializers.ToDictionary(v => v.Name, v => v.Initializer!), results[rank].State.Graph.Initializers.ToDictionary(v => v.Name, v => v.Initializer!), $"rank {rank}");
        }
    }

    [Fact]
    public void RankZeroAloneWritesCheckpointsAndAResumedRunStartsEveryRankFromThem()
    {
        var folder = _temp.File("checkpoints");
        var elsewhere = _temp.File("rank1-sees-nothing");
        TrainerOptions For(int rank, long? maxSteps, bool resume) => Options(1) with
        {
            // Rank 1's folder stays empty: it must neither write there nor need the checkpoint to resume.
            CheckpointDirectory = rank == 0 ? folder : elsewhere,
            CheckpointEvery = 3,
            MaxSteps = maxSteps,
            Resume = resume,
        };
        var whole = ThreadWorld.Run(2, world =>
        {
            using var trainer = new Trainer(Mlp(), Options(1) with { MaxSteps = 14 }, world);
            trainer.Fit(Digits.Value);
            return trainer.ExportInferenceModel();
        });
        ThreadWorld.Run(2, world =>
        {
            using var trainer = new Trainer(Mlp(), For(world.Rank, 9, false), world);
            trainer.Fit(Digits.Value);
            return 0;
        });
        Assert.NotEmpty(Checkpoints.List(folder));
        Assert.Empty(Checkpoints.List(elsewhere));
        Assert.Equal(9, Checkpoints.Newest(folder)!.Position.Step);

        var resumed = ThreadWorld.Run(2, world =>
        {
            using var trainer = new Trainer(Mlp(), For(world.Rank, 14, true), world);
            trainer.Fit(Digits.Value);
            Assert.Equal(9, trainer.ResumedFromStep);
            Assert.Equal(14, trainer.Steps);
            return trainer.ExportInferenceModel();
        });
        for (var rank = 0; rank < 2; rank++)
        {
            AssertBitEqual(whole[0].Graph.Initializers.ToDictionary(v => v.Name, v => v.Initializer!),
                resumed[rank].Graph.Initializers.ToDictionary(v => v.Name, v => v.Initializer!), $"resumed rank {rank}");
        }
    }

    /// <summary>
    /// The fingerprint counts the penalty's microbatches over all ranks: 2 ranks × 1 is the objective of 1 process
    /// × 2 (it resumes), 1 process × 1 is another objective (refused).
    /// </summary>
    [Fact]
    public void ACheckpointOfTwoRanksResumesInOneProcessWithTwiceTheMicrobatches()
    {
        var folder = _temp.File("checkpoints");
        ThreadWorld.Run(2, world =>
        {
            using var trainer = new Trainer(Mlp(), Options(1) with { CheckpointDirectory = folder, MaxSteps = 5, CheckpointEvery = 5 }, world);
            trainer.Fit(Digits.Value);
            return 0;
        });
        using (var single = new Trainer(Mlp(), Options(2) with { CheckpointDirectory = folder, MaxSteps = 8, Resume = true }))
        {
            single.Fit(Digits.Value);
            Assert.Equal(5, single.ResumedFromStep);
            Assert.Equal(8, single.Steps);
        }
        using var other = new Trainer(Mlp(), Options(1) with { CheckpointDirectory = _temp.File("checkpoints"), Resume = true });
        var error = Assert.Throws<ImplicitRegException>(() => other.Fit(Digits.Value));
        Assert.Contains("another model or configuration", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(3, 32, 1, "TrainerOptions.BatchSize")]
    [InlineData(2, 30, 2, "PenaltyOptions.Microbatches")]
    public void ABatchThatDoesNotSplitIsRefusedNamingTheBatchSizeAndTheWorld(int workers, int batch, int microbatches, string named)
    {
        var errors = ThreadWorld.Run(workers, world =>
            Assert.Throws<ImplicitRegException>(() => new Trainer(Mlp(), Options(microbatches) with { BatchSize = batch }, world)));
        foreach (var error in errors)
        {
            Assert.Equal(ErrorKind.BadInput, error.Kind);
            Assert.Contains("TrainerOptions.BatchSize", error.Message, StringComparison.Ordinal);
            Assert.Contains(named, error.Message, StringComparison.Ordinal);
            Assert.Contains($"{workers} processes", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void RanksWithDifferentOptionsRefuseToTrain()
    {
        var errors = ThreadWorld.Run(2, world =>
            Assert.Throws<ImplicitRegException>(() => new Trainer(Mlp(), Options(1) with { LearningRate = world.Rank == 0 ? 0.05f : 0.1f }, world)));
        Assert.All(errors, e => Assert.Contains("different models or training options", e.Message, StringComparison.Ordinal));
    }
}
