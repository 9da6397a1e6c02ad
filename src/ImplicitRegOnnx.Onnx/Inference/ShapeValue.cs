namespace ImplicitRegOnnx.Onnx.Inference;

/// <summary>
/// Reads a 1-D int64 value that exporters compute from shapes at run time, e.g.
/// Concat(Unsqueeze(Gather(Shape(x), 0)), [-1, 8]) for a "view(batch, -1, 8)": each entry is either a
/// literal from a constant (where Reshape's 0 and -1 keep their meaning) or a dimension of some tensor
/// (known, symbolic or unknown). Lets Reshape keep the static dims of such shapes.
/// </summary>
internal static class ShapeValue
{
    /// <summary>One entry of a shape value: a literal constant, or the dim of a tensor.</summary>
    public readonly record struct Entry(Dim Dim, bool IsLiteral);

    private const int MaxDepth = 8;

    public static Entry[]? TryGet(Value? value) => TryGet(value, MaxDepth);

    private static Entry[]? TryGet(Value? value, int depth)
    {
        if (value is null || depth == 0)
        {
            return null;
        }
        if (ConstantValue.TryGetInts(value) is { } literal)
        {
            return [.. literal.Select(v => new Entry(Dim.Of(v), true))];
        }
        var node = value.Producer;
        if (node is not { IsStandard: true })
        {
            return null;
        }
        switch (node.OpType)
        {
            case "Shape":
                {
                    if (node.Input(0)?.Shape is not { } shape)
                    {
                        return null;
                    }
                    var rank = shape.Rank;
                    var start = Clamp(node.GetInt("start", 0), rank);
                    var end = Clamp(node.GetInt("end", rank), rank);
                    return [.. shape.Skip((int)start).Take((int)Math.Max(0, end - start)).Select(d => new Entry(d, false))];
                }
            case "Cast" or "Identity":
                return TryGet(node.Input(0), depth - 1);
            case "Concat":
                {
                    var parts = new List<Entry>();
                    foreach (var input in node.Inputs)
                    {
                        if (TryGet(input, depth - 1) is not { } part)
                        {
                            return null;
                        }
                        parts.AddRange(part);
                    }
                    return [.. parts];
                }
            case "Unsqueeze" or "Squeeze" or "Reshape":
                {
                    // A scalar made 1-D (or back): same entries when there is at most one.
                    var inner = TryGet(node.Input(0), depth - 1);
                    return inner is { Length: <= 1 } ? inner : null;
                }
            case "Gather":
                {
                    var source = TryGet(node.Input(0), depth - 1);
                    var indices = ConstantValue.TryGetInts(node.Input(1));
                    if (source is null || indices is null || node.GetInt("axis", 0) != 0)
                    {
                        return null;
                    }
                    var picked = new List<Entry>();
                    foreach (var i in indices)
                    {
                        var k = i < 0 ? i + source.Length : i;
                        if (k < 0 || k >= source.Length)
                        {
                            return null;
                        }
                        picked.Add(source[k]);
                    }
                    return [.. picked];
                }
            case "Slice" when node.Inputs.Count >= 3:
                {
                    // A unit-step slice of a shape value, e.g. Shape(x)[0:2] in PyTorch's interpolate(size=...).
                    var source = TryGet(node.Input(0), depth - 1);
                    var starts = ConstantValue.TryGetInts(node.Input(1));
                    var ends = ConstantValue.TryGetInts(node.Input(2));
                    var axes = node.Input(3) is null ? [0] : ConstantValue.TryGetInts(node.Input(3));
                    var steps = node.Input(4) is null ? [1] : ConstantValue.TryGetInts(node.Input(4));
                    if (source is null || starts is not [var start] || ends is not [var end] || axes is not [0 or -1] || steps is not [1])
                    {
                        return null;
                    }
                    var from = (int)Clamp(start, source.Length);
                    var to = (int)Clamp(Math.Min(end, source.Length), source.Length);
                    return to <= from ? [] : source[from..to];
                }
            default:
                return null;
        }
    }

    private static long Clamp(long axis, int rank) => Math.Clamp(axis < 0 ? axis + rank : axis, 0, rank);
}
