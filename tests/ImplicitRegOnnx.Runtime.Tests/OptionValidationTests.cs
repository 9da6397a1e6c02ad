using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Runtime.Data;
using ImplicitRegOnnx.Runtime.Verification;
using ImplicitRegOnnx.TestSupport;
using ImplicitRegOnnx.Training;
using ImplicitRegOnnx.Runtime.Training;

namespace ImplicitRegOnnx.Runtime.Tests;

/// <summary>
/// The runtime's options are validated in the library: a bad value is bad input whose message and
/// <see cref="ImplicitRegException.Parameter"/> name the API property (never a CLI flag), before any work.
/// </summary>
public class OptionValidationTests
{
    private static Model Mlp() => Model.Load(TestPaths.Model("mlp_tanh.onnx"));

    private static void AssertBadParameter(ImplicitRegException e, string parameter, string problem)
    {
        Assert.Equal(ErrorKind.BadInput, e.Kind);
        Assert.Equal(parameter, e.Parameter);
        Assert.StartsWith($"{parameter} {problem}", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("--", e.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string, TrainerOptions, string> BadTrainerOptions() => new()
    {
        { "TrainerOptions.LearningRate", new TrainerOptions { LearningRate = 0 }, "must be a positive number, got 0" },
        { "TrainerOptions.BatchSize", new TrainerOptions { BatchSize = 0 }, "must be at least 1, got 0" },
        { "TrainerOptions.Epochs", new TrainerOptions { Epochs = -1 }, "must be at least 1, got -1" },
        { "TrainerOptions.MaxSteps", new TrainerOptions { MaxSteps = 0 }, "must be at least 1, got 0" },
        { "TrainerOptions.KeepCheckpoints", new TrainerOptions { KeepCheckpoints = 0 }, "must be at least 1, got 0" },
        { "TrainerOptions.Resume", new TrainerOptions { Resume = true }, "needs TrainerOptions.CheckpointDirectory" },
        { "OptimizerOptions.Momentum", new TrainerOptions { Step = new StepModelOptions { Optimizer = new OptimizerOptions { Kind = OptimizerKind.Momentum, Momentum = 1.5 } } }, "must be in [0, 1), got 1.5" },
    };

    [Theory]
    [MemberData(nameof(BadTrainerOptions))]
    public void TrainerRefusesABadValueNamingTheProperty(string parameter, TrainerOptions options, string problem) =>
        AssertBadParameter(Assert.Throws<ImplicitRegException>(() => new Trainer(Mlp(), options)), parameter, problem);

    [Fact]
    public void GradientCheckRefusesABatchTheMicrobatchesDoNotDivide()
    {
        var options = new GradientCheckOptions
        {
            Batch = 3,
            Gradient = new GradientModelOptions { Loss = LossKind.Mse, Penalty = new PenaltyOptions { Microbatches = 2 } },
        };
        AssertBadParameter(Assert.Throws<ImplicitRegException>(() => GradientCheck.Run(Mlp(), options)), "GradientCheckOptions.Batch",
            "3 is not divisible by PenaltyOptions.Microbatches 2");
        AssertBadParameter(Assert.Throws<ImplicitRegException>(() => GradientCheck.Run(Mlp(), options with { Batch = 2, Directions = 0 })),
            "GradientCheckOptions.Directions", "must be at least 1, got 0");
    }

    [Fact]
    public void FeedOptionsNamingAnInputTheModelLacksAreBadParameters()
    {
        var model = Mlp();
        AssertBadParameter(Assert.Throws<ImplicitRegException>(() => RandomFeeds.Create(model, new FeedOptions { Values = new Dictionary<string, double> { ["nosuch"] = 1 } })),
            "FeedOptions.Values", "nosuch: the model has no input named 'nosuch'");
        AssertBadParameter(Assert.Throws<ImplicitRegException>(() => RandomFeeds.Create(model, new FeedOptions { Shapes = new Dictionary<string, long[]> { [model.Graph.Inputs[0].Name] = [64] } })),
            "FeedOptions.Shapes", $"{model.Graph.Inputs[0].Name}: the model declares input '{model.Graph.Inputs[0].Name}' with rank 2");
    }

    [Fact]
    public void AnInputThatCannotBeFilledIsBadInputWithoutAParameter()
    {
        var graph = new Graph("g");
        graph.AddInput("x", new TensorType(ElementType.Float, null));
        var e = Assert.Throws<ImplicitRegException>(() => RandomFeeds.Create(new Model(graph)));
        Assert.Equal(ErrorKind.BadInput, e.Kind);
        Assert.Null(e.Parameter);
        Assert.Contains("FeedOptions.Shapes", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("whiten", "whiten: unknown normalization")]
    [InlineData("scale:-1", "scale:-1: the scale divisor is not a positive number")]
    [InlineData("minmax:3", "minmax:3: normalization 'minmax' takes no value")]
    public void UnknownNormalizationsAreBadParameters(string spec, string problem)
    {
        var train = Dataset.FromArrays([1f, 2f, 3f, 4f], [2], [0L, 1L]);
        AssertBadParameter(Assert.Throws<ImplicitRegException>(() => Normalization.Parse(spec, train)), "Normalization.Parse", problem);
    }
}
