using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Runtime.Data;
using ImplicitRegOnnx.Runtime.Experiments;
using ImplicitRegOnnx.TestSupport;
using ImplicitRegOnnx.Training;
using ImplicitRegOnnx.Runtime.Training;

namespace ImplicitRegOnnx.Runtime.Tests.Experiments;

public class ExperimentRunTests
{
    private static readonly Lazy<(Dataset Train, Dataset Test)> Digits = new(() => DigitsData.Load(TestPaths.Model("data/digits.csv.gz")));

    private static GradientModelOptions CrossEntropy => new() { Loss = LossKind.CrossEntropy, Penalty = new PenaltyOptions { Mode = PenaltyMode.None } };

    private static TrainerOptions Options(float lr, PenaltyMode mode = PenaltyMode.None) => new()
    {
        Step = new StepModelOptions
        {
            Gradient = CrossEntropy with { Penalty = new PenaltyOptions { Mode = mode, Coefficient = lr / 4, Microbatches = 1 } },
            Optimizer = new OptimizerOptions { Kind = OptimizerKind.Sgd },
        },
        LearningRate = lr,
        Epochs = 3,
        BatchSize = 32,
        Seed = 1,
        Threads = 1,
    };

    private static SweepPoint Point(string lr) => new([KeyValuePair.Create("lr", lr)]);

    [Fact]
    public void FullBatchNormIsTheNormOfTheMeanOfTheMinibatchGradients()
    {
        var model = Model.Load(TestPaths.Model("mlp_tanh.onnx"));
        var data = Digits.Value.Train.Take(256);

        var whole = GradientStatistics.Measure(model, CrossEntropy, data, batchSize: 256);
        var split = GradientStatistics.Measure(model, CrossEntropy, data, batchSize: 32);
        var evaluated = GradientEvaluator.Evaluate(GradientModelBuilder.Build(model, CrossEntropy),
            new Dictionary<string, Tensor> { ["input"] = data.Features.WithName("input"), ["target"] = data.Labels.WithName("target") }, microbatches: 1);
        var direct = evaluated.Where(p => p.Key.StartsWith("grad/", StringComparison.Ordinal)).Sum(p => p.Value.ToDoubles().Sum(v => v * v));

        Assert.Equal((1, 8), (whole.Minibatches, split.Minibatches));
        // float32 gradients summed in float64: agreement to float32 rounding, relative.
        Assert.Equal(1, whole.FullBatch / direct, 4);
        Assert.Equal(whole.FullBatch, whole.MeanMinibatch, 12);
        Assert.Equal(1, split.FullBatch / whole.FullBatch, 4);
        // Jensen: the mean of squared norms exceeds the squared norm of the mean (the minibatch gradients differ).
        Assert.True(split.MeanMinibatch > split.FullBatch * 1.01, $"{split.MeanMinibatch} vs {split.FullBatch}");
    }

    [Fact]
    public void ARunRecordsFinalAndBestAccuracyLossAndGradientNorms()
    {
        var (train, test) = Digits.Value;
        var result = ExperimentRun.Execute(Point("0.1"), Model.Load(TestPaths.Model("mlp_tanh.onnx")), train, test, Options(0.1f, PenaltyMode.Exact));

        Assert.Equal("ok", result.Status);
        Assert.Equal(3, result.Epochs);
        Assert.Equal(3 * (train.Count / 32), result.Steps);
        Assert.Equal(3, result.TestAccuracyByEpoch.Count);
        Assert.Equal(result.TestAccuracyByEpoch[^1], result.FinalTestAccuracy);
        Assert.Equal(result.TestAccuracyByEpoch.Max(), result.BestTestAccuracy);
        Assert.Equal(result.BestTestAccuracy, result.TestAccuracyByEpoch[result.BestEpoch - 1]);
        Assert.True(result.FinalTestAccuracy > 0.5, $"accuracy {result.FinalTestAccuracy}");
        Assert.True(result.TrainLoss is > 0 and < 2.3, $"train loss {result.TrainLoss}");
        Assert.True(result.Penalty > 0);
        Assert.True(result.MeanMinibatchGradNormSq > result.FullBatchGradNormSq && result.FullBatchGradNormSq > 0);
    }

    [Fact]
    public void ADivergingRunIsAResultNotAnError()
    {
        // A NaN in one example makes the loss of its batch NaN in the first epoch, like an overflow would.
        var (train, test) = Digits.Value;
        var features = train.FeatureValues.ToArray();
        features[5] = float.NaN;
        var poisoned = Dataset.FromArrays(features, train.ExampleShape, train.Labels.ToInt64s());
        var result = ExperimentRun.Execute(Point("0.1"), Model.Load(TestPaths.Model("mlp_tanh.onnx")), poisoned, test, Options(0.1f));

        Assert.True(result.Diverged, result.ToJson());
        Assert.Contains("not finite", result.Message, StringComparison.Ordinal);
        Assert.True(double.IsNaN(result.FinalTestAccuracy));
        Assert.Equal(0, result.Epochs);
    }
}
