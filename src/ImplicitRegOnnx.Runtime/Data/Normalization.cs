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
/// or per-feature offsets and divisors fitted on the training set (<see cref="Fit(NormalizationKind, DataArray, double)"/>) and applied unchanged to
/// test data. Serializable to JSON (<see cref="ToJson"/>) so checkpoints restore the same statistics.
/// Features whose spread is zero get divisor 1.
/// </summary>
public sealed record Normalization
{
    /// <summary>Which normalization this is.</summary>
    public NormalizationKind Kind { get; init; }

    /// <summary>Scale: the constant divisor.</summary>
    public double Divisor { get; init; } = 1;

    /// <summary>Standardize / MinMax: per-feature offsets (mean or minimum).</summary>
    public float[]? Offsets { get; init; }

    /// <summary>Standardize / MinMax: per-feature divisors (standard deviation or max − min).</summary>
    public float[]? Divisors { get; init; }

    /// <summary>No normalization: values pass unchanged.</summary>
    public static Normalization None { get; } = new();

    /// <summary>Divides every value by <paramref name="divisor"/>; throws <see cref="ArgumentOutOfRangeException"/> unless it is positive and finite.</summary>
    public static Normalization ScaleBy(double divisor) =>
        divisor > 0 && double.IsFinite(divisor)
            ? new Normalization { Kind = NormalizationKind.Scale, Divisor = divisor }
            : throw new ArgumentOutOfRangeException(nameof(divisor), $"The scale divisor {divisor} is not a positive number.");

    /// <summary>
    /// Fits a normalization of <paramref name="kind"/> on the training set's one input array (statistics
    /// in float64, population standard deviation). <paramref name="divisor"/> is used by Scale only.
    /// For data with several input arrays, see <see cref="DataNormalization"/> or <see cref="Fit(NormalizationKind, DataArray, double)"/>.
    /// </summary>
    public static Normalization Fit(NormalizationKind kind, Dataset training, double divisor = 255)
    {
        ArgumentNullException.ThrowIfNull(training);
        return kind switch
        {
            NormalizationKind.None => None,
            NormalizationKind.Scale => ScaleBy(divisor),
            _ => Fit(kind, SingleInput(training), divisor),
        };
    }

    /// <summary>
    /// Fits a normalization of <paramref name="kind"/> on one floating-point array: per value of a row,
    /// statistics over the rows in float64 (population standard deviation). <paramref name="divisor"/> is used by Scale only.
    /// </summary>
    /// <exception cref="ImplicitRegException">Of kind BadInput: an array that is not floating point, or one without rows.</exception>
    public static Normalization Fit(NormalizationKind kind, DataArray array, double divisor = 255)
    {
        ArgumentNullException.ThrowIfNull(array);
        switch (kind)
        {
            case NormalizationKind.None:
                return None;
            case NormalizationKind.Scale:
                return ScaleBy(divisor);
        }
        CheckFloating(array);
        if (array.Count == 0)
        {
            throw ImplicitRegException.BadInput($"cannot fit a normalization on array '{array.Name}' without examples");
        }
        return array.ElementType switch
        {
            ElementType.Float => FitValues(kind, array.Values<float>(), array.ValuesPerRow, array.Count),
            ElementType.Float16 => FitValues(kind, array.Values<Half>(), array.ValuesPerRow, array.Count),
            ElementType.Double => FitValues(kind, array.Values<double>(), array.ValuesPerRow, array.Count),
            _ => FitValues(kind, (ReadOnlySpan<double>)array.ToTensor().ToDoubles(), array.ValuesPerRow, array.Count),
        };
    }

    private static Normalization FitValues<T>(NormalizationKind kind, ReadOnlySpan<T> values, int f, int count)
        where T : System.Numerics.INumberBase<T>
    {
        var offsets = new float[f];
        var divisors = new float[f];
        if (kind == NormalizationKind.Standardize)
        {
            var sum = new double[f];
            for (var i = 0; i < values.Length; i++)
            {
                sum[i % f] += double.CreateTruncating(values[i]);
            }
            var mean = Array.ConvertAll(sum, s => s / count);
            var squares = new double[f];
            for (var i = 0; i < values.Length; i++)
            {
                var d = double.CreateTruncating(values[i]) - mean[i % f];
                squares[i % f] += d * d;
            }
            for (var j = 0; j < f; j++)
            {
                offsets[j] = (float)mean[j];
                divisors[j] = Spread(Math.Sqrt(squares[j] / count));
            }
        }
        else
        {
            var min = new double[f];
            var max = new double[f];
            Array.Fill(min, double.PositiveInfinity);
            Array.Fill(max, double.NegativeInfinity);
            for (var i = 0; i < values.Length; i++)
            {
                var v = double.CreateTruncating(values[i]);
                min[i % f] = Math.Min(min[i % f], v);
                max[i % f] = Math.Max(max[i % f], v);
            }
            for (var j = 0; j < f; j++)
            {
                offsets[j] = (float)min[j];
                divisors[j] = Spread(max[j] - min[j]);
            }
        }
        return new Normalization { Kind = kind, Offsets = offsets, Divisors = divisors };
    }

    /// <summary>How error messages name <see cref="Parse(string, Dataset)"/>'s spec.</summary>
    internal const string SpecParameter = "Normalization.Parse";

    /// <summary>
    /// Parses a command-line spelling and fits it on the training set's one input array: none, scale
    /// (÷255), scale:D or scale=D, standardize, minmax. <see cref="DataNormalization.Parse"/> fits it on every floating-point input array.
    /// </summary>
    /// <exception cref="ImplicitRegException">Of kind <see cref="ErrorKind.BadInput"/>: an unknown spelling (the message lists the valid ones).</exception>
    public static Normalization Parse(string spec, Dataset training)
    {
        var (kind, divisor) = ParseSpec(spec);
        return Fit(kind, training, divisor);
    }

    /// <summary>The kind and the divisor of a command-line spelling (see <see cref="Parse(string, Dataset)"/>).</summary>
    internal static (NormalizationKind Kind, double Divisor) ParseSpec(string spec)
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
        return (kind, divisor);
    }

    /// <summary>The data set with its one input array normalized (labels unchanged).</summary>
    /// <exception cref="ImplicitRegException">Per-feature statistics fitted on another number of features.</exception>
    public Dataset Apply(Dataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        return Kind == NormalizationKind.None ? data : data.With(Apply(SingleInput(data)));
    }

    /// <summary>The array normalized, as a new array of the same element type (float32 arithmetic for float32, float64 rounded once for the others).</summary>
    /// <exception cref="ImplicitRegException">Of kind BadInput: not a floating-point array, or statistics fitted on another number of values per row.</exception>
    public DataArray Apply(DataArray array)
    {
        ArgumentNullException.ThrowIfNull(array);
        if (Kind == NormalizationKind.None)
        {
            return array;
        }
        CheckFloating(array);
        var perRow = array.ValuesPerRow;
        if (array.ElementType == ElementType.Float)
        {
            var values = array.Values<float>().ToArray();
            Apply(values, perRow);
            return DataArray.FromArray(array.Name, values, array.Dims);
        }
        var doubles = array.ToTensor().ToDoubles();
        CheckFitted(perRow, doubles.Length);
        for (var i = 0; i < doubles.Length; i++)
        {
            doubles[i] = Kind == NormalizationKind.Scale ? doubles[i] / Divisor : (doubles[i] - Offsets![i % perRow]) / Divisors![i % perRow];
        }
        return DataArray.FromTensor(Tensor.FromDoubles(array.ElementType, doubles, array.Dims, array.Name));
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
        CheckFitted(featuresPerExample, features.Length);
        var offsets = Offsets!;
        var divisors = Divisors!;
        for (var row = 0; row < features.Length; row += featuresPerExample)
        {
            var x = features.Slice(row, featuresPerExample);
            for (var j = 0; j < x.Length; j++)
            {
                x[j] = (x[j] - offsets[j]) / divisors[j];
            }
        }
    }

    private void CheckFitted(int featuresPerExample, int length)
    {
        if (Kind is NormalizationKind.None or NormalizationKind.Scale)
        {
            return;
        }
        var offsets = Offsets ?? throw new InvalidOperationException($"{Kind} normalization without offsets.");
        var divisors = Divisors ?? throw new InvalidOperationException($"{Kind} normalization without divisors.");
        if (offsets.Length != featuresPerExample || divisors.Length != featuresPerExample || (featuresPerExample > 0 && length % featuresPerExample != 0))
        {
            throw ImplicitRegException.BadInput(
                $"the {Kind} normalization was fitted on {offsets.Length} features per example, the data has {featuresPerExample}");
        }
    }

    private static void CheckFloating(DataArray array)
    {
        if (!array.ElementType.IsFloatingPoint())
        {
            throw ImplicitRegException.BadInput($"array '{array.Name}' is {array.ElementType.Name()}; only floating-point arrays are normalized");
        }
    }

    private static DataArray SingleInput(Dataset data) => data.Inputs.Count == 1
        ? data.Inputs[0]
        : throw ImplicitRegException.BadInput(
            $"the data has {data.Inputs.Count} input arrays ({string.Join(", ", data.Inputs.Select(a => a.Name))}); normalize each with DataNormalization");

    /// <summary>This normalization as JSON (what checkpoints store).</summary>
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

    /// <summary>Equal when kind, divisor and every offset and divisor value are equal.</summary>
    public bool Equals(Normalization? other) =>
        other is not null
        && Kind == other.Kind
        && Divisor.Equals(other.Divisor)
        && SameValues(Offsets, other.Offsets)
        && SameValues(Divisors, other.Divisors);

    /// <summary>A hash consistent with <see cref="Equals(Normalization?)"/>.</summary>
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
