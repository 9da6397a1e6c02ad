using System.Globalization;
using ImplicitRegOnnx.Runtime.Experiments;
using ImplicitRegOnnx.Runtime.Training;

namespace ImplicitRegOnnx.Runtime.Tests.Experiments;

public class SweepPresetsTests
{
    private static double Number(string? value) => double.Parse(value!, CultureInfo.InvariantCulture);

    [Theory]
    [InlineData("quick", 3)]
    [InlineData("full", 5)]
    public void EveryPointOfEveryExperimentParsesAsTrainOptions(string preset, int seeds)
    {
        var experiments = SweepPresets.Experiments(preset);

        Assert.Equal(["a-lr-sweep", "b-explicit-penalty", "c-batch-scaling", "d-microbatch-penalty", "e-full-batch"], experiments.Select(e => e.Name));
        foreach (var point in experiments.SelectMany(e => e.Points))
        {
            var options = TrainingSettings.Parse(point.Values).TrainerFor(classLabels: true);
            options.Validate();
            Assert.Equal(ImplicitRegOnnx.Training.OptimizerKind.Sgd, options.Step.Optimizer.Kind);
            Assert.Equal(LearningRateSchedule.Constant, options.Schedule);
            Assert.Equal(0, options.BatchSize % options.Step.Gradient.Penalty.Microbatches);
        }
        Assert.All(experiments.Take(4), e => Assert.All(e.Series, s => Assert.Equal(seeds, s.Points.Select(p => p["seed"]).Distinct().Count())));
    }

    [Fact]
    public void TheQuickPresetMeasuresWhatItsLabelsSay()
    {
        var experiments = SweepPresets.Experiments("quick").ToDictionary(e => e.Name[..1]);
        var setup = SweepPresets.Setup("quick");

        // c: ε/B is the same along the first series; ε is the same along the second.
        Assert.Single(experiments["c"].Series[0].Points.Select(p => Number(p["lr"]) / Number(p["batch-size"])).Distinct());
        Assert.Single(experiments["c"].Series[1].Points.Select(p => p["lr"]).Distinct());
        // d: the penalty's microbatches hold 32 examples, λ defaults to ε.
        Assert.All(experiments["d"].Series.SelectMany(s => s.Points).Where(p => p["penalty"] == "exact"),
            p => Assert.Equal(32, Number(p["batch-size"]) / Number(p["microbatches"])));
        // e: full batch, one microbatch: the penalty is (ε/4)||∇C||².
        Assert.All(experiments["e"].Points, p => Assert.Equal(setup.TrainSize, (int)Number(p["batch-size"])));
        Assert.All(experiments["e"].Points.Where(p => p["penalty"] == "exact"), p => Assert.Equal("1", p["microbatches"]));
        // b reuses a's runs for its plain series.
        Assert.Equal(experiments["a"].Points.Select(p => p.Key), experiments["b"].Series[0].Points.Select(p => p.Key));
    }

    [Fact]
    public void GivenSeedsReplaceThePresetsSeeds() =>
        Assert.All(SweepPresets.Experiments("quick", ["7"]).Take(4).SelectMany(e => e.Points), p => Assert.Equal("7", p["seed"]));

    [Fact]
    public void UnknownPresetsNameTheParameter()
    {
        var error = Assert.Throws<ImplicitRegException>(() => SweepPresets.Experiments("slow"));
        Assert.Equal("SweepFromFilesOptions.Preset", error.Parameter);
        Assert.Contains("quick, full", error.Message, StringComparison.Ordinal);
    }
}
