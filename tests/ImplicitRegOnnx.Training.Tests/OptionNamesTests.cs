using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Training;
using Xunit;

namespace ImplicitRegOnnx.Training.Tests;

public sealed class OptionNamesTests
{
    [Fact]
    public void Every_listed_name_parses_and_round_trips()
    {
        foreach (var name in OptionNames.Losses)
        {
            Assert.Equal(name, OptionNames.NameOf(OptionNames.ParseLoss(name)));
        }
        foreach (var name in OptionNames.PenaltyModes)
        {
            Assert.Equal(name, OptionNames.NameOf(OptionNames.ParsePenaltyMode(name)));
        }
        Assert.Equal([OptimizerKind.Sgd, OptimizerKind.Momentum, OptimizerKind.Adam], OptionNames.Optimizers.Select(n => OptionNames.ParseOptimizer(n)));
        Assert.Equal(PenaltyMode.FiniteDifference, OptionNames.ParsePenaltyMode("fd"));
        Assert.Equal(LossKind.CrossEntropy, OptionNames.ParseLoss("ce"));
    }

    [Fact]
    public void An_unknown_name_is_bad_input_naming_the_parameter_and_the_choices()
    {
        var e = Assert.Throws<ImplicitRegException>(() => OptionNames.ParseOptimizer("rmsprop", "TrainerSettings.Optimizer"));
        Assert.Equal(ErrorKind.BadInput, e.Kind);
        Assert.Equal("TrainerSettings.Optimizer", e.Parameter);
        Assert.Equal("TrainerSettings.Optimizer rmsprop: unknown optimizer; use one of sgd, momentum, adam", e.Message);
        var loss = Assert.Throws<ImplicitRegException>(() => OptionNames.ParseLoss("hinge"));
        Assert.Equal("GradientModelOptions.Loss", loss.Parameter);
        Assert.Contains("cross-entropy, mse, bce-with-logits, l1, nll", loss.Message, StringComparison.Ordinal);
        Assert.Equal("PenaltyOptions.Mode", Assert.Throws<ImplicitRegException>(() => OptionNames.ParsePenaltyMode("Exact")).Parameter);
    }
}
