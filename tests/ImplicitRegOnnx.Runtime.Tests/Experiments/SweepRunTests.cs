using System.Text.Json;
using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Runtime.Data;
using ImplicitRegOnnx.Runtime.Experiments;
using ImplicitRegOnnx.TestSupport;
using ImplicitRegOnnx.Training;
using ImplicitRegOnnx.Runtime.Training;

namespace ImplicitRegOnnx.Runtime.Tests.Experiments;

/// <summary>A sweep as a C# app runs it, and the run-key contract that lets a sweep resume.</summary>
public sealed class SweepRunTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private static readonly Lazy<(Dataset Train, Dataset Test)> Digits = new(() => DigitsData.Load(TestPaths.Model("data/digits.csv.gz")));

    /// <summary>
    /// Finished runs are found again by their folder under runs/, named from the point's key: the names of the
    /// sweepable options, the key's spelling and the folder name must stay as they are, or a resumed sweep would
    /// not recognize its finished runs. (The expected strings are the contract, as sweeps of earlier versions wrote them.)
    /// </summary>
    [Fact]
    // A run key holds only the options its grid point sets, so an option added to the table (warmup-steps)
    // leaves the keys, and the folders, of existing sweeps as they were.
    public void TheRunKeyContractDoesNotChange()
    {
        Assert.Equal(["loss", "epochs", "batch-size", "lr", "lr-schedule", "warmup-steps", "coefficient", "lambda", "penalty", "microbatches", "optimizer", "seed", "max-steps", "keep-last"],
            SweepableOptions.Names);
        var point = new SweepPoint([KeyValuePair.Create("lr", "0.1"), KeyValuePair.Create("batch-size", "32"), KeyValuePair.Create("seed", "1"), KeyValuePair.Create("penalty", "none")]);
        Assert.Equal("batch-size=32 lr=0.1 penalty=none seed=1", point.Key);
        Assert.Equal("batch-size=32_lr=0.1_penalty=none_seed=1_8102c1f6", point.FolderName);   // 8102c1f6: SHA-256 of the key (hashlib)
    }

    private SweepOptions Options(params string[] lrs)
    {
        var (train, test) = Digits.Value;
        var points = SweepGrid.Expand(SweepGrid.Axes([KeyValuePair.Create("lr", (IReadOnlyList<string>)lrs)]));
        return new SweepOptions
        {
            Model = Model.Load(TestPaths.Model("mlp_tanh.onnx")),
            Train = train.Take(128),
            Test = test.Take(64),
            Experiments = [new SweepExperiment("", "accuracy against lr", "lr", "lr", LogX: true, [new SweepSeries("runs", points)])],
            PointOptions = p => new TrainerOptions
            {
                Step = new StepModelOptions
                {
                    Gradient = new GradientModelOptions { Loss = LossKind.CrossEntropy, Penalty = new PenaltyOptions { Mode = PenaltyMode.None } },
                    Optimizer = new OptimizerOptions { Kind = OptimizerKind.Sgd },
                },
                LearningRate = float.Parse(p["lr"]!, System.Globalization.CultureInfo.InvariantCulture),
                Epochs = 1,
                BatchSize = 32,
            },
            OutputDirectory = _temp.File("out"),
            Parallel = 1,
            Setup = new Dictionary<string, string>(StringComparer.Ordinal) { ["data"] = "digits" },
        };
    }

    [Fact]
    public void RunsEveryPointWritesTheResultsAndResumes()
    {
        var outcomes = new List<RunOutcome>();

        var result = SweepRun.Run(Options("0.05", "0.1"), (_, _, o) => outcomes.Add(o));

        Assert.Equal([RunOutcome.Ran, RunOutcome.Ran], outcomes);
        Assert.Equal(["lr=0.05", "lr=0.1"], result.Runs.Select(r => r.Key));
        Assert.All(result.Runs, r => Assert.Equal("ok", r.Status));
        var experiment = Assert.Single(result.Experiments);
        Assert.Equal(_temp.File("out"), experiment.Folder);
        Assert.Equal(2, experiment.Rows.Count);
        Assert.True(experiment.Plottable);
        foreach (var file in new[] { "results.csv", "results.jsonl", "summary.csv", "table.md", SweepRun.SetupFileName })
        {
            Assert.True(File.Exists(_temp.File("out/" + file)), file);
        }
        var setup = JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(_temp.File("out/" + SweepRun.SetupFileName)))!;
        Assert.Equal(("digits", "128", "64"), (setup["data"], setup["train_examples"], setup["test_examples"]));

        outcomes.Clear();
        var again = SweepRun.Run(Options("0.05", "0.1", "0.2"), (_, _, o) => outcomes.Add(o));
        Assert.Equal([RunOutcome.Skipped, RunOutcome.Skipped, RunOutcome.Ran], outcomes);
        Assert.Equal(result.Runs[0].ToJson(indented: true), again.Runs[0].ToJson(indented: true));   // read back, not retrained
    }

    [Fact]
    public void BadPointsAndAnotherSetupAreRefusedBeforeAnythingRuns()
    {
        var bad = Options("0.1") with { PointOptions = _ => new TrainerOptions { LearningRate = -1 } };
        var error = Assert.Throws<ImplicitRegException>(() => SweepRun.Run(bad));
        Assert.Equal("TrainerOptions.LearningRate", error.Parameter);
        Assert.StartsWith("sweep point lr=0.1: ", error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_temp.File("out/runs")));

        Assert.Equal("SweepOptions.ThreadsPerRun", Assert.Throws<ImplicitRegException>(() => SweepRun.Run(Options("0.1") with { ThreadsPerRun = 0 })).Parameter);

        SweepRun.Run(Options("0.1"));
        var other = Options("0.1") with { Setup = new Dictionary<string, string>(StringComparer.Ordinal) { ["data"] = "other" } };
        var refused = Assert.Throws<ImplicitRegException>(() => SweepRun.Run(other));
        Assert.Contains("another setup", refused.Message, StringComparison.Ordinal);
    }
}
