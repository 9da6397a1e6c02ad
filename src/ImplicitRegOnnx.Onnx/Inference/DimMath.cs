namespace ImplicitRegOnnx.Onnx.Inference;

/// <summary>
/// Arithmetic on dimensions that may be known, symbolic or unknown. A result that would be a new
/// function of a symbol is unknown: no symbol names are invented.
/// </summary>
internal static class DimMath
{
    /// <summary>Applies a size formula to a known dimension; anything else gives an unknown dimension.</summary>
    public static Dim Map(Dim dim, Func<long, long> formula) => dim.Value is { } v ? Dim.Of(formula(v)) : Dim.Unknown;

    /// <summary>The axis in [0, rank), counting negative axes from the end; null when out of range.</summary>
    public static int? Axis(long axis, int rank)
    {
        var normalized = axis < 0 ? axis + rank : axis;
        return normalized >= 0 && normalized < rank ? (int)normalized : null;
    }

    /// <summary>Normalizes a list of axes; null when any is out of range or repeated.</summary>
    public static int[]? Axes(IEnumerable<long> axes, int rank)
    {
        var result = new List<int>();
        foreach (var a in axes)
        {
            if (Axis(a, rank) is not { } n || result.Contains(n))
            {
                return null;
            }
            result.Add(n);
        }
        return [.. result];
    }

    /// <summary>
    /// Numpy-style broadcast of two dimensions (ONNX "Broadcasting in ONNX"): equal sizes, or one of them
    /// is 1. Returns false when the two known sizes cannot broadcast.
    /// </summary>
    public static bool TryBroadcast(Dim a, Dim b, out Dim result)
    {
        result = Dim.Unknown;
        if (a.Value == 1)
        {
            result = b;
        }
        else if (b.Value == 1)
        {
            result = a;
        }
        else if (a.IsKnown && b.IsKnown)
        {
            if (a.Value != b.Value)
            {
                return false;
            }
            result = a;
        }
        else if (a.IsKnown)
        {
            // b is either 1 or equal to a: the result is a either way.
            result = a;
        }
        else if (b.IsKnown)
        {
            result = b;
        }
        else if (a.SameAs(b))
        {
            result = a;
        }
        return true;
    }

    /// <summary>Multidirectional broadcast of shapes; null when any rank is unknown or sizes clash.</summary>
    public static Shape? Broadcast(IEnumerable<Shape?> shapes)
    {
        var list = shapes.ToList();
        if (list.Count == 0 || list.Any(s => s is null))
        {
            return null;
        }
        var rank = list.Max(s => s!.Rank);
        var dims = new Dim[rank];
        for (var i = 0; i < rank; i++)
        {
            var dim = Dim.Of(1);
            foreach (var shape in list)
            {
                var offset = i - (rank - shape!.Rank);
                if (offset >= 0 && !TryBroadcast(dim, shape[offset], out dim))
                {
                    return null;
                }
            }
            dims[i] = dim;
        }
        return new Shape(dims);
    }

    /// <summary>
    /// The product of dimensions: known when all are known (or one is 0); the single symbolic factor
    /// when every other factor is 1; else unknown.
    /// </summary>
    public static Dim Product(IEnumerable<Dim> dims)
    {
        long known = 1;
        var others = new List<Dim>();
        foreach (var d in dims)
        {
            if (d.Value == 0)
            {
                return Dim.Of(0);
            }
            if (d.Value is { } v)
            {
                known = checked(known * v);
            }
            else
            {
                others.Add(d);
            }
        }
        return others.Count switch
        {
            0 => Dim.Of(known),
            1 when known == 1 && others[0].IsSymbolic => others[0],
            _ => Dim.Unknown,
        };
    }

    /// <summary>The sum of dimensions: known when all are known; a lone non-zero term passes through.</summary>
    public static Dim Sum(IEnumerable<Dim> dims)
    {
        long known = 0;
        var others = new List<Dim>();
        foreach (var d in dims)
        {
            if (d.Value is { } v)
            {
                known = checked(known + v);
            }
            else
            {
                others.Add(d);
            }
        }
        return others.Count switch
        {
            0 => Dim.Of(known),
            1 when known == 0 && others[0].IsSymbolic => others[0],
            _ => Dim.Unknown,
        };
    }

    /// <summary>
    /// The size two dims must share (e.g. the contracted K of MatMul, or equal dims of Concat inputs):
    /// a known size from either, else a common symbol, else a symbol from either.
    /// </summary>
    public static Dim Unify(Dim a, Dim b)
    {
        if (a.IsKnown)
        {
            return a;
        }
        if (b.IsKnown)
        {
            return b;
        }
        return a.IsSymbolic ? a : b;
    }

    /// <summary>Division rounding toward negative infinity.</summary>
    public static long FloorDiv(long a, long b)
    {
        var q = a / b;
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
    }

    /// <summary>Division rounding toward positive infinity.</summary>
    public static long CeilDiv(long a, long b) => -FloorDiv(-a, b);

    /// <summary>A shape of <paramref name="rank"/> unknown dimensions.</summary>
    public static Shape UnknownDims(int rank) => new(Enumerable.Repeat(Dim.Unknown, rank));
}
