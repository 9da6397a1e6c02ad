using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Runtime.Data;
using ImplicitRegOnnx.Runtime.Verification;
using ImplicitRegOnnx.TestSupport;
using ImplicitRegOnnx.Training;
using ImplicitRegOnnx.Runtime.Training;

namespace ImplicitRegOnnx.Runtime.Tests;

/// <summary>Callbacks, early stopping, keep-best, warmup and custom schedules, progress, cancellation, regression metrics.</summary>
public sealed class TrainerFeaturesTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private static readonly (Dataset Train, Dataset Test) Digits = Load();

    private static (Dataset, Dataset) Load()
    {
        var (train, test) = DigitsData.Load(TestPaths.Model("data/digits.csv.gz"));
        return (train.Take(320), test.Take(160));
    }

    private static Model Mlp() => Model.Load(TestPaths.Model("mlp_tanh.onnx"));

    private static TrainerOptions Options(int epochs = 3) => new()
    {
        Step = new StepModelOptions
        {
            Gradient = new GradientModelOptions { Loss = LossKind.CrossEntropy, Penalty = new PenaltyOptions { Microbatches = 2 } },
            Optimizer = new OptimizerOptions { Kind = OptimizerKind.Momentum },
        },
        LearningRate = 0.05f,
        Epochs = epochs,
        BatchSize = 32,
        Seed = 3,
        Threads = 1,
    };

    private static byte[][] Weights(Trainer trainer) =>
        [.. trainer.ExportInferenceModel().Graph.Initializers.Select(v => v.Initializer!.RawBytes.ToArray())];

    private sealed class StopAt(long step) : TrainerCallback
    {
        public override void OnStep(Trainer trainer, StepEvent e)
        {
            if (e.Step == step)
            {
                trainer.RequestStop($"asked at step {step}");
            }
        }
    }

    [Fact]
    public void ACallbackStopsAfterItsStepAndTheRunResumesFromThereBitIdentical()
    {
        byte[][] straight;
        using (var trainer = new Trainer(Mlp(), Options()))
        {
            trainer.Fit(Digits.Train);
            Assert.Null(trainer.StopReason);
            straight = Weights(trainer);
        }
        var options = Options() with { CheckpointDirectory = _temp.File("c") };
        using (var trainer = new Trainer(Mlp(), options))
        {
            var epochs = trainer.Fit(Digits.Train, null, [new StopAt(13)]);
            Assert.Equal(13, trainer.Steps);
            Assert.Equal("asked at step 13", trainer.StopReason);
            Assert.Single(epochs); // 10 steps an epoch: the first completed, the second not
        }
        Assert.EndsWith("checkpoint-0000000013.ckpt", Checkpoints.List(_temp.File("c"))[^1], StringComparison.Ordinal);
        using (var trainer = new Trainer(Mlp(), options with { Resume = true }))
        {
            trainer.Fit(Digits.Train);
            Assert.Equal(13, trainer.ResumedFromStep);
            Assert.Equal(30, trainer.Steps);
            Assert.All(straight.Zip(Weights(trainer)), p => Assert.Equal(p.First, p.Second));
        }
    }

    [Fact]
    public void ACancelledTokenEndsAfterTheCurrentStepWithACheckpointThatResumesBitIdentical()
    {
        byte[][] straight;
        using (var trainer = new Trainer(Mlp(), Options()))
        {
            trainer.Fit(Digits.Train);
            straight = Weights(trainer);
        }
        var options = Options() with { CheckpointDirectory = _temp.File("c") };
        using var source = new CancellationTokenSource();
        using (var trainer = new Trainer(Mlp(), options))
        {
            var error = Assert.Throws<TrainingCancelledException>(() =>
                trainer.Fit(Digits.Train, null, onStep: e => { if (e.Step == 7) source.Cancel(); }, cancellation: source.Token));
            Assert.Equal(ErrorKind.Cancelled, error.Kind);
            Assert.Equal(7, error.Step);
            Assert.Equal(7, trainer.Steps);
            Assert.True(File.Exists(error.Checkpoint), error.Message);
            Assert.Contains(error.Checkpoint!, error.Message, StringComparison.Ordinal);
            Assert.Equal(7, Checkpoints.Read(error.Checkpoint!).Position.Step);
        }
        using (var trainer = new Trainer(Mlp(), options with { Resume = true }))
        {
            trainer.Fit(Digits.Train);
            Assert.Equal(7, trainer.ResumedFromStep);
            Assert.All(straight.Zip(Weights(trainer)), p => Assert.Equal(p.First, p.Second));
        }
        // Without a checkpoint folder the error says that nothing was kept.
        using var again = new CancellationTokenSource();
        again.Cancel();
        using var bare = new Trainer(Mlp(), Options());
        var none = Assert.Throws<TrainingCancelledException>(() => bare.Fit(Digits.Train, cancellation: again.Token));
        Assert.Null(none.Checkpoint);
        Assert.Equal(0, bare.Steps);
    }

    [Fact]
    public void EarlyStoppingStopsAfterPatienceEpochsWithoutImprovement()
    {
        // Maximizing the training loss, which falls every epoch here: only the first epoch is ever the best.
        using var trainer = new Trainer(Mlp(), Options(epochs: 10) with
        {
            Monitor = TrainingMetrics.TrainLoss, MonitorMode = MonitorMode.Max, EarlyStoppingPatience = 2,
        });
        var epochs = trainer.Fit(Digits.Train);
        Assert.True(epochs[1].TrainLoss < epochs[0].TrainLoss && epochs[2].TrainLoss < epochs[0].TrainLoss, "the premise: the loss falls");
        Assert.Equal(3, epochs.Count);
        Assert.Equal(30, trainer.Steps);
        Assert.StartsWith("early stopping: train_loss", trainer.StopReason, StringComparison.Ordinal);
        Assert.Equal(0, trainer.Monitor!.State!.BestEpoch);

        // A min delta larger than any change stops alike when minimizing.
        using var strict = new Trainer(Mlp(), Options(epochs: 10) with { Monitor = TrainingMetrics.TrainLoss, EarlyStoppingPatience = 1, MinDelta = 100 });
        Assert.Equal(2, strict.Fit(Digits.Train).Count);

        using var noTestSet = new Trainer(Mlp(), Options() with { Monitor = TrainingMetrics.TestLoss, EarlyStoppingPatience = 1 });
        var missing = Assert.Throws<ImplicitRegException>(() => noTestSet.Fit(Digits.Train));
        Assert.Equal("TrainerOptions.Monitor", missing.Parameter);
    }

    [Fact]
    public void KeepBestWritesTheModelOfTheBestEpoch()
    {
        // "Best" as the largest test loss, so that the best epoch is not simply the last one.
        var path = _temp.File("best.onnx");
        using var trainer = new Trainer(Mlp(), Options(epochs: 4) with { KeepBestPath = path, MonitorMode = MonitorMode.Max });
        var epochs = trainer.Fit(Digits.Train, Digits.Test);
        var best = trainer.Monitor!.State!;
        Assert.Equal(TrainingMetrics.TestLoss, trainer.Monitor.Metric);
        Assert.Equal(epochs.Max(e => e.Test!.Loss), best.Best);
        var written = ModelEvaluation.Run(Model.Load(path), Digits.Test, Options().Step.Gradient);
        Assert.Equal(epochs[(int)best.BestEpoch].Test!.Loss, written.Loss, 5);
        if (best.BestEpoch != epochs.Count - 1)
        {
            Assert.NotEqual(epochs[^1].Test!.Loss, written.Loss, 5);
        }
    }

    [Fact]
    public void WarmupRisesLinearlyThenTheScheduleRunsOverTheRest()
    {
        var rates = new List<float>();
        using (var trainer = new Trainer(Mlp(), Options(epochs: 2) with { WarmupSteps = 4, Schedule = LearningRateSchedule.Cosine, LearningRate = 0.08f }))
        {
            trainer.Fit(Digits.Train, onStep: e => rates.Add(e.LearningRate));
        }
        Assert.Equal(20, rates.Count);
        for (var t = 0; t < 4; t++)
        {
            Assert.Equal((float)(0.08f * (t + 1) / 4.0), rates[t]);
        }
        for (var t = 4; t < 20; t++)
        {
            Assert.Equal((float)(0.08f * 0.5 * (1 + Math.Cos(Math.PI * (t - 4) / 16.0))), rates[t]);
        }
    }

    private sealed class Recorder : IProgress<StepEvent>
    {
        public List<StepEvent> Events { get; } = [];

        public void Report(StepEvent value) => Events.Add(value);
    }

    [Fact]
    public void AUserScheduleGivesEveryRateAndProgressSeesEveryStep()
    {
        var progress = new Recorder();
        using (var trainer = new Trainer(Mlp(), Options(epochs: 1) with { LearningRateFunction = step => 0.01f * (step % 3 + 1) }))
        {
            trainer.Fit(Digits.Train, null, [], progress);
            Assert.Equal(10, trainer.TotalSteps);
        }
        Assert.Equal(Enumerable.Range(1, 10).Select(i => (long)i), progress.Events.Select(e => e.Step));
        Assert.All(progress.Events, e => Assert.Equal(0.01f * ((e.Step - 1) % 3 + 1), e.LearningRate));
        Assert.All(progress.Events, e => Assert.Equal((float)(e.LearningRate / 4.0), e.PenaltyCoefficient));

        using var bad = new Trainer(Mlp(), Options(epochs: 1) with { LearningRateFunction = step => step == 2 ? float.NaN : 0.01f });
        var error = Assert.Throws<ImplicitRegException>(() => bad.Fit(Digits.Train));
        Assert.Equal("TrainerOptions.LearningRateFunction", error.Parameter);
        Assert.Equal("TrainerOptions.LearningRateFunction", Assert.Throws<ImplicitRegException>(
            (Options() with { LearningRateFunction = _ => 0.1f, WarmupSteps = 3 }).Validate).Parameter);
    }

    [Fact]
    public void RegressionLossesReportMeanSquaredAndAbsoluteErrors()
    {
        // The digits as a regression onto one-hot targets, with the mse loss.
        static Dataset OneHot(Dataset d)
        {
            var labels = d.Labels.ToInt64s();
            var targets = new float[labels.Length * 10];
            for (var i = 0; i < labels.Length; i++)
            {
                targets[(i * 10) + labels[i]] = 1;
            }
            return Dataset.FromArrays(d.FeatureValues.ToArray(), d.ExampleShape, targets, [10]);
        }
        var (train, test) = (OneHot(Digits.Train), OneHot(Digits.Test));
        var options = Options(epochs: 1) with
        {
            Step = Options().Step with { Gradient = Options().Step.Gradient with { Loss = LossKind.Mse } },
        };
        using var trainer = new Trainer(Mlp(), options);
        var evaluation = trainer.Fit(train, test)[^1].Test!;
        Assert.Null(evaluation.Accuracy);

        // Computed again from the exported model's outputs.
        using var runner = ModelRunner.FromBytes(trainer.ExportInferenceModel().ToBytes());
        var outputs = runner.Run([test.Features.WithName("input")])[0].Tensor!.ToDoubles();
        var targets = test.Labels.ToDoubles();
        var mse = outputs.Zip(targets).Average(z => (z.First - z.Second) * (z.First - z.Second));
        var mae = outputs.Zip(targets).Average(z => Math.Abs(z.First - z.Second));
        Assert.Equal(mse, evaluation.MeanSquaredError!.Value, 6);
        Assert.Equal(mae, evaluation.MeanAbsoluteError!.Value, 6);
        // PyTorch's mse is the mean over elements, as the loss here: the two agree.
        Assert.Equal(mse, evaluation.Loss, 5);

        // Class labels get accuracy and no regression errors.
        using var classifier = new Trainer(Mlp(), Options(epochs: 1));
        var classes = classifier.Fit(Digits.Train, Digits.Test)[^1].Test!;
        Assert.NotNull(classes.Accuracy);
        Assert.Null(classes.MeanSquaredError);
    }
}
