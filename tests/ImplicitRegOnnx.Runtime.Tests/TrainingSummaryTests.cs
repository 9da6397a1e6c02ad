using System.Text.Json.Nodes;
using ImplicitRegOnnx.Runtime.Training;
using ImplicitRegOnnx.TestSupport;

namespace ImplicitRegOnnx.Runtime.Tests;

public sealed class TrainingSummaryTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private static TrainingResult Result(params EpochEvent[] epochs) => new()
    {
        Model = "m.onnx",
        ModelKind = ModelFileKind.Inference,
        Device = "cpu (auto: CUDA provider not found)",
        TrainExamples = 100,
        Epochs = epochs,
        Steps = 40,
        ResumedFromStep = 10,
        Seconds = 1.23456,
        StopReason = "early stopping",
        Workers = 2,
        TrainSeconds = 0.98765,
        AllReduceSeconds = 0.0123456789,
    };

    [Fact]
    public void TheJsonHasTheSnakeCaseNamesInOrderAndRoundTrips()
    {
        var epoch = new EpochEvent(0, 40, 0.5, 0.25, new Evaluation(0.75, 0.9, 20));
        var summary = TrainingSummary.From(Result(epoch));
        var json = JsonNode.Parse(summary.ToJson())!.AsObject();

        Assert.Equal(["test_accuracy", "test_loss", "test_mse", "test_mae", "train_loss", "penalty", "epochs_completed", "steps", "resumed_from_step",
            "stop_reason", "seconds", "device", "workers", "train_seconds", "allreduce_seconds"], json.Select(p => p.Key));
        Assert.Equal(0.9, (double)json["test_accuracy"]!);
        Assert.Equal(0.75, (double)json["test_loss"]!);
        Assert.Null(json["test_mse"]);
        Assert.Equal(0.5, (double)json["train_loss"]!);
        Assert.Equal(0.25, (double)json["penalty"]!);
        Assert.Equal(1, (int)json["epochs_completed"]!);
        Assert.Equal(1.235, (double)json["seconds"]!);
        Assert.Equal("cpu", (string?)json["device"]);
        Assert.Equal(0.012346, (double)json["allreduce_seconds"]!);
        Assert.Equal(summary, TrainingSummary.FromJson(summary.ToJson()));
    }

    [Fact]
    public void AFreshRunWithoutEpochsWritesNullsAndTheFileIsWrittenWhole()
    {
        var path = _temp.File("s.json");
        File.WriteAllText(path, "old");
        var summary = TrainingSummary.From(Result());
        summary.Write(path);

        Assert.Equal(summary.ToJson(), File.ReadAllText(path));
        var json = JsonNode.Parse(File.ReadAllText(path))!;
        Assert.Null(json["test_accuracy"]);
        Assert.Equal(0, (int)json["epochs_completed"]!);
        Assert.Equal(ErrorKind.BadInput, Assert.Throws<ImplicitRegException>(() => TrainingSummary.FromJson("[1]")).Kind);
    }
}
