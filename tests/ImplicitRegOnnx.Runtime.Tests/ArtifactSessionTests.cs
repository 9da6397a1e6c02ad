using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Runtime.Data;
using ImplicitRegOnnx.Runtime.Verification;
using ImplicitRegOnnx.TestSupport;
using ImplicitRegOnnx.Training;

namespace ImplicitRegOnnx.Runtime.Tests;

public sealed class ArtifactSessionTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private static readonly StepModelOptions StepOptions = new()
    {
        Gradient = new GradientModelOptions
        {
            Loss = LossKind.CrossEntropy,
            Penalty = new PenaltyOptions { Coefficient = 0.0125, Microbatches = 2 },
        },
        Optimizer = new OptimizerOptions { Kind = OptimizerKind.Momentum },
    };

    /// <summary>Writes the files convert writes (M.train.onnx, M.init.onnx, M.eval.onnx) and returns the step model built in memory.</summary>
    private StepModel WriteArtifacts(string stem, bool eval = true)
    {
        var inference = Model.Load(TestPaths.Model("mlp_tanh.onnx"));
        var step = StepModelBuilder.Build(inference, StepOptions);
        step.Model.Save(_temp.File(stem + ".train.onnx"));
        ModelExport.InitialStateModel(step).Save(_temp.File(stem + ".init.onnx"));
        if (eval)
        {
            EvalModelBuilder.Build(inference, StepOptions.Gradient).Save(_temp.File(stem + ".eval.onnx"));
        }
        return step;
    }

    private static IReadOnlyDictionary<string, Tensor> Batch(int start, int count = 32)
    {
        var (train, _) = DigitsData.Load(TestPaths.Model("data/digits.csv.gz"));
        var (x, y) = train.GetRange(start, count);
        return new Dictionary<string, Tensor> { ["input"] = x.WithName("input"), [GradientModelBuilder.Target] = y.WithName(GradientModelBuilder.Target) };
    }

    [Fact]
    public void StepsOverTheFilesAreThoseOfTheStepModelBuiltInMemory()
    {
        var built = WriteArtifacts("m");
        var artifacts = TrainingArtifacts.Load(_temp.File("m.train.onnx"));
        Assert.Equal(built.Parameters, artifacts.Step.Parameters);
        Assert.Equal(built.InitialState.Keys, artifacts.Step.InitialState.Keys);
        Assert.All(built.InitialState, p => Assert.True(p.Value.ContentEquals(artifacts.Step.InitialState[p.Key]), p.Key));
        Assert.NotNull(artifacts.Eval);
        Assert.Equal(LossKind.CrossEntropy, artifacts.Loss);
        Assert.Equal(0.0125, artifacts.BuiltInCoefficient);

        using var fromFiles = new ArtifactSession(artifacts);
        using var inMemory = new StepSession(built);
        for (var i = 0; i < 4; i++)
        {
            var batch = Batch(32 * i);
            Assert.Equal(inMemory.Step(batch, 0.05f), fromFiles.TrainStep(batch, 0.05f));
        }
        var a = inMemory.State();
        var b = fromFiles.State();
        Assert.All(a, p => Assert.True(p.Value.ContentEquals(b[p.Key]), p.Key));
    }

    [Fact]
    public void EvalStepGivesTheLossTheNextTrainStepStartsFromAndTheExportedModelsOutputs()
    {
        WriteArtifacts("m");
        using var session = new ArtifactSession(TrainingArtifacts.Load(_temp.File("m.train.onnx")));
        session.TrainStep(Batch(0), 0.05f);
        var batch = Batch(64);
        var eval = session.EvalStep(batch);
        var metrics = session.TrainStep(batch, 0.05f); // the loss of the weights before this update
        Assert.Equal(metrics.Loss, eval.Loss, 5);
        var logits = eval.Outputs[Assert.Single(session.Artifacts.ModelOutputs)];
        Assert.Equal([32L, 10L], logits.Dims);

        // Export after the second step: the inference model with those weights gives the eval model's outputs.
        var after = session.EvalStep(batch);
        var exported = session.ExportInferenceModel();
        Assert.DoesNotContain(exported.Graph.Inputs, v => v.Name is "target" or "learning_rate" or StepModelBuilder.PenaltyCoefficient);
        using var runner = ModelRunner.FromBytes(exported.ToBytes());
        var outputs = runner.Run([batch["input"]]);
        var expected = after.Outputs[session.Artifacts.ModelOutputs[0]].ToDoubles();
        var actual = outputs.Single(o => o.Name == session.Artifacts.ModelOutputs[0]).Tensor!.ToDoubles();
        Assert.All(expected.Zip(actual), z => Assert.Equal(z.First, z.Second, 5));
    }

    [Fact]
    public void LoadStateRewindsTheSessionBitExactly()
    {
        WriteArtifacts("m");
        using var session = new ArtifactSession(TrainingArtifacts.Load(_temp.File("m.train.onnx")));
        var start = session.State();
        var first = session.TrainStep(Batch(0), 0.05f);
        session.TrainStep(Batch(32), 0.05f);
        session.LoadState(start);
        Assert.Equal(first, session.TrainStep(Batch(0), 0.05f));
    }

    [Fact]
    public void RewriteNamesAreFoundAndAMissingEvalModelIsSaidWhenUsed()
    {
        var inference = Model.Load(TestPaths.Model("mlp_tanh.onnx"));
        var step = StepModelBuilder.Build(inference, StepOptions);
        step.Model.Save(_temp.File("TRAIN.onnx"));
        ModelExport.InitialStateModel(step).Save(_temp.File("TRAIN.init.onnx"));
        var artifacts = TrainingArtifacts.Load(_temp.File("TRAIN.onnx"));
        Assert.Null(artifacts.Eval);
        using var session = new ArtifactSession(artifacts);
        var error = Assert.Throws<ImplicitRegException>(() => session.EvalStep(Batch(0)));
        Assert.Equal(ErrorKind.BadInput, error.Kind);
        Assert.Contains("--eval-out", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FilesThatAreNoStepModelAreRefusedSayingWhatTheyAre()
    {
        WriteArtifacts("m");
        ImplicitRegException Refusal(string path) => Assert.Throws<ImplicitRegException>(() => TrainingArtifacts.Load(path));

        Assert.Contains("initial-state model", Refusal(_temp.File("m.init.onnx")).Message, StringComparison.Ordinal);
        Assert.Contains("evaluation model", Refusal(_temp.File("m.eval.onnx")).Message, StringComparison.Ordinal);
        Assert.Contains("an inference model, not a training-step model", Refusal(TestPaths.Model("mlp_tanh.onnx")).Message, StringComparison.Ordinal);
        Assert.Equal(ModelFileKind.FusedStep, TrainingArtifacts.KindOf(Model.Load(_temp.File("m.train.onnx"))));

        File.Delete(_temp.File("m.init.onnx"));
        var missing = Refusal(_temp.File("m.train.onnx"));
        Assert.Equal(ErrorKind.BadInput, missing.Kind);
        Assert.Contains("m.train.init.onnx", missing.Message, StringComparison.Ordinal);

        // The initial state of another model does not fit.
        var other = StepModelBuilder.Build(Model.Load(TestPaths.Model("mlp_tanh.onnx")), StepOptions with { Optimizer = new OptimizerOptions { Kind = OptimizerKind.Adam } });
        ModelExport.InitialStateModel(other).Save(_temp.File("m.init.onnx"));
        Assert.Contains("another step model", Refusal(_temp.File("m.train.onnx")).Message, StringComparison.Ordinal);
    }
}
