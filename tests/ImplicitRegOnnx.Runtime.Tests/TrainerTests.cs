using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Runtime.Data;
using ImplicitRegOnnx.TestSupport;
using ImplicitRegOnnx.Training;
using ImplicitRegOnnx.Runtime.Training;

namespace ImplicitRegOnnx.Runtime.Tests;

public class TrainerTests
{
    private static TrainerOptions Options(int epochs) => new()
    {
        Step = new StepModelOptions
        {
            Gradient = new GradientModelOptions
            {
                Loss = LossKind.CrossEntropy,
                Penalty = new PenaltyOptions { Coefficient = PenaltyOptions.CoefficientFromLambda(0.05), Microbatches = 2 },
            },
            Optimizer = new OptimizerOptions { Kind = OptimizerKind.Momentum },
        },
        LearningRate = 0.05f,
        Epochs = epochs,
        BatchSize = 32,
        Seed = 7,
    };

    [Fact]
    public void TrainsTheShippedMlpOnDigitsWellAboveChance()
    {
        var (train, test) = DigitsData.Load(TestPaths.Model("data/digits.csv.gz"));
        using var trainer = new Trainer(Model.Load(TestPaths.Model("mlp_tanh.onnx")), Options(epochs: 4));
        var before = trainer.Evaluate(test);
        var steps = 0;
        var epochs = trainer.Fit(train, test, onStep: _ => steps++);

        Assert.Equal(4, epochs.Count);
        Assert.Equal(4 * (train.Count / 32), steps);
        var after = epochs[^1].Test!;
        Assert.True(after.Accuracy > 0.85, $"test accuracy {after.Accuracy} (before training {before.Accuracy})");
        Assert.True(after.Loss < before.Loss);
        Assert.True(epochs[^1].Penalty > 0);

        // The exported inference model gives the trainer's predictions.
        var exported = trainer.ExportInferenceModel();
        Assert.DoesNotContain(exported.Graph.Inputs, v => v.Name == "target");
    }

    [Fact]
    public void SameSeedGivesBitIdenticalWeights()
    {
        var (train, _) = DigitsData.Load(TestPaths.Model("data/digits.csv.gz"));
        var small = train.Take(256);
        byte[][] Run()
        {
            using var trainer = new Trainer(Model.Load(TestPaths.Model("mlp_tanh.onnx")), Options(epochs: 2) with { Threads = 1 });
            trainer.Fit(small);
            return [.. trainer.ExportInferenceModel().Graph.Initializers.Select(v => v.Initializer!.RawBytes.ToArray())];
        }
        var a = Run();
        var b = Run();
        Assert.Equal(a.Length, b.Length);
        Assert.All(a.Zip(b), p => Assert.Equal(p.First, p.Second));
    }

    [Fact]
    public void DivergenceStopsWithTheStepNumber()
    {
        // A NaN in the fifth batch makes its loss NaN, like an overflow would (an infinite learning rate is refused up front).
        var (train, _) = DigitsData.Load(TestPaths.Model("data/digits.csv.gz"));
        var features = train.Take(320).FeatureValues.ToArray();
        features[(4 * 32 + 3) * train.FeaturesPerExample] = float.NaN;
        var poisoned = Dataset.FromArrays(features, train.ExampleShape, train.Take(320).Labels.ToInt64s());
        using var trainer = new Trainer(Model.Load(TestPaths.Model("mlp_tanh.onnx")), Options(epochs: 3) with { Seed = 0 });
        var error = Assert.Throws<TrainingDivergedException>(() => trainer.Fit(poisoned));
        Assert.Equal(ErrorKind.Diverged, error.Kind);
        Assert.Equal(trainer.Steps, error.Step);
        Assert.Contains("lower the learning rate", error.Message, StringComparison.Ordinal);
        Assert.Contains($"at step {error.Step}:", error.Message, StringComparison.Ordinal);
        Assert.Equal("TrainerOptions.LearningRate", Assert.Throws<ImplicitRegException>(() =>
            new Trainer(Model.Load(TestPaths.Model("mlp_tanh.onnx")), Options(epochs: 3) with { LearningRate = float.PositiveInfinity })).Parameter);
    }

    [Theory]
    [InlineData(10L)]
    [InlineData(-1L)]
    public void A_class_label_outside_the_models_classes_is_bad_input_before_any_step(long label)
    {
        // mlp_tanh scores 10 classes: a label of 10 (or -1) would make ONNX Runtime's gather fail mid-run.
        var (train, _) = DigitsData.Load(TestPaths.Model("data/digits.csv.gz"));
        var labels = train.Take(64).Labels.ToInt64s();
        labels[37] = label;
        var data = Dataset.FromArrays(train.Take(64).FeatureValues.ToArray(), train.ExampleShape, labels);
        using var trainer = new Trainer(Model.Load(TestPaths.Model("mlp_tanh.onnx")), Options(epochs: 1));
        var error = Assert.Throws<ImplicitRegException>(() => trainer.Fit(data));
        Assert.Equal(ErrorKind.BadInput, error.Kind);
        Assert.Contains($"holds the class label {label} (example 37) but the model scores 10 classes; labels must be 0 to 9", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, trainer.Steps);
    }

    [Fact]
    public void Batches_that_do_not_split_into_the_microbatches_are_refused_naming_the_option()
    {
        // The penalty slices every batch into n equal parts (B / n each); a remainder would silently miss the penalty.
        var model = Model.Load(TestPaths.Model("mlp_tanh.onnx"));
        var uneven = Assert.Throws<ImplicitRegException>(() => new Trainer(model, Options(epochs: 1) with { BatchSize = 33 }));
        Assert.Equal("PenaltyOptions.Microbatches", uneven.Parameter);
        Assert.Contains("does not divide TrainerOptions.BatchSize = 33", uneven.Message, StringComparison.Ordinal);
        var none = Options(epochs: 1) with { BatchSize = 33 };
        none = none with { Step = none.Step with { Gradient = none.Step.Gradient with { Penalty = new PenaltyOptions { Mode = PenaltyMode.None, Microbatches = 2 } } } };
        using (new Trainer(model, none))
        {
        }

        // 100 examples in batches of 32 keep a last batch of 4: fine for n = 2; 36 examples leave 4 as well, 35 leave 3.
        var (train, _) = DigitsData.Load(TestPaths.Model("data/digits.csv.gz"));
        using var trainer = new Trainer(model, Options(epochs: 1) with { KeepLast = true, MaxSteps = 1 });
        trainer.Fit(train.Take(100));
        var last = Assert.Throws<ImplicitRegException>(() => trainer.Fit(train.Take(35)));
        Assert.Equal("TrainerOptions.KeepLast", last.Parameter);
        Assert.Contains("last batch of 3 examples", last.Message, StringComparison.Ordinal);
    }
}
