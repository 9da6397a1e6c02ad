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

    /// <summary>The size when known; null for a symbolic or unknown dimension.</summary>
    public long? Value { get; }

    /// <summary>The symbol (dim_param, e.g. "batch") when the size is named but not known; null otherwise.</summary>
    public string? Symbol { get; }

    /// <summary>The dimension's denotation (e.g. DATA_BATCH, DATA_CHANNEL) when the file gives one, else null; carried through unchanged and ignored by comparisons of sizes (<see cref="SameAs"/>).</summary>
    public string? Denotation { get; init; }

    /// <summary>A dimension of which nothing is known: neither size nor symbol.</summary>
    public static Dim Unknown => default;

    /// <summary>A dimension of known size.</summary>
    /// <param name="value">The size.</param>
    public static Dim Of(long value) => new(value, null, null);

    /// <summary>A symbolic dimension (dim_param): its size is not known, but every dimension named <paramref name="symbol"/> in the model has the same size.</summary>
    /// <param name="symbol">The symbol, e.g. "batch".</param>
    public static Dim Named(string symbol) => new(null, symbol, null);

    /// <summary>Whether the size is known (<see cref="Value"/> is not null).</summary>
    public bool IsKnown => Value.HasValue;

    /// <summary>Whether the dimension is named by a symbol (<see cref="Symbol"/> is not null).</summary>
    public bool IsSymbolic => Symbol is not null;

    /// <summary>Whether both dimensions certainly have the same size: equal known sizes, or the same symbol. False when either is unknown, so <c>!SameAs</c> does not mean "different".</summary>
    /// <param name="other">The other dimension.</param>
    public bool SameAs(Dim other) =>
        (Value.HasValue && other.Value == Value) || (Symbol is not null && Symbol == other.Symbol);

    /// <summary>A known size as a dimension (<see cref="Of"/>).</summary>
    /// <param name="value">The size.</param>
    public static implicit operator Dim(long value) => Of(value);

    /// <summary>The same as <see cref="Of"/>: the named form of the implicit conversion from <see cref="long"/>.</summary>
    /// <param name="value">The size.</param>
    public static Dim FromInt64(long value) => Of(value);

    /// <summary>The size, the symbol, or "?" when unknown.</summary>
    public override string ToString() => Value?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? Symbol ?? "?";
}

/// <summary>
/// An ordered, immutable list of dimensions (TensorShapeProto). Rank 0 is a scalar. A value whose rank is unknown
/// has no shape (null), not an empty one. Two shapes are <see cref="Equals(Shape)"/> when their dimensions are equal
/// as records (same size, symbol and denotation); use <see cref="Dim.SameAs"/> to ask whether sizes agree.
/// </summary>
public sealed class Shape : IReadOnlyList<Dim>, IEquatable<Shape>
{
    private readonly Dim[] _dims;

    /// <summary>A shape of the given dimensions (copied).</summary>
    /// <param name="dims">The dimensions, outermost first.</param>
    public Shape(IEnumerable<Dim> dims) => _dims = dims.ToArray();

    /// <summary>A static shape of known sizes.</summary>
    /// <param name="dims">The sizes, outermost first.</param>
    public Shape(params long[] dims) => _dims = Array.ConvertAll(dims, d => Dim.Of(d));

    /// <summary>The shape of rank 0.</summary>
    public static Shape Scalar { get; } = new(Array.Empty<Dim>());

    /// <summary>The number of dimensions.</summary>
    public int Rank => _dims.Length;

    /// <summary>The number of dimensions (the same as <see cref="Rank"/>).</summary>
    public int Count => _dims.Length;

    /// <summary>The dimension at <paramref name="index"/>, 0 being the outermost.</summary>
    /// <param name="index">From 0 to <see cref="Rank"/> - 1.</param>
    /// <exception cref="IndexOutOfRangeException"><paramref name="index"/> is outside the shape.</exception>
    public Dim this[int index] => _dims[index];

    /// <summary>True when every dimension is a known size (true for a scalar).</summary>
    public bool IsStatic => Array.TrueForAll(_dims, d => d.IsKnown);

    /// <summary>The sizes when the shape is static (a new array), else null.</summary>
    public long[]? ToArray() => IsStatic ? Array.ConvertAll(_dims, d => d.Value!.Value) : null;

    /// <summary>The number of elements (1 for a scalar) when the shape is static, else null.</summary>
    /// <exception cref="ImplicitRegException">Of kind <see cref="ErrorKind.BadInput"/>: the product of the sizes does not fit in a <see cref="long"/> (a damaged or hostile model).</exception>
    public long? ElementCount()
    {
        long count = 1;
        foreach (var d in _dims)
        {
            if (d.Value is not { } v)
            {
                return null;
            }
            if (!TryMultiply(count, v, out count))
            {
                throw ImplicitRegException.BadInput($"shape {this} has more elements than a 64-bit count holds; fix the shape in the model");
            }
        }
        return count;
    }

    /// <summary>
    /// True when the known sizes multiply to a count that fits in a <see cref="long"/> (symbolic and unknown
    /// dimensions are left out: whatever they are bound to, the count is at least this one unless one is 0); a
    /// shape with a 0 size fits.
    /// </summary>
    internal bool KnownSizesFit()
    {
        if (Array.Exists(_dims, d => d.Value == 0))
        {
            return true;
        }
        long count = 1;
        foreach (var d in _dims)
        {
            if (d.Value is { } v && !TryMultiply(count, v, out count))
            {
                return false;
            }
        }
        return true;
    }

    private static bool TryMultiply(long a, long b, out long product)
    {
        try
        {
            product = checked(a * b);
            return true;
        }
        catch (OverflowException)
        {
            product = 0;
            return false;
        }
    }

    /// <summary>Enumerates the dimensions, outermost first.</summary>
    public IEnumerator<Dim> GetEnumerator() => ((IEnumerable<Dim>)_dims).GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => _dims.GetEnumerator();

    /// <summary>Whether <paramref name="other"/> has the same dimensions (same sizes, symbols and denotations) in the same order.</summary>
    /// <param name="other">The other shape; null is never equal.</param>
    public bool Equals(Shape? other) => other is not null && _dims.AsSpan().SequenceEqual(other._dims);

    /// <summary>Whether <paramref name="obj"/> is a <see cref="Shape"/> equal to this one (<see cref="Equals(Shape)"/>).</summary>
    /// <param name="obj">The other object.</param>
    public override bool Equals(object? obj) => obj is Shape s && Equals(s);

    /// <summary>A hash consistent with <see cref="Equals(Shape)"/>.</summary>
    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var d in _dims)
        {
            hash.Add(d);
        }
        return hash.ToHashCode();
    }

    /// <summary>The dimensions in brackets, e.g. <c>[batch,3,?]</c>.</summary>
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
