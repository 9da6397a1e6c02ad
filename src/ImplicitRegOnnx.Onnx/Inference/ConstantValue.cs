namespace ImplicitRegOnnx.Onnx.Inference;

/// <summary>
/// Reads the compile-time value of a value: a graph initializer, the output of a Constant node, or a
/// small tensor that only rearranges constants (Identity, Unsqueeze, Squeeze, Reshape, Flatten, Concat,
/// Cast to int64), as exporters write for axes and shapes.
/// </summary>
internal static class ConstantValue
{
    /// <summary>Constants larger than this are not folded through operators.</summary>
    private const long MaxFoldedElements = 1024;

    private const int MaxFoldDepth = 8;

    /// <summary>
    /// The tensor a value always holds, or null when it is not a constant. An initializer that is also a
    /// graph input is not constant: the caller may feed another value (ONNX IR spec, "Graphs").
    /// </summary>
    public static Tensor? TryGet(Value? value) => TryGet(value, MaxFoldDepth);

    private static Tensor? TryGet(Value? value, int depth)
    {
        if (value is null)
        {
            return null;
        }
        if (value.Initializer is { } initializer)
        {
            return value.IsGraphInput ? null : initializer;
        }
        if (value.Producer is not { IsStandard: true } producer || depth == 0)
        {
            return null;
        }
        return producer.OpType switch
        {
            "Constant" => FromConstantNode(producer),
            "Identity" or "Unsqueeze" or "Squeeze" or "Reshape" or "Flatten" => Rearranged(producer, value, depth - 1),
            "Concat" => Concatenated(producer, depth - 1),
            "Cast" => CastToInt64(producer, depth - 1),
            _ => null,
        };
    }

    /// <summary>Ops that keep the payload and change only dims: the output's inferred static shape gives them.</summary>
    private static Tensor? Rearranged(Node node, Value output, int depth)
    {
        var data = TryGet(node.Input(0), depth);
        if (data is null || data.ElementType == ElementType.String || data.ElementCount > MaxFoldedElements
            || output.Shape?.ToArray() is not { } dims || Tensor.ElementCountOf(dims) != data.ElementCount)
        {
            return null;
        }
        return new Tensor(data.ElementType, dims, data.RawBytes.ToArray());
    }

    /// <summary>Concat of 1-D int64 constants (shape and axes arithmetic).</summary>
    private static Tensor? Concatenated(Node node, int depth)
    {
        var parts = new List<long>();
        foreach (var input in node.Inputs)
        {
            var tensor = TryGet(input, depth);
            if (tensor is not { ElementType: ElementType.Int64, Dims.Length: 1 } || parts.Count + tensor.ElementCount > MaxFoldedElements)
            {
                return null;
            }
            parts.AddRange(tensor.ToArray<long>());
        }
        return Tensor.FromArray(parts.ToArray(), [parts.Count]);
    }

    /// <summary>Cast of an integer constant to int64.</summary>
    private static Tensor? CastToInt64(Node node, int depth)
    {
        var data = TryGet(node.Input(0), depth);
        if (data is null || !data.ElementType.IsInteger() || data.ElementCount > MaxFoldedElements
            || node.GetAttribute("to")?.Payload is not long to || to != (long)ElementType.Int64)
        {
            return null;
        }
        return Tensor.FromArray(data.ToInt64s(), data.Dims);
    }

    /// <summary>The integer elements of a constant integer tensor, else null.</summary>
    public static long[]? TryGetInts(Value? value)
    {
        var tensor = TryGet(value);
        if (tensor is null || !tensor.ElementType.IsInteger())
        {
            return null;
        }
        return tensor.ToInt64s();
    }

    /// <summary>The tensor of a Constant node from whichever value attribute it sets (ONNX operator spec, Constant).</summary>
    public static Tensor? FromConstantNode(Node node)
    {
        // The spec requires exactly one value attribute; anything else is malformed, so no constant.
        if (node.Attributes.Count != 1)
        {
            return null;
        }
        foreach (var attribute in node.Attributes)
        {
            if (attribute.RefAttrName is not null)
            {
                return null;
            }
            switch (attribute.Name, attribute.Payload)
            {
                case ("value", Tensor t):
                    return t;
                case ("value_float", float f):
                    return Tensor.Scalar(f);
                case ("value_int", long i):
                    return Tensor.Scalar(i);
                case ("value_floats", float[] fs):
                    return Tensor.FromArray(fs, [fs.Length]);
                case ("value_ints", long[] ints):
                    return Tensor.FromArray(ints, [ints.Length]);
                case ("value_string", byte[] s):
                    return Tensor.FromStrings([], [s]);
                case ("value_strings", byte[][] ss):
                    return Tensor.FromStrings([ss.Length], ss);
                default:
                    break;
            }
        }
        return null;
    }
}
