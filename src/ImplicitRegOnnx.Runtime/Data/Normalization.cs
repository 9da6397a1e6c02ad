using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using ImplicitRegOnnx.Onnx;

namespace ImplicitRegOnnx.Runtime.Data;

/// <summary>How features are normalized before training.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<NormalizationKind>))]
public enum NormalizationKind
{
    /// <summary>Features as loaded.</summary>
    None,

    /// <summary>Divide every feature by one constant (e.g. 255 for 8-bit pixels).</summary>
    Scale,

    /// <summary>Per feature: subtract the training set's mean, divide by its standard deviation.</summary>
    Standardize,

    /// <summary>Per feature: map the training set's [min, max] to [0, 1].</summary>
    MinMax,
}

/// <summary>
/// A feature normalization x' = (x − offset) / divisor, with a single divisor (<see cref="NormalizationKind.Scale"/>)
/// or per-feature offsets and divisors fitted on the training set (<see cref="Fit"/>) and applied unchanged to
/// test data. Serializable to JSON (<see cref="ToJson"/>) so checkpoints restore the same statistics.
/// Features whose spread is zero get divisor 1.
/// </summary>
public sealed record Normalization
{
    public NormalizationKind Kind { get; init; }

    /// <summary>Scale: the constant divisor.</summary>
    public double Divisor { get; init; } = 1;

    /// <summary>Standardize / MinMax: per-feature offsets (mean or minimum).</summary>
    public float[]? Offsets { get; init; }

    /// <summary>Standardize / MinMax: per-feature divisors (standard deviation or max − min).</summary>
    public float[]? Divisors { get; init; }

    public static Normalization None { get; } = new();

    public static Normalization ScaleBy(double divisor) =>
        divisor > 0 && double.IsFinite(divisor)
            ? new Normalization { Kind = NormalizationKind.Scale, Divisor = divisor }
            : throw new ArgumentOutOfRangeException(nameof(divisor), $"The scale divisor {divisor} is not a positive number.");

    /// <summary>
    /// Fits a normalization of <paramref name="kind"/> on the training set (statistics in float64,
    /// population standard deviation). <paramref name="divisor"/> is used by Scale only.
    /// </summary>
    public static Normalization Fit(NormalizationKind kind, Dataset training, double divisor = 255)
    {
        ArgumentNullException.ThrowIfNull(training);
        switch (kind)
        {
            case NormalizationKind.None:
                return None;
            case NormalizationKind.Scale:
                return ScaleBy(divisor);
        }
        if (training.Count == 0)
        {
            throw ImplicitRegException.BadInput("cannot fit a normalization on a training set without examples");
        }
        var f = training.FeaturesPerExample;
        var values = training.FeatureValues;
        var offsets = new float[f];
        var divisors = new float[f];
        if (kind == NormalizationKind.Standardize)
        {
            var sum = new double[f];
            for (var i = 0; i < values.Length; i++)
            {
                sum[i % f] += values[i];
            }
            var mean = Array.ConvertAll(sum, s => s / training.Count);
            var squares = new double[f];
            for (var i = 0; i < values.Length; i++)
            {
                var d = values[i] - mean[i % f];
                squares[i % f] += d * d;
            }
            for (var j = 0; j < f; j++)
            {
                offsets[j] = (float)mean[j];
                divisors[j] = Spread(Math.Sqrt(squares[j] / training.Count));
            }
        }
        else
        {
            var min = new float[f];
            var max = new float[f];
            Array.Fill(min, float.PositiveInfinity);
            Array.Fill(max, float.NegativeInfinity);
            for (var i = 0; i < values.Length; i++)
            {
                min[i % f] = Math.Min(min[i % f], values[i]);
                max[i % f] = Math.Max(max[i % f], values[i]);
            }
            for (var j = 0; j < f; j++)
            {
                offsets[j] = min[j];
                divisors[j] = Spread((double)max[j] - min[j]);
            }
        }
        return new Normalization { Kind = kind, Offsets = offsets, Divisors = divisors };
    }

    /// <summary>How error messages name <see cref="Parse(string, Dataset)"/>'s spec.</summary>
    private const string SpecParameter = "Normalization.Parse";

    /// <summary>
    /// Parses a command-line spelling and fits it on the training set: none, scale (÷255),
    /// scale:D or scale=D, standardize, minmax.
    /// </summary>
    /// <exception cref="ImplicitRegException">Of kind <see cref="ErrorKind.BadInput"/>: an unknown spelling (the message lists the valid ones).</exception>
    public static Normalization Parse(string spec, Dataset training)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var s = spec.Trim().ToLowerInvariant();
        var separator = s.IndexOfAny([':', '=']);
        var name = separator < 0 ? s : s[..separator];
        var argument = separator < 0 ? null : s[(separator + 1)..];
        var kind = name switch
        {
            "none" => NormalizationKind.None,
            "scale" => NormalizationKind.Scale,
            "standardize" or "standard" or "zscore" => NormalizationKind.Standardize,
            "minmax" or "min-max" => NormalizationKind.MinMax,
            _ => throw ImplicitRegException.BadParameter(SpecParameter, $"{spec}: unknown normalization; use none, scale, scale:DIVISOR, standardize or minmax"),
        };
        if (argument is not null && kind != NormalizationKind.Scale)
        {
            throw ImplicitRegException.BadParameter(SpecParameter, $"{spec}: normalization '{name}' takes no value");
        }
        var divisor = 255.0;
        if (argument is not null
            && (!double.TryParse(argument, NumberStyles.Float, CultureInfo.InvariantCulture, out divisor) || !(divisor > 0) || !double.IsFinite(divisor)))
        {
            throw ImplicitRegException.BadParameter(SpecParameter, $"{spec}: the scale divisor is not a positive number");
        }
        return Fit(kind, training, divisor);
    }

    /// <summary>The data set with normalized features (labels unchanged).</summary>
    /// <exception cref="ImplicitRegException">Per-feature statistics fitted on another number of features.</exception>
    public Dataset Apply(Dataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (Kind == NormalizationKind.None)
        {
            return data;
        }
        var values = data.FeatureValues.ToArray();
        Apply(values, data.FeaturesPerExample);
        var bytes = MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
        return data.WithFeatures(new Tensor(ElementType.Float, data.Features.Dims, bytes, data.Features.Name));
    }

    /// <summary>Normalizes features in place: consecutive rows of <paramref name="featuresPerExample"/> values.</summary>
    public void Apply(Span<float> features, int featuresPerExample)
    {
        switch (Kind)
        {
            case NormalizationKind.None:
                return;
            case NormalizationKind.Scale:
            {
                var divisor = (float)Divisor;
                for (var i = 0; i < features.Length; i++)
                {
                    features[i] /= divisor;
                }
                return;
            }
        }
        var offsets = Offsets ?? throw new InvalidOperationException($"{Kind} normalization without offsets.");
        var divisors = Divisors ?? throw new InvalidOperationException($"{Kind} normalization without divisors.");
        if (offsets.Length != featuresPerExample || divisors.Length != featuresPerExample || features.Length % featuresPerExample != 0)
        {
            throw ImplicitRegException.BadInput(
                $"the {Kind} normalization was fitted on {offsets.Length} features per example, the data has {featuresPerExample}");
        }
        for (var row = 0; row < features.Length; row += featuresPerExample)
        {
            var x = features.Slice(row, featuresPerExample);
            for (var j = 0; j < x.Length; j++)
            {
                x[j] = (x[j] - offsets[j]) / divisors[j];
            }
        }
    }

    public string ToJson() => JsonSerializer.Serialize(this, DataJsonContext.Default.Normalization);

    /// <summary>Reads a normalization written by <see cref="ToJson"/>.</summary>
    /// <exception cref="ImplicitRegException">Not valid JSON of a normalization.</exception>
    public static Normalization FromJson(string json)
    {
        Normalization? result;
        try
        {
            result = JsonSerializer.Deserialize(json, DataJsonContext.Default.Normalization);
        }
        catch (JsonException e)
        {
            throw ImplicitRegException.BadInput($"normalization JSON is invalid: {e.Message}", e);
        }
        if (result is null
            || (result.Kind is NormalizationKind.Standardize or NormalizationKind.MinMax
                && (result.Offsets is null || result.Divisors is null || result.Offsets.Length != result.Divisors.Length))
            || (result.Kind == NormalizationKind.Scale && !(result.Divisor > 0)))
        {
            throw ImplicitRegException.BadInput("normalization JSON is incomplete (missing or inconsistent parameters)");
        }
        return result;
    }

    public bool Equals(Normalization? other) =>
        other is not null
        && Kind == other.Kind
        && Divisor.Equals(other.Divisor)
        && SameValues(Offsets, other.Offsets)
        && SameValues(Divisors, other.Divisors);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Kind);
        hash.Add(Divisor);
        foreach (var v in Offsets ?? [])
        {
            hash.Add(v);
        }
        foreach (var v in Divisors ?? [])
        {
            hash.Add(v);
        }
        return hash.ToHashCode();
    }

    private static bool SameValues(float[]? a, float[]? b) =>
        a is null ? b is null : b is not null && a.AsSpan().SequenceEqual(b);

    private static float Spread(double value) => value > 1e-12 && double.IsFinite(value) ? (float)value : 1f;
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(Normalization))]
internal sealed partial class DataJsonContext : JsonSerializerContext;
