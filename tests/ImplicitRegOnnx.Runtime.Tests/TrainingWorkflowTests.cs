using System.Text.Json.Nodes;
using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Onnx.Numpy;
using ImplicitRegOnnx.Runtime.Data;
using ImplicitRegOnnx.TestSupport;
using ImplicitRegOnnx.Training;
using ImplicitRegOnnx.Runtime.Training;

namespace ImplicitRegOnnx.Runtime.Tests;

public sealed class TrainingWorkflowTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private string WriteData(string name, Dataset d)
    {
        var path = _temp.File(name);
        NpzArchive.Write(path, [new("x", d.Features.WithName("x")), new("y", d.Labels.WithName("y"))]);
        return path;
    }

    [Fact]
    public void TrainsFromFilesAndReturnsTheSummaryWithMetricsAndExportWritten()
    {
        var (train, test) = DigitsData.Load(TestPaths.Model("data/digits.csv.gz"));
        var options = new TrainFromFilesOptions
        {
            ModelPath = TestPaths.Model("mlp_tanh.onnx"),
            DataPath = WriteData("train.npz", train.Take(320)),
            TestDataPath = WriteData("test.npz", test),
            Trainer = new TrainerOptions { Epochs = 2, BatchSize = 32, LearningRate = 0.05f, Threads = 1 },
            ExportPath = _temp.File("out.onnx"),
            MetricsPath = _temp.File("metrics.jsonl"),
        };
        var result = TrainingWorkflow.TrainFromFiles(options);

        Assert.Equal(ModelFileKind.Inference, result.ModelKind);
        Assert.Equal(320, result.TrainExamples);
        Assert.Equal(2, result.Epochs.Count);
        Assert.Equal(20, result.Steps);
        Assert.Equal(result.Epochs[^1].Test!.Accuracy, result.TestAccuracy);
        Assert.Null(result.StopReason);
        // Class labels chose cross-entropy; the export evaluates to the reported test loss.
        var exported = ModelEvaluation.Run(Model.Load(_temp.File("out.onnx")), test, new GradientModelOptions { Loss = LossKind.CrossEntropy });
        Assert.Equal(result.TestLoss!.Value, exported.Loss, 5);
        var lines = File.ReadAllLines(_temp.File("metrics.jsonl")).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Equal(22, lines.Count);
        Assert.Equal(0.0125, (double)lines[0]["coefficient"]!, 6);
    }

    [Fact]
    public void OptionsAreCheckedBeforeAnythingIsRead()
    {
        ImplicitRegException Refusal(TrainFromFilesOptions o) => Assert.Throws<ImplicitRegException>(() => TrainingWorkflow.TrainFromFiles(o));
        var model = TestPaths.Model("mlp_tanh.onnx");
        Assert.Equal("TrainFromFilesOptions.DataPath", Refusal(new TrainFromFilesOptions { ModelPath = model }).Parameter);
        Assert.Equal("TrainFromFilesOptions.ExportPath", Refusal(new TrainFromFilesOptions { ModelPath = model, DataPath = "missing.npz", ExportPath = model }).Parameter);
        Assert.Equal("TrainerOptions.Epochs", Refusal(new TrainFromFilesOptions { ModelPath = model, DataPath = "missing.npz", Trainer = new TrainerOptions { Epochs = 0 } }).Parameter);
    }
}
