using ImplicitRegOnnx.Runtime.Experiments;
using ImplicitRegOnnx.TestSupport;

namespace ImplicitRegOnnx.Runtime.Tests.Experiments;

/// <summary>The sweep entry point of <c>implicitreg sweep</c>: every option and point checked before a file is read.</summary>
public sealed class SweepFromFilesTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private static string Slice(string name) => Path.Combine(TestPaths.Models, "data", "fashion-mnist-slice", name);

    private SweepFromFilesOptions Grid(params (string Name, string Values)[] lists) => new()
    {
        ModelPath = TestPaths.Model("mlp_relu.onnx"),
        DataPath = Slice("train-images-idx3-ubyte.gz"),
        TestDataPath = Slice("t10k-images-idx3-ubyte.gz"),
        Normalize = "scale",
        TrainSize = 64,
        TestSize = 50,
        OutputDirectory = _temp.File("out"),
        Lists = SweepGrid.SplitLists(lists.Select(l => KeyValuePair.Create(l.Name, l.Values))),
    };

    private static ImplicitRegException Refused(SweepFromFilesOptions options) =>
        Assert.Throws<ImplicitRegException>(() => SweepRun.FromFiles(options));

    [Fact]
    public void AGridBecomesOneExperimentWithASeriesPerOtherListedSetting()
    {
        var experiment = Assert.Single(Grid(("lr", "0.05,0.1"), ("penalty", "none,exact"), ("seed", "1,2")).BuildExperiments());
        Assert.Equal("lr", experiment.XOption);
        Assert.Equal(["penalty = none", "penalty = exact"], experiment.Series.Select(s => s.Label));
        Assert.All(experiment.Series, s => Assert.Equal(4, s.Points.Count));
        var zipped = Assert.Single((Grid(("batch-size", "16,32"), ("lr", "0.05,0.1")) with { Zip = SweepGrid.SplitZip(["--batch-size,lr"]), PlotX = "batch-size" }).BuildExperiments());
        Assert.Equal(["batch-size=16 lr=0.05", "batch-size=32 lr=0.1"], zipped.Points.Select(p => p.Key));
        Assert.Equal("batch-size", zipped.XOption);
    }

    [Fact]
    public void BadPointsOptionsAndMissingFilesAreRefusedBeforeAnythingIsWritten()
    {
        var point = Refused(Grid(("lr", "0.1,abc")));
        Assert.Equal("TrainerOptions.LearningRate", point.Parameter);
        Assert.StartsWith("sweep point lr=abc: TrainerOptions.LearningRate abc: not a number", point.Message, StringComparison.Ordinal);
        Assert.Equal("TrainerOptions.BatchSize: '32,,64' has an empty item; separate values with single commas",
            Assert.Throws<ImplicitRegException>(() => Grid(("batch-size", "32,,64"))).Message);
        Assert.StartsWith("SweepFromFilesOptions.Zip: ", Refused(Grid(("lr", "0.1,0.2"), ("seed", "1,2,3")) with { Zip = [["lr", "seed"]] }).Message, StringComparison.Ordinal);
        Assert.Equal("SweepFromFilesOptions.PlotX", Refused(Grid(("lr", "0.1")) with { PlotX = "epochs" }).Parameter);
        Assert.Equal("SweepFromFilesOptions.TestDataPath", Refused(Grid(("lr", "0.1")) with { TestDataPath = null }).Parameter);
        Assert.Equal("SweepFromFilesOptions.Experiments", Refused(Grid(("lr", "0.1")) with { Experiments = ["a"] }).Parameter);
        Assert.Equal("SweepFromFilesOptions.TrainSize", Refused(Grid(("lr", "0.1")) with { TrainSize = 0 }).Parameter);
        Assert.Equal("SweepFromFilesOptions.Lists", Refused(Grid(("momentum", "0.9"))).Parameter);
        var missing = Refused(Grid(("lr", "0.1")) with { DataPath = _temp.File("none.gz") });
        Assert.Equal($"{_temp.File("none.gz")}: no such file (SweepFromFilesOptions.DataPath)", missing.Message);
        Assert.False(Directory.Exists(_temp.File("out")));
    }

    [Fact]
    public void PresetsFixEverythingButSeedsAndSelectExperiments()
    {
        var preset = new SweepFromFilesOptions { Preset = "quick", OutputDirectory = _temp.File("p") };
        Assert.Equal(["a-lr-sweep", "c-batch-scaling"], (preset with { Experiments = ["a", "c-batch-scaling"] }).BuildExperiments().Select(e => e.Name));
        var seeds = preset with { Lists = [KeyValuePair.Create("seed", (IReadOnlyList<string>)["7"])] };
        Assert.All(seeds.BuildExperiments().Take(4).SelectMany(e => e.Points), p => Assert.Equal("7", p["seed"]));

        var fixedByPreset = Assert.Throws<ImplicitRegException>(() => (preset with { Lists = [KeyValuePair.Create("lr", (IReadOnlyList<string>)["0.1"])] }).BuildExperiments());
        Assert.Equal("TrainerOptions.LearningRate", fixedByPreset.Parameter);
        Assert.Contains("a preset fixes the training options", fixedByPreset.Message, StringComparison.Ordinal);
        Assert.Equal("SweepFromFilesOptions.Preset", Assert.Throws<ImplicitRegException>(() => (preset with { Preset = "slow" }).BuildExperiments()).Parameter);
        var unknown = Assert.Throws<ImplicitRegException>(() => (preset with { Experiments = ["f"] }).BuildExperiments());
        Assert.Contains("no experiment f; use a, b, c, d, e", unknown.Message, StringComparison.Ordinal);
        // The presets' data is Debian's Fashion-MNIST: where it is missing, the error says how to get it.
        if (!Directory.Exists(SweepPresets.FashionMnist))
        {
            Assert.Contains("apt-get install dataset-fashion-mnist", Refused(preset with { ModelPath = TestPaths.Model("mlp_relu.onnx") }).Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void RunsTheGridOnTheFilesAndReportsTheStartAndEachRun()
    {
        SweepOptions? started = null;
        var runs = new List<string>();
        var result = SweepRun.FromFiles(Grid(("lr", "0.05,0.1"), ("epochs", "1"), ("optimizer", "sgd"), ("penalty", "none")),
            new SweepCallbacks { Start = s => started = s, Run = (p, _, _) => runs.Add(p.Key) });

        Assert.NotNull(started);
        Assert.Equal((64, 50), (started.Train.Count, started.Test.Count));
        Assert.Equal("scale", started.Setup["normalize"]);
        Assert.Equal(2, runs.Count);
        Assert.All(result.Runs, r => Assert.Equal("ok", r.Status));
        Assert.True(File.Exists(_temp.File("out/results.csv")));
    }
}
