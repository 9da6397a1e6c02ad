using ImplicitRegOnnx.Onnx;

namespace ImplicitRegOnnx.Runtime.Data;

/// <summary>
/// A <see cref="Normalization"/> per named array of a data set, fitted on the training set and applied
/// unchanged to test data. Arrays without one (integer ids, masks, the target) pass unchanged.
/// </summary>
public sealed class DataNormalization
{
    /// <summary>Normalizations by array name; the dictionary is copied.</summary>
    public DataNormalization(IReadOnlyDictionary<string, Normalization> byArray)
    {
        ArgumentNullException.ThrowIfNull(byArray);
        ByArray = byArray.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
    }

    /// <summary>Nothing normalized.</summary>
    public static DataNormalization None { get; } = new(new Dictionary<string, Normalization>());

    /// <summary>The normalization of each array, by name.</summary>
    public IReadOnlyDictionary<string, Normalization> ByArray { get; }

    /// <summary>
    /// Fits <paramref name="kind"/> on every floating-point input array of the training set, each with
    /// its own statistics; integer and bool arrays and the target are not normalized.
    /// </summary>
    public static DataNormalization Fit(NormalizationKind kind, Dataset training, double divisor = 255)
    {
        ArgumentNullException.ThrowIfNull(training);
        if (kind == NormalizationKind.None)
        {
            return None;
        }
        return new(training.Inputs.Where(a => a.ElementType.IsFloatingPoint())
            .ToDictionary(a => a.Name, a => Normalization.Fit(kind, a, divisor), StringComparer.Ordinal));
    }

    /// <summary>Parses a command-line spelling (as <see cref="Normalization.Parse"/>) and fits it with <see cref="Fit"/>.</summary>
    /// <exception cref="ImplicitRegException">Of kind BadInput: an unknown spelling (the message lists the valid ones).</exception>
    public static DataNormalization Parse(string spec, Dataset training)
    {
        var (kind, divisor) = Normalization.ParseSpec(spec);
        return Fit(kind, training, divisor);
    }

    /// <summary>The data set with each array that has a normalization normalized (new arrays; the others shared).</summary>
    /// <exception cref="ImplicitRegException">Of kind BadInput: an array named here is missing, or has another number of values per row than it was fitted on.</exception>
    public Dataset Apply(Dataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        foreach (var (name, normalization) in ByArray)
        {
            if (!data.Contains(name))
            {
                var where = data.Source is null ? "the data" : $"'{data.Source}'";
                throw ImplicitRegException.BadInput($"{where} has no array '{name}' to normalize; it holds {data.Holds}");
            }
            data = data.With(normalization.Apply(data[name]));
        }
        return data;
    }
}
