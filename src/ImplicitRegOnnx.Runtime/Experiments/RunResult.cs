using System.Text.Json;
using System.Text.Json.Serialization;

namespace ImplicitRegOnnx.Runtime.Experiments;

/// <summary>
/// What one run of a sweep gave. Accuracies and losses are NaN (null in JSON) when the run diverged.
/// </summary>
public sealed record RunResult
{
    /// <summary>The run's <see cref="SweepPoint.Key"/>.</summary>
    public required string Key { get; init; }

    /// <summary>The option values of the run (name without dashes → value as given).</summary>
    public required IReadOnlyDictionary<string, string> Parameters { get; init; }

    /// <summary>"ok", or "diverged" (NaN or infinity in the loss, penalty or weights).</summary>
    public required string Status { get; init; }

    /// <summary>Why the run stopped early (diverged), else null.</summary>
    public string? Message { get; init; }

    /// <summary>Test accuracy after the last epoch.</summary>
    public double FinalTestAccuracy { get; init; } = double.NaN;

    /// <summary>The highest test accuracy after any epoch.</summary>
    public double BestTestAccuracy { get; init; } = double.NaN;

    /// <summary>The epoch (1-based) of <see cref="BestTestAccuracy"/>.</summary>
    public int BestEpoch { get; init; }

    /// <summary>Mean test loss after the last epoch.</summary>
    public double FinalTestLoss { get; init; } = double.NaN;

    /// <summary>Mean loss C on the whole training set with the final weights.</summary>
    public double TrainLoss { get; init; } = double.NaN;

    /// <summary>Accuracy on the whole training set with the final weights.</summary>
    public double TrainAccuracy { get; init; } = double.NaN;

    /// <summary>Mean of the step model's penalty R over the last epoch's steps (0 without a penalty).</summary>
    public double Penalty { get; init; } = double.NaN;

    /// <summary>||∇C||² of the full training set with the final weights.</summary>
    public double FullBatchGradNormSq { get; init; } = double.NaN;

    /// <summary>(1/m) Σ_k ||∇Ĉ_k||² over the m minibatches of the run's batch size, with the final weights.</summary>
    public double MeanMinibatchGradNormSq { get; init; } = double.NaN;

    /// <summary>Epochs completed.</summary>
    public int Epochs { get; init; }

    /// <summary>Optimizer steps taken.</summary>
    public long Steps { get; init; }

    /// <summary>Wall-clock time of the run, in seconds.</summary>
    public double Seconds { get; init; }

    /// <summary>Test accuracy after each epoch, in order.</summary>
    public IReadOnlyList<double> TestAccuracyByEpoch { get; init; } = [];

    /// <summary>True for a diverged run.</summary>
    [JsonIgnore]
    public bool Diverged => Status != "ok";

    internal static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    private static readonly JsonSerializerOptions IndentedJson = new(Json) { WriteIndented = true };

    /// <summary>This result as JSON (what <see cref="SweepRunner.ResultFileName"/> holds).</summary>
    public string ToJson(bool indented = false) => JsonSerializer.Serialize(this, indented ? IndentedJson : Json);

    /// <exception cref="JsonException">The text is not a run result.</exception>
    public static RunResult FromJson(string json) =>
        JsonSerializer.Deserialize<RunResult>(json, Json) ?? throw new JsonException("empty run result");
}
