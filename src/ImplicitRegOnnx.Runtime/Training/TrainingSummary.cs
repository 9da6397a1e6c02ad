using System.Text.Json;
using System.Text.Json.Serialization;
using ImplicitRegOnnx.Onnx.IO;

namespace ImplicitRegOnnx.Runtime.Training;

/// <summary>
/// The summary of a training run as a file (<c>implicitreg train --summary-json</c>, or a CI using the library): the
/// last epoch's metrics, counts and timings, with snake_case names. Nulls are written as null.
/// </summary>
public sealed record TrainingSummary
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>Test accuracy after the last epoch (class labels).</summary>
    [JsonPropertyName("test_accuracy")] public double? TestAccuracy { get; init; }

    /// <summary>Test loss after the last epoch.</summary>
    [JsonPropertyName("test_loss")] public double? TestLoss { get; init; }

    /// <summary>Test mean squared error after the last epoch (regression losses).</summary>
    [JsonPropertyName("test_mse")] public double? TestMse { get; init; }

    /// <summary>Test mean absolute error after the last epoch (regression losses).</summary>
    [JsonPropertyName("test_mae")] public double? TestMae { get; init; }

    /// <summary>Mean training loss of the last epoch.</summary>
    [JsonPropertyName("train_loss")] public double? TrainLoss { get; init; }

    /// <summary>Mean penalty of the last epoch.</summary>
    [JsonPropertyName("penalty")] public double? Penalty { get; init; }

    /// <summary>Epochs completed by this run.</summary>
    [JsonPropertyName("epochs_completed")] public int EpochsCompleted { get; init; }

    /// <summary>Steps taken in all, counting those before a resume.</summary>
    [JsonPropertyName("steps")] public long Steps { get; init; }

    /// <summary>The step a resumed run started from (0: a fresh run).</summary>
    [JsonPropertyName("resumed_from_step")] public long ResumedFromStep { get; init; }

    /// <summary>Why training stopped before its end; null when it ran to the end.</summary>
    [JsonPropertyName("stop_reason")] public string? StopReason { get; init; }

    /// <summary>Wall-clock seconds of the run, loading included (rounded to milliseconds).</summary>
    [JsonPropertyName("seconds")] public double Seconds { get; init; }

    /// <summary>Where the steps ran: "cpu" or "cuda:N" (without the reason auto gives).</summary>
    [JsonPropertyName("device")] public string Device { get; init; } = "";

    /// <summary>The processes that trained together (MPI).</summary>
    [JsonPropertyName("workers")] public int Workers { get; init; } = 1;

    /// <summary>Seconds of the training steps alone (rounded to milliseconds).</summary>
    [JsonPropertyName("train_seconds")] public double TrainSeconds { get; init; }

    /// <summary>Seconds spent averaging gradients over the processes (rounded to microseconds).</summary>
    [JsonPropertyName("allreduce_seconds")] public double AllReduceSeconds { get; init; }

    /// <summary>The summary of <paramref name="result"/>.</summary>
    /// <param name="result">A finished run (<see cref="TrainingWorkflow.TrainFromFiles"/>).</param>
    public static TrainingSummary From(TrainingResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return new TrainingSummary
        {
            TestAccuracy = result.TestAccuracy,
            TestLoss = result.TestLoss,
            TestMse = result.TestMeanSquaredError,
            TestMae = result.TestMeanAbsoluteError,
            TrainLoss = result.TrainLoss,
            Penalty = result.Penalty,
            EpochsCompleted = result.Epochs.Count,
            Steps = result.Steps,
            ResumedFromStep = result.ResumedFromStep,
            StopReason = result.StopReason,
            Seconds = Math.Round(result.Seconds, 3),
            Device = result.Device.Split(' ')[0],
            Workers = result.Workers,
            TrainSeconds = Math.Round(result.TrainSeconds, 3),
            AllReduceSeconds = Math.Round(result.AllReduceSeconds, 6),
        };
    }

    /// <summary>The summary as indented JSON, with a final newline.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Indented) + "\n";

    /// <summary>Reads a summary written by <see cref="ToJson"/>.</summary>
    /// <param name="json">The JSON text.</param>
    /// <exception cref="ImplicitRegException">Of kind <see cref="ErrorKind.BadInput"/>: not a summary.</exception>
    public static TrainingSummary FromJson(string json)
    {
        try
        {
            return JsonSerializer.Deserialize<TrainingSummary>(json) ?? throw ImplicitRegException.BadInput("the training summary is null; give a summary object");
        }
        catch (JsonException e)
        {
            throw ImplicitRegException.BadInput($"not a training summary ({e.Message}); give the JSON that TrainingSummary.ToJson writes", e);
        }
    }

    /// <summary>Writes the summary to <paramref name="path"/> atomically (<see cref="AtomicFile"/>).</summary>
    /// <param name="path">The file.</param>
    public void Write(string path) => AtomicFile.WriteAllText(path, ToJson());
}
