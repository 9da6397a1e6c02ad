using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Runtime.Data;
using ImplicitRegOnnx.Runtime.Training;
using ImplicitRegOnnx.TestSupport;
using ImplicitRegOnnx.Training;

namespace ImplicitRegOnnx.Runtime.Tests;

public class EvaluationWorkflowTests
{
    [Fact]
    public void TheEmbeddedDigitsAreTheFileSplitAsTrainSplitsIt()
    {
        var (train, test) = DigitsData.LoadEmbedded();
        var (fileTrain, fileTest) = DigitsData.Load(TestPaths.Model("data/digits.csv.gz"));
        Assert.Equal((1438, 359), (train.Count, test.Count));
        Assert.Equal(fileTrain.FeatureValues.ToArray(), train.FeatureValues.ToArray());
        Assert.Equal(fileTest.Labels.ToArray<long>(), test.Labels.ToArray<long>());
    }

    [Fact]
    public void EvaluatesFromAFileOrFromMemoryWithTheLossFromTheLabelsByDefault()
    {
        var path = TestPaths.Model("mlp_tanh.onnx");
        var fromFile = EvaluationWorkflow.EvaluateFromFiles(new EvaluateFromFilesOptions { ModelPath = path, DataPath = TestPaths.Model("data/digits.csv.gz"), Normalize = "scale:16" });
        var all = DigitsData.LoadAll(TestPaths.Model("data/digits.csv.gz"));
        var direct = ModelEvaluation.Run(Model.Load(path), all, new GradientModelOptions { Loss = LossKind.CrossEntropy, Penalty = new PenaltyOptions { Mode = PenaltyMode.None } });
        Assert.Equal(1797, fromFile.Examples);
        Assert.Equal(direct.Loss, fromFile.Loss, 12);
        Assert.Equal(direct.Accuracy, fromFile.Accuracy);

        // In memory (already normalized), the loss given: the same numbers.
        var inMemory = EvaluationWorkflow.EvaluateFromFiles(new EvaluateFromFilesOptions { ModelPath = path, Data = all, Loss = LossKind.CrossEntropy });
        Assert.Equal(fromFile, inMemory);
        // Another loss is another number (nll reads the outputs as log-probabilities).
        Assert.NotEqual(direct.Loss, EvaluationWorkflow.EvaluateFromFiles(new EvaluateFromFilesOptions { ModelPath = path, Data = all, Loss = LossKind.Nll }).Loss);
    }

    [Fact]
    public void DataIsRequiredOnce()
    {
        var none = Assert.Throws<ImplicitRegException>(() => EvaluationWorkflow.EvaluateFromFiles(new EvaluateFromFilesOptions { ModelPath = "m.onnx" }));
        Assert.Equal("EvaluateFromFilesOptions.DataPath", none.Parameter);
        Assert.Contains("is required", none.Message, StringComparison.Ordinal);
        var both = new EvaluateFromFilesOptions { ModelPath = "m.onnx", DataPath = "d.csv", Data = DigitsData.LoadEmbedded().Test };
        Assert.Contains("both give the data", Assert.Throws<ImplicitRegException>(both.Validate).Message, StringComparison.Ordinal);
    }
}
