using ImplicitRegOnnx.Runtime.Experiments;
using ImplicitRegOnnx.Runtime.Training;
using ImplicitRegOnnx.Training;

namespace ImplicitRegOnnx.Runtime.Tests;

/// <summary>The one table of training settings in textual form that train's options and sweep points go through.</summary>
public class TrainingSettingsTests
{
    private static TrainingSettings Parse(params (string Name, string Value)[] values) =>
        TrainingSettings.Parse(values.ToDictionary(v => v.Name, v => v.Value, StringComparer.Ordinal));

    [Fact]
    public void TheTableIsTheSweepRunKeyContractAndEveryParameterIsAnApiName()
    {
        Assert.Equal(SweepableOptions.Names, TrainingSettings.Names);
        Assert.All(TrainingSettings.Table, s => Assert.Matches(@"^[A-Za-z]+Options\.[A-Za-z]+$", s.Parameter));
        Assert.Equal(TrainingSettings.Names.Count, TrainingSettings.Names.Distinct().Count());
    }

    [Fact]
    public void DefaultsAreTrainsDefaults()
    {
        var settings = Parse();
        var o = settings.Trainer;
        Assert.Null(settings.Loss);
        Assert.Equal((30, 32, 0.05f, LearningRateSchedule.Constant, 0L, 0UL, (long?)null, false), (o.Epochs, o.BatchSize, o.LearningRate, o.Schedule, o.WarmupSteps, o.Seed, o.MaxSteps, o.KeepLast));
        Assert.Equal((PenaltyMode.Exact, 2, OptimizerKind.Momentum), (o.Step.Gradient.Penalty.Mode, o.Step.Gradient.Penalty.Microbatches, o.Step.Optimizer.Kind));
        // No scale given: λ follows ε, c = ε/4 at the base rate and the trainer feeds c(t) = ε(t)/4.
        Assert.Equal(0.05f, (float)o.Step.Lambda!.Value);
        Assert.Equal(PenaltyOptions.CoefficientFromLambda(0.05f), o.Step.Gradient.Penalty.Coefficient);
        Assert.Null(o.PenaltyCoefficient);
        Assert.Equal(LossKind.CrossEntropy, settings.TrainerFor(classLabels: true).Step.Gradient.Loss);
        Assert.Equal(LossKind.Mse, settings.TrainerFor(classLabels: false).Step.Gradient.Loss);
    }

    [Fact]
    public void EverySettingParses()
    {
        var settings = Parse(("loss", "l1"), ("epochs", "7"), ("batch-size", "64"), ("lr", "0.2"), ("lr-schedule", "cosine"), ("warmup-steps", "5"),
            ("penalty", "finite-difference"), ("microbatches", "4"), ("optimizer", "adam"), ("seed", "9"), ("max-steps", "100"), ("keep-last", "true"), ("lambda", "0.4"));
        var o = settings.Trainer;
        Assert.Equal(LossKind.L1, settings.Loss);
        Assert.Equal(LossKind.L1, settings.TrainerFor(classLabels: true).Step.Gradient.Loss);
        Assert.Equal((7, 64, 0.2f, LearningRateSchedule.Cosine, 5L, 9UL, (long?)100, true), (o.Epochs, o.BatchSize, o.LearningRate, o.Schedule, o.WarmupSteps, o.Seed, o.MaxSteps, o.KeepLast));
        Assert.Equal((PenaltyMode.FiniteDifference, 4, OptimizerKind.Adam), (o.Step.Gradient.Penalty.Mode, o.Step.Gradient.Penalty.Microbatches, o.Step.Optimizer.Kind));
        Assert.Equal(0.4, o.Step.Lambda);
        Assert.Equal(0.1, o.PenaltyCoefficient!.Value, 15);
        Assert.Equal(0.1, o.Step.Gradient.Penalty.Coefficient, 15);

        var fixedC = Parse(("coefficient", "0.3")).Trainer;
        Assert.Equal(0.3, fixedC.PenaltyCoefficient);
        Assert.Equal(0.3, fixedC.Step.Gradient.Penalty.Coefficient);
        Assert.Null(fixedC.Step.Lambda);
        Assert.Equal(LearningRateSchedule.Step, Parse(("lr-schedule", "step")).Trainer.Schedule);
        Assert.False(Parse(("keep-last", "false")).Trainer.KeepLast);
    }

    [Theory]
    [InlineData("lr", "abc", "TrainerOptions.LearningRate")]
    [InlineData("epochs", "2.5", "TrainerOptions.Epochs")]
    [InlineData("batch-size", "x", "TrainerOptions.BatchSize")]
    [InlineData("lr-schedule", "wavy", "TrainerOptions.Schedule")]
    [InlineData("warmup-steps", "-", "TrainerOptions.WarmupSteps")]
    [InlineData("coefficient", "big", "TrainerOptions.PenaltyCoefficient")]
    [InlineData("lambda", "1e", "StepModelOptions.Lambda")]
    [InlineData("penalty", "approximate", "PenaltyOptions.Mode")]
    [InlineData("microbatches", "two", "PenaltyOptions.Microbatches")]
    [InlineData("optimizer", "rmsprop", "OptimizerOptions.Kind")]
    [InlineData("seed", "-1", "TrainerOptions.Seed")]
    [InlineData("max-steps", "many", "TrainerOptions.MaxSteps")]
    [InlineData("keep-last", "yes", "TrainerOptions.KeepLast")]
    [InlineData("loss", "hinge", "GradientModelOptions.Loss")]
    public void BadValuesNameTheParameterAndTheValue(string name, string value, string parameter)
    {
        var error = Assert.Throws<ImplicitRegException>(() => Parse((name, value)));
        Assert.Equal(ErrorKind.BadInput, error.Kind);
        Assert.Equal(parameter, error.Parameter);
        Assert.StartsWith($"{parameter} {value}: ", error.Message, StringComparison.Ordinal);
        Assert.Equal(parameter, TrainingSettings.Find(name)!.Parameter);
    }

    [Fact]
    public void UnknownNamesAndTwoScalesAreRefused()
    {
        var unknown = Assert.Throws<ImplicitRegException>(() => Parse(("momentum", "0.9")));
        Assert.Contains("'momentum' is not a training setting", unknown.Message, StringComparison.Ordinal);
        var both = Assert.Throws<ImplicitRegException>(() => Parse(("coefficient", "0.1"), ("lambda", "0.4")));
        Assert.Equal("TrainerOptions.PenaltyCoefficient", both.Parameter);
        Assert.Contains("StepModelOptions.Lambda", both.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ValuesAreCheckedByValidateNotByParse()
    {
        var options = Parse(("lr", "-1")).Trainer;
        Assert.Equal(-1f, options.LearningRate);
        Assert.Equal("TrainerOptions.LearningRate", Assert.Throws<ImplicitRegException>(options.Validate).Parameter);
    }

    [Fact]
    public void MonitorScheduleAndDeviceParse()
    {
        Assert.Equal(((string?)null, MonitorMode.Auto), TrainingSettings.ParseMonitor(null));
        Assert.Equal(("test_loss", MonitorMode.Auto), TrainingSettings.ParseMonitor("test_loss"));
        Assert.Equal(("train_loss", MonitorMode.Max), TrainingSettings.ParseMonitor("train_loss:max"));
        Assert.Equal(("test_accuracy", MonitorMode.Min), TrainingSettings.ParseMonitor("test_accuracy:min"));
        foreach (var bad in new[] { "test_loss:up", "a:min:max" })
        {
            var error = Assert.Throws<ImplicitRegException>(() => TrainingSettings.ParseMonitor(bad));
            Assert.Equal("TrainerOptions.Monitor", error.Parameter);
            Assert.Contains(bad, error.Message, StringComparison.Ordinal);
        }
        Assert.Equal(LearningRateSchedule.Cosine, TrainingSettings.ParseSchedule("cosine"));
        Assert.Equal("X.Y", Assert.Throws<ImplicitRegException>(() => TrainingSettings.ParseSchedule("linear", "X.Y")).Parameter);
        Assert.Equal(new Device(DeviceKind.Cuda, 1), TrainingSettings.ParseDevice("cuda:1"));
        Assert.Equal(Device.Cpu, TrainingSettings.ParseDevice("cpu"));
        var device = Assert.Throws<ImplicitRegException>(() => TrainingSettings.ParseDevice("tpu", "BenchOptions.Device"));
        Assert.Equal("BenchOptions.Device tpu: use auto, cpu, cuda or cuda:N", device.Message);
    }
}
