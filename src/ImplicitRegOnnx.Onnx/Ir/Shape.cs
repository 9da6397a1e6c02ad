using System.Text;

namespace ImplicitRegOnnx.Onnx;

/// <summary>
/// One dimension of a tensor shape: a known size, a named symbol (dim_param), or unknown.
/// Symbols with the same name denote the same size throughout a model (ONNX IR spec, "Static tensor shapes").
/// </summary>
public readonly record struct Dim
{
    private Dim(long? value, string? symbol, string? denotation)
    {
        Value = value;
        Symbol = symbol;
        Denotation = denotation;
    }

    /// <summary>The size when known.</summary>
    public long? Value { get; }

    /// <summary>The symbol when the size is named but not known.</summary>
    public string? Symbol { get; }

    /// <summary>Optional semantic denotation (e.g. DATA_BATCH); carried through unchanged.</summary>
    public string? Denotation { get; init; }

    public static Dim Unknown => default;

    public static Dim Of(long value) => new(value, null, null);

    public static Dim Named(string symbol) => new(null, symbol, null);

    public bool IsKnown => Value.HasValue;

    public bool IsSymbolic => Symbol is not null;

    /// <summary>Same size for sure: equal known values, or the same symbol.</summary>
    public bool SameAs(Dim other) =>
        (Value.HasValue && other.Value == Value) || (Symbol is not null && Symbol == other.Symbol);

    public static implicit operator Dim(long value) => Of(value);

    public static Dim FromInt64(long value) => Of(value);

    public override string ToString() => Value?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? Symbol ?? "?";
}

/// <summary>An ordered list of dimensions. A value whose rank is unknown has no Shape (null), not an empty one.</summary>
public sealed class Shape : IReadOnlyList<Dim>, IEquatable<Shape>
{
    private readonly Dim[] _dims;

    public Shape(IEnumerable<Dim> dims) => _dims = dims.ToArray();

    public Shape(params long[] dims) => _dims = Array.ConvertAll(dims, d => Dim.Of(d));

    public static Shape Scalar { get; } = new(Array.Empty<Dim>());

    public int Rank => _dims.Length;

    public int Count => _dims.Length;

    public Dim this[int index] => _dims[index];

    /// <summary>True when every dimension is a known size.</summary>
    public bool IsStatic => Array.TrueForAll(_dims, d => d.IsKnown);

    /// <summary>The sizes when static, else null.</summary>
    public long[]? ToArray() => IsStatic ? Array.ConvertAll(_dims, d => d.Value!.Value) : null;

    /// <summary>The number of elements when static.</summary>
    public long? ElementCount()
    {
        long count = 1;
        foreach (var d in _dims)
        {
            if (d.Value is not { } v)
            {
                return null;
            }
            count = checked(count * v);
        }
        return count;
    }

    public IEnumerator<Dim> GetEnumerator() => ((IEnumerable<Dim>)_dims).GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => _dims.GetEnumerator();

    public bool Equals(Shape? other) => other is not null && _dims.AsSpan().SequenceEqual(other._dims);

    public override bool Equals(object? obj) => obj is Shape s && Equals(s);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var d in _dims)
        {
            hash.Add(d);
        }
        return hash.ToHashCode();
    }

    public override string ToString()
    {
        var sb = new StringBuilder("[");
        for (var i = 0; i < _dims.Length; i++)
        {
            if (i > 0)
            {
                sb.Append(',');
            }
            sb.Append(_dims[i].ToString());
        }
        return sb.Append(']').ToString();
    }
}
