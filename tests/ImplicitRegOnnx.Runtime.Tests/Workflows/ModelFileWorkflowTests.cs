using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Onnx.Numpy;
using ImplicitRegOnnx.Onnx.Serialization;
using ImplicitRegOnnx.Runtime.Verification;
using ImplicitRegOnnx.Runtime.Workflows;
using ImplicitRegOnnx.TestSupport;
using ImplicitRegOnnx.Training;

namespace ImplicitRegOnnx.Runtime.Tests.Workflows;

/// <summary>Rewrite, grad, lower and export as a C# app calls them: files in, typed results out, errors naming the API or the file.</summary>
public sealed class ModelFileWorkflowTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private static ReferenceCase Case() => ReferenceCase.Load(Path.Combine(TestPaths.RepositoryRoot, "tests", "ReferenceCases", "logsoftmax_nll"));

    private static string TrainingInfoCase => Path.Combine(TestPaths.RepositoryRoot, "tests", "LoweringCases", "training_info_momentum", "model.onnx");

    private static GradientModelOptions Gradient(ReferenceCase c) => new()
    {
        Loss = OptionNames.ParseLoss(c.Info.Loss),
        Output = c.Info.Output,
        Penalty = new PenaltyOptions { Coefficient = c.Info.Coefficient, Microbatches = c.Info.Microbatches },
    };

    [Fact]
    public void RewriteWritesTheStepInitEvalAndApplyModelsAndReportsTheirSizes()
    {
        var c = Case();
        var result = ModelRewrite.Rewrite(new RewriteOptions
        {
            Input = c.ModelPath,
            Output = _temp.File("train.onnx"),
            EvalOutput = _temp.File("eval.onnx"),
            Step = new StepModelOptions { Gradient = Gradient(c), Form = StepModelForm.GradientsOut },
        });

        Assert.Equal(_temp.File("train.init.onnx"), result.Init);
        Assert.Equal(_temp.File("train.apply.onnx"), result.Apply);
        Assert.Equal(_temp.File("eval.onnx"), result.Eval);
        foreach (var path in new[] { result.Output, result.Init, result.Eval!, result.Apply! })
        {
            Assert.True(File.Exists(path), path);
        }
        var step = Model.Load(result.Output);
        Assert.Equal(step.Graph.Nodes.Count, result.StepNodes);
        Assert.Equal(Model.Load(c.ModelPath).Graph.Nodes.Count, result.ForwardNodes);
        Assert.Equal(c.Info.Trainable.Count, result.Parameters);
        using var initial = ModelRunner.FromFile(result.Init);
        Assert.Equal(initial.Run([]).Sum(o => o.Tensor!.ElementCount), result.ParameterElements);
        Assert.Contains(step.MetadataProps, m => m.Key == "implicitreg.form" && m.Value == "gradients-out");
        Assert.Empty(result.Warnings);
    }

    [Fact]
    public void RewriteChecksOptionsAndPathsBeforeReadingAnything()
    {
        var c = Case();
        RewriteOptions Options(string output) => new() { Input = c.ModelPath, Output = output, Step = new StepModelOptions { Gradient = Gradient(c) } };

        var lambda = Assert.Throws<ImplicitRegException>(() => ModelRewrite.Rewrite(Options(_temp.File("t.onnx")) with { Step = new StepModelOptions { Lambda = -1 } }));
        Assert.Equal("StepModelOptions.Lambda", lambda.Parameter);
        Assert.Contains("is the input model", Assert.Throws<ImplicitRegException>(() => ModelRewrite.Rewrite(Options(c.ModelPath))).Message, StringComparison.Ordinal);
        Assert.Contains("does not exist", Assert.Throws<ImplicitRegException>(() => ModelRewrite.Rewrite(Options(_temp.File("missing/t.onnx")))).Message, StringComparison.Ordinal);
        Assert.Contains("is a directory", Assert.Throws<ImplicitRegException>(() => ModelRewrite.Rewrite(Options(_temp.Path))).Message, StringComparison.Ordinal);
        // The initial-state model would overwrite the input.
        var init = Assert.Throws<ImplicitRegException>(() => ModelRewrite.Rewrite(Options(_temp.File("t.onnx")) with { InitOutput = c.ModelPath }));
        Assert.Equal(ErrorKind.BadInput, init.Kind);
        Assert.Empty(Directory.GetFiles(_temp.Path));
    }

    [Fact]
    public void BatchGradientsWriteTheReferenceValuesAndReturnTheScalars()
    {
        var c = Case();
        var result = BatchGradients.Compute(new BatchGradientOptions
        {
            Model = c.ModelPath,
            Data = Path.Combine(c.Folder, "data.npz"),
            Output = _temp.File("r.npz"),
            Gradient = Gradient(c),
        });

        var written = NpzArchive.Read(result.Output);
        var failures = c.Compare(written).Where(e => !e.Passes).ToList();
        Assert.True(failures.Count == 0, string.Join("; ", failures));
        Assert.Equal(written["loss"].ToDoubles()[0], result.Loss);
        Assert.Equal(written["penalty"].ToDoubles()[0], result.Penalty);
        Assert.Equal(written["objective"].ToDoubles()[0], result.Objective);
        Assert.Equal(c.Info.Trainable.Count, result.Parameters);
    }

    [Fact]
    public void BatchGradientsOfABatchThatDoesNotFitNameTheBatchFile()
    {
        var c = Case();
        var data = _temp.File("renamed.npz");
        NpzArchive.Write(data, c.Data.Select(p => new KeyValuePair<string, Tensor>(p.Key == "target" ? p.Key : "renamed", p.Value.WithName(p.Key == "target" ? p.Key : "renamed"))));

        var e = Assert.Throws<ImplicitRegException>(() => BatchGradients.Compute(new BatchGradientOptions { Model = c.ModelPath, Data = data, Output = _temp.File("r.npz"), Gradient = Gradient(c) }));

        Assert.Equal(ErrorKind.BadInput, e.Kind);
        Assert.Contains(data, e.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(_temp.File("r.npz")));
    }

    [Fact]
    public void LowerWritesTheMainGraphAndTheTrainingStepWithItsBinding()
    {
        var result = ModelLowering.Lower(new LowerOptions { Input = TrainingInfoCase, Output = _temp.File("main.onnx"), TrainingStep = _temp.File("step.onnx") });

        Assert.Equal(1, result.TrainingInfos);
        Assert.Equal(0, TrainingInfos.Count(Model.Load(result.Output)));
        Assert.NotNull(result.StepLowering);
        Assert.Equal(1, result.StepLowering!.Lowered["Gradient"]);
        Assert.Equal(["W", "V", "T"], result.UpdateBinding.Select(p => p.Key));
        Assert.True(File.Exists(result.TrainingStep));
    }

    [Fact]
    public void LowerRefusesAMissingTrainingInfoAndOnePathForBothModelsNamingTheOptions()
    {
        var index = Assert.Throws<ImplicitRegException>(() => ModelLowering.Lower(new LowerOptions
        {
            Input = TrainingInfoCase, Output = _temp.File("o.onnx"), TrainingStep = _temp.File("s.onnx"), TrainingInfo = 3,
        }));
        Assert.Equal("LowerOptions.TrainingInfo", index.Parameter);
        Assert.StartsWith("LowerOptions.TrainingInfo 3: ", index.Message, StringComparison.Ordinal);
        Assert.Contains("carries 1 training_info entries (0 to 0)", index.Message, StringComparison.Ordinal);

        var none = Assert.Throws<ImplicitRegException>(() => ModelLowering.Lower(new LowerOptions
        {
            Input = TestPaths.Model("mlp_tanh.onnx"), Output = _temp.File("o.onnx"), TrainingStep = _temp.File("s.onnx"),
        }));
        Assert.Equal("LowerOptions.TrainingStep", none.Parameter);
        Assert.Contains("carries no training_info", none.Message, StringComparison.Ordinal);

        var same = Assert.Throws<ImplicitRegException>(() => ModelLowering.Lower(new LowerOptions { Input = TrainingInfoCase, Output = _temp.File("o.onnx"), TrainingStep = _temp.File("o.onnx") }));
        Assert.Contains("LowerOptions.TrainingStep and LowerOptions.Output name the same file", same.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(_temp.Path));
    }

    [Fact]
    public void ExportFromTheOriginalAndFromTheStepModelGiveTheSameWeights()
    {
        var c = Case();
        var rewrite = ModelRewrite.Rewrite(new RewriteOptions { Input = c.ModelPath, Output = _temp.File("train.onnx"), Step = new StepModelOptions { Gradient = Gradient(c) } });
        using var init = ModelRunner.FromFile(rewrite.Init);
        // Weights other than the initial ones: each doubled.
        var weights = init.Run([]).Select(o => new KeyValuePair<string, Tensor>(o.Name, Tensor.FromArray(o.Tensor!.ToDoubles().Select(v => (float)(2 * v)).ToArray(), o.Tensor.Dims, o.Name))).ToList();
        NpzArchive.Write(_temp.File("w.npz"), weights);

        var fromOriginal = WeightExport.Export(new WeightExportOptions { Model = c.ModelPath, Weights = _temp.File("w.npz"), Output = _temp.File("a.onnx") });
        var fromStep = WeightExport.Export(new WeightExportOptions { Model = rewrite.Output, Weights = _temp.File("w.npz"), Output = _temp.File("b.onnx") });

        Assert.False(fromOriginal.FromStepModel);
        Assert.True(fromStep.FromStepModel);
        foreach (var path in new[] { fromOriginal.Output, fromStep.Output })
        {
            var exported = Model.Load(path).Graph.Initializers.ToDictionary(v => v.Name, v => v.Initializer!);
            Assert.All(weights, w => Assert.Equal(w.Value.ToDoubles(), exported[w.Key].ToDoubles()));
        }
        Assert.Contains("is the input model", Assert.Throws<ImplicitRegException>(() =>
            WeightExport.Export(new WeightExportOptions { Model = c.ModelPath, Weights = _temp.File("w.npz"), Output = c.ModelPath })).Message, StringComparison.Ordinal);
    }
}
