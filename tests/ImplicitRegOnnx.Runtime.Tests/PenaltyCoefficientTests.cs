using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Runtime.Data;
using ImplicitRegOnnx.TestSupport;
using ImplicitRegOnnx.Training;
using ImplicitRegOnnx.Runtime.Training;

namespace ImplicitRegOnnx.Runtime.Tests;

/// <summary>The penalty coefficient c is fed at run time: the step's objective is C + c·R for the c fed.</summary>
public class PenaltyCoefficientTests
{
    private const double Unit = 1.0 / (1 << 24); // float32 unit roundoff

    /// <summary>
    /// |objective − (loss + c·penalty)| allowed: objective = fl(C + fl(c·R)) is two float32 roundings of values
    /// no larger than |objective| and |c·R|, and the loss and penalty outputs are those same C and R; 4u of the
    /// magnitudes leaves room for ONNX Runtime computing C once more in the objective's path.
    /// </summary>
    private static double Bound(StepMetrics m, double c) => 4 * Unit * (Math.Abs(m.Objective) + Math.Abs(m.Loss) + Math.Abs(c * m.Penalty));

    private static (Dataset Train, Model Model) Digits()
    {
        var (train, _) = DigitsData.Load(TestPaths.Model("data/digits.csv.gz"));
        return (train.Take(320), Model.Load(TestPaths.Model("mlp_tanh.onnx")));
    }

    [Fact]
    public void TheObjectiveFollowsTheFedCoefficientAndZeroGivesTheLoss()
    {
        var (train, model) = Digits();
        var step = StepModelBuilder.Build(model, new StepModelOptions
        {
            Gradient = new GradientModelOptions { Loss = LossKind.CrossEntropy, Penalty = new PenaltyOptions { Coefficient = 0.25, Microbatches = 2 } },
        });
        var (x, y) = train.GetRange(0, 32);
        var batch = new Dictionary<string, Tensor> { ["input"] = x.WithName("input"), ["target"] = y.WithName("target") };
        // Each session starts from the same weights, so every step sees the same loss and penalty.
        StepMetrics Run(float? c)
        {
            using var session = new StepSession(step);
            return session.Step(batch, 0.05f, c);
        }
        var unfed = Run(null);
        var zero = Run(0f);
        var big = Run(3f);
        Assert.True(unfed.Penalty > 0);
        Assert.Equal(zero.Loss, zero.Objective); // C + 0·R is C exactly
        Assert.Equal(unfed.Loss, zero.Loss);
        Assert.True(Math.Abs(unfed.Objective - (unfed.Loss + (0.25 * unfed.Penalty))) <= Bound(unfed, 0.25), $"default c: {unfed}");
        Assert.True(Math.Abs(big.Objective - (big.Loss + (3 * big.Penalty))) <= Bound(big, 3), $"c = 3: {big}");
    }

    private static TrainerOptions Cosine(double? coefficient) => new()
    {
        Step = new StepModelOptions
        {
            Gradient = new GradientModelOptions { Loss = LossKind.CrossEntropy, Penalty = new PenaltyOptions { Microbatches = 2 } },
            Optimizer = new OptimizerOptions { Kind = OptimizerKind.Sgd },
        },
        LearningRate = 0.4f,
        Schedule = LearningRateSchedule.Cosine,
        Epochs = 2,
        BatchSize = 32,
        Threads = 1,
        PenaltyCoefficient = coefficient,
    };

    [Fact]
    public void WithoutLambdaACosineScheduleFeedsAQuarterOfTheScheduledRate()
    {
        var (train, model) = Digits();
        var events = new List<StepEvent>();
        using (var trainer = new Trainer(model, Cosine(null)))
        {
            trainer.Fit(train, onStep: events.Add);
        }
        Assert.Equal(20, events.Count);
        Assert.True(events[0].LearningRate > 10 * events[^1].LearningRate, "the cosine schedule should fall by more than 10x");
        foreach (var e in events)
        {
            Assert.Equal((float)(e.LearningRate / 4.0), e.PenaltyCoefficient);
            // What the step model computed: objective − loss = c(t)·penalty with the c(t) the trainer reports.
            Assert.True(e.Metrics.Penalty > 0);
            Assert.True(Math.Abs(e.Metrics.Objective - (e.Metrics.Loss + (e.PenaltyCoefficient * (double)e.Metrics.Penalty))) <= Bound(e.Metrics, e.PenaltyCoefficient),
                $"step {e.Step}: lr {e.LearningRate}, c {e.PenaltyCoefficient}, {e.Metrics}");
        }
    }

    [Fact]
    public void AnExplicitCoefficientIsFedAtEveryStepAndZeroTrainsOnTheLossAlone()
    {
        var (train, model) = Digits();
        var events = new List<StepEvent>();
        using (var trainer = new Trainer(model, Cosine(0.0)))
        {
            trainer.Fit(train, onStep: events.Add);
        }
        Assert.All(events, e => Assert.Equal(0f, e.PenaltyCoefficient));
        Assert.All(events, e => Assert.Equal(e.Metrics.Loss, e.Metrics.Objective));

        events.Clear();
        using (var trainer = new Trainer(model, Cosine(0.3)))
        {
            trainer.Fit(train, onStep: events.Add);
        }
        Assert.All(events, e => Assert.Equal(0.3f, e.PenaltyCoefficient));
        Assert.All(events, e => Assert.True(Math.Abs(e.Metrics.Objective - (e.Metrics.Loss + (0.3f * (double)e.Metrics.Penalty))) <= Bound(e.Metrics, 0.3f), $"step {e.Step}"));
    }

    [Fact]
    public void ACoefficientInTheStepOptionsThatTheTrainerWouldNotFeedIsRefused()
    {
        var options = Cosine(null) with
        {
            Step = Cosine(null).Step with { Gradient = Cosine(null).Step.Gradient with { Penalty = new PenaltyOptions { Coefficient = 0.3 } } },
        };
        var error = Assert.Throws<ImplicitRegException>(options.Validate);
        Assert.Equal("PenaltyOptions.Coefficient", error.Parameter);
        Assert.Contains("TrainerOptions.PenaltyCoefficient", error.Message, StringComparison.Ordinal);
        // The coefficient of the base rate (what callers set before c was fed) is consistent and accepted.
        (options with { Step = options.Step with { Gradient = options.Step.Gradient with { Penalty = new PenaltyOptions { Coefficient = 0.1 } } } }).Validate();
    }
}
