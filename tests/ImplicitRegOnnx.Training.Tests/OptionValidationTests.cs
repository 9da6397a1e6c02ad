using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.TestSupport;

namespace ImplicitRegOnnx.Training.Tests;

/// <summary>
/// Options are validated once, in the library, when a builder starts: a bad value is bad input whose
/// message and <see cref="ImplicitRegException.Parameter"/> name the API property (never a CLI flag).
/// </summary>
public class OptionValidationTests
{
    private static Model Mlp() => Model.Load(TestPaths.Model("mlp_tanh.onnx"));

    public static TheoryData<string, StepModelOptions, string> BadStepOptions() => new()
    {
        { "OptimizerOptions.Momentum", new StepModelOptions { Optimizer = new OptimizerOptions { Kind = OptimizerKind.Momentum, Momentum = 1.5 } }, "must be in [0, 1), got 1.5" },
        { "OptimizerOptions.WeightDecay", new StepModelOptions { Optimizer = new OptimizerOptions { WeightDecay = -1 } }, "must be a non-negative number, got -1" },
        { "OptimizerOptions.Nesterov", new StepModelOptions { Optimizer = new OptimizerOptions { Kind = OptimizerKind.Adam, Nesterov = true } }, "applies to the momentum optimizer only" },
        { "OptimizerOptions.Beta2", new StepModelOptions { Optimizer = new OptimizerOptions { Kind = OptimizerKind.Adam, Beta2 = 1 } }, "must be in [0, 1), got 1" },
        { "OptimizerOptions.Epsilon", new StepModelOptions { Optimizer = new OptimizerOptions { Kind = OptimizerKind.Adam, Epsilon = 0 } }, "must be a positive number, got 0" },
        { "StepModelOptions.Lambda", new StepModelOptions { Lambda = -0.5 }, "must be a non-negative number, got -0.5" },
        { "PenaltyOptions.Microbatches", new StepModelOptions { Gradient = new GradientModelOptions { Penalty = new PenaltyOptions { Microbatches = 0 } } }, "must be at least 1, got 0" },
    };

    [Theory]
    [MemberData(nameof(BadStepOptions))]
    public void StepModelBuilderRefusesABadValueNamingTheProperty(string parameter, StepModelOptions options, string problem)
    {
        var e = Assert.Throws<ImplicitRegException>(() => StepModelBuilder.Build(Mlp(), options));
        Assert.Equal(ErrorKind.BadInput, e.Kind);
        Assert.Equal(parameter, e.Parameter);
        Assert.StartsWith($"{parameter} {problem}", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("--", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GradientModelBuilderRefusesMicrobatchesOfZero()
    {
        var options = new GradientModelOptions { Penalty = new PenaltyOptions { Microbatches = 0 } };
        var e = Assert.Throws<ImplicitRegException>(() => GradientModelBuilder.Build(Mlp(), options));
        Assert.Equal("PenaltyOptions.Microbatches", e.Parameter);
        Assert.Equal("PenaltyOptions.Microbatches must be at least 1, got 0", e.Message);
    }

    [Theory]
    [InlineData("GradientModelOptions.Output")]
    [InlineData("GradientModelOptions.LossOutput")]
    public void AnOutputTheModelLacksIsNamedWithTheOutputsItHas(string parameter)
    {
        var options = parameter.EndsWith("LossOutput", StringComparison.Ordinal)
            ? new GradientModelOptions { LossOutput = "nosuch" }
            : new GradientModelOptions { Output = "nosuch" };
        var model = Mlp();
        foreach (var build in new Action[] { () => GradientModelBuilder.Build(model, options), () => EvalModelBuilder.Build(model, options) })
        {
            var e = Assert.Throws<ImplicitRegException>(build);
            Assert.Equal(ErrorKind.BadInput, e.Kind);
            Assert.Equal(parameter, e.Parameter);
            Assert.StartsWith($"{parameter} nosuch: the model has no output of that name; its outputs are {model.Graph.Outputs[0].Name}", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void ALossAndALossOutputContradictEachOther()
    {
        var options = new GradientModelOptions { Output = "logits" };
        Assert.Equal(options with { Loss = LossKind.Mse }, options.WithLoss(LossKind.Mse, null));
        Assert.Equal(options with { LossOutput = "my_loss" }, options.WithLoss(null, "my_loss"));
        Assert.Equal(options, options.WithLoss(null, null));

        var e = Assert.Throws<ImplicitRegException>(() => options.WithLoss(LossKind.Mse, "my_loss"));
        Assert.Equal(ErrorKind.BadInput, e.Kind);
        Assert.Equal("GradientModelOptions.Loss", e.Parameter);
        Assert.StartsWith("GradientModelOptions.Loss and GradientModelOptions.LossOutput contradict each other", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AMomentumGivenForAnotherOptimizerIsRefusedNamingBoth()
    {
        Assert.Equal(0.5, new OptimizerOptions { Kind = OptimizerKind.Momentum }.WithMomentum(0.5).Momentum);
        Assert.Equal(new OptimizerOptions { Kind = OptimizerKind.Adam }, new OptimizerOptions { Kind = OptimizerKind.Adam }.WithMomentum(null));

        var e = Assert.Throws<ImplicitRegException>(() => new OptimizerOptions { Kind = OptimizerKind.Sgd }.WithMomentum(0.9));
        Assert.Equal(ErrorKind.BadInput, e.Kind);
        Assert.Equal("OptimizerOptions.Momentum", e.Parameter);
        Assert.Equal("OptimizerOptions.Momentum 0.9: applies to the momentum optimizer only, but OptimizerOptions.Kind is Sgd", e.Message);
    }

    [Theory]
    [InlineData(0.1, null, 0.1)]
    [InlineData(null, 0.1, 0.025)]
    public void TheScaleIsGivenAsCOrAsLambda(double? coefficient, double? lambda, double c) =>
        Assert.Equal(new PenaltyOptions { Microbatches = 2, Coefficient = c }, new PenaltyOptions { Microbatches = 2 }.WithScale(coefficient, lambda));

    [Fact]
    public void BothScalesOrNoneWhereOneIsNeededAreRefusedNamingTheParameters()
    {
        var both = Assert.Throws<ImplicitRegException>(() => new PenaltyOptions().WithScale(0.1, 0.4));
        Assert.Equal(ErrorKind.BadInput, both.Kind);
        Assert.Equal("PenaltyOptions.Coefficient", both.Parameter);
        Assert.Equal("PenaltyOptions.Coefficient and StepModelOptions.Lambda both set the penalty's scale; give one of them (c = λ/4)", both.Message);

        var none = Assert.Throws<ImplicitRegException>(() => new PenaltyOptions { Mode = PenaltyMode.FiniteDifference }.WithScale(null, null));
        Assert.Equal("PenaltyOptions.Coefficient", none.Parameter);
        Assert.Contains("the penalty needs a scale: give PenaltyOptions.Coefficient c or StepModelOptions.Lambda λ", none.Message, StringComparison.Ordinal);

        // No penalty, or a scale that may be left out: c = 0.
        Assert.Equal(0, new PenaltyOptions { Mode = PenaltyMode.None }.WithScale(null, null).Coefficient);
        Assert.Equal(0, new PenaltyOptions().WithScale(null, null, required: false).Coefficient);
    }

    [Fact]
    public void FreezingEverythingNamesBothGlobLists()
    {
        var e = Assert.Throws<ImplicitRegException>(() => GradientModelBuilder.Build(Mlp(), new GradientModelOptions { Freeze = ["*"] }));
        Assert.Equal(ErrorKind.BadInput, e.Kind);
        Assert.Contains("GradientModelOptions.Trainable and GradientModelOptions.Freeze", e.Message, StringComparison.Ordinal);
    }
}
