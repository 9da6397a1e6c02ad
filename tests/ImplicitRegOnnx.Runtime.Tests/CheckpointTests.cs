using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Runtime.Data;
using ImplicitRegOnnx.TestSupport;
using ImplicitRegOnnx.Training;
using ImplicitRegOnnx.Runtime.Training;

namespace ImplicitRegOnnx.Runtime.Tests;

public sealed class CheckpointTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private static readonly Dataset Train = DigitsData.Load(TestPaths.Model("data/digits.csv.gz")).Train.Take(400);

    private TrainerOptions Options(string directory) => new()
    {
        Step = new StepModelOptions
        {
            Gradient = new GradientModelOptions { Loss = LossKind.CrossEntropy, Penalty = new PenaltyOptions { Microbatches = 2 } }, // c(t) = ε(t)/4 follows the cosine schedule
            Optimizer = new OptimizerOptions { Kind = OptimizerKind.Adam },
        },
        LearningRate = 0.01f,
        Schedule = LearningRateSchedule.Cosine,
        Epochs = 3,
        BatchSize = 32,
        Seed = 11,
        Threads = 1,
        CheckpointDirectory = _temp.File(directory),
        CheckpointEvery = 5,
        KeepCheckpoints = 2,
    };

    private static Model Mlp() => Model.Load(TestPaths.Model("mlp_tanh.onnx"));

    private static byte[][] Weights(Trainer trainer) =>
        [.. trainer.ExportInferenceModel().Graph.Initializers.Select(v => v.Initializer!.RawBytes.ToArray())];

    [Fact]
    public void AStoppedAndResumedRunEqualsAnUninterruptedOneBitForBit()
    {
        byte[][] uninterrupted;
        using (var trainer = new Trainer(Mlp(), Options("a")))
        {
            trainer.Fit(Train);
            uninterrupted = Weights(trainer);
        }
        using (var first = new Trainer(Mlp(), Options("b") with { MaxSteps = 17 }))
        {
            first.Fit(Train);
            Assert.Equal(17, first.Steps);
        }
        Assert.Equal(2, Checkpoints.List(_temp.File("b")).Count);
        using var resumed = new Trainer(Mlp(), Options("b") with { Resume = true });
        resumed.Fit(Train);
        Assert.Equal(15, resumed.ResumedFromStep);
        Assert.Equal(3 * (400 / 32), resumed.Steps);
        var weights = Weights(resumed);
        Assert.All(uninterrupted.Zip(weights), p => Assert.Equal(p.First, p.Second));
    }

    [Fact]
    public void DamagedAndForeignCheckpointsAreRefused()
    {
        using (var trainer = new Trainer(Mlp(), Options("c") with { MaxSteps = 10 }))
        {
            trainer.Fit(Train);
        }
        using (var other = new Trainer(Mlp(), Options("c") with { Resume = true, LearningRate = 0.5f }))
        {
            var foreign = Assert.Throws<ImplicitRegException>(() => other.Fit(Train));
            Assert.Contains("another model or configuration", foreign.Message, StringComparison.Ordinal);
        }
        var newest = Checkpoints.List(_temp.File("c"))[^1];
        var bytes = File.ReadAllBytes(newest);
        File.WriteAllBytes(newest, bytes[..(bytes.Length / 2)]);
        using var damaged = new Trainer(Mlp(), Options("c") with { Resume = true });
        var error = Assert.Throws<ImplicitRegException>(() => damaged.Fit(Train));
        Assert.Contains("damaged checkpoint", error.Message, StringComparison.Ordinal);
        File.WriteAllText(newest, "{}");
        Assert.Throws<ImplicitRegException>(() => Checkpoints.Read(newest));
    }
}
