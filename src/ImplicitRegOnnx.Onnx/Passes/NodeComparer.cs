using System.Runtime.CompilerServices;

namespace ImplicitRegOnnx.Onnx.Passes;

/// <summary>
/// Structural equality of nodes for <see cref="CommonSubexpressionElimination"/>: same domain,
/// operator, overload, the same input value objects, the same pattern of present and omitted
/// outputs, and equal attributes (order ignored: ONNX attributes are named, not positional).
/// </summary>
internal sealed class NodeComparer : IEqualityComparer<Node>
{
    public static NodeComparer Instance { get; } = new();

    public bool Equals(Node? x, Node? y)
    {
        if (ReferenceEquals(x, y))
        {
            return true;
        }
        if (x is null || y is null
            || x.OpType != y.OpType
            || Model.NormalizeDomain(x.Domain) != Model.NormalizeDomain(y.Domain)
            || x.Overload != y.Overload
            || x.Inputs.Count != y.Inputs.Count
            || x.Outputs.Count != y.Outputs.Count
            || x.Attributes.Count != y.Attributes.Count)
        {
            return false;
        }
        for (var i = 0; i < x.Inputs.Count; i++)
        {
            if (!ReferenceEquals(x.Inputs[i], y.Inputs[i]))
            {
                return false;
            }
        }
        for (var i = 0; i < x.Outputs.Count; i++)
        {
            if ((x.Outputs[i] is null) != (y.Outputs[i] is null))
            {
                return false;
            }
        }
        foreach (var a in x.Attributes)
        {
            if (y.GetAttribute(a.Name) is not { } b || !AttributeEquals(a, b))
            {
                return false;
            }
        }
        return true;
    }

    public int GetHashCode(Node obj)
    {
        var hash = new HashCode();
        hash.Add(obj.OpType, StringComparer.Ordinal);
        hash.Add(Model.NormalizeDomain(obj.Domain), StringComparer.Ordinal);
        foreach (var input in obj.Inputs)
        {
            hash.Add(input is null ? 0 : RuntimeHelpers.GetHashCode(input));
        }
        hash.Add(obj.Outputs.Count);
        // Attribute order is not significant, so combine their hashes commutatively.
        var attributes = 0;
        foreach (var a in obj.Attributes)
        {
            attributes += AttributeHash(a);
        }
        hash.Add(attributes);
        return hash.ToHashCode();
    }

    /// <summary>Deep equality of attribute payloads; floats compare by bit pattern (so NaN equals itself and 0 differs from -0).</summary>
    public static bool AttributeEquals(Attribute a, Attribute b)
    {
        if (a.Name != b.Name || a.Kind != b.Kind || a.RefAttrName != b.RefAttrName)
        {
            return false;
        }
        return (a.Payload, b.Payload) switch
        {
            (null, null) => true,
            (float f, float g) => BitConverter.SingleToInt32Bits(f) == BitConverter.SingleToInt32Bits(g),
            (long i, long j) => i == j,
            (byte[] s, byte[] t) => s.AsSpan().SequenceEqual(t),
            (Tensor s, Tensor t) => s.ContentEquals(t),
            (SparseTensor s, SparseTensor t) => SparseEquals(s, t),
            (OnnxType s, OnnxType t) => s.Equals(t),
            (float[] s, float[] t) => FloatBitsEqual(s, t),
            (long[] s, long[] t) => s.AsSpan().SequenceEqual(t),
            (byte[][] s, byte[][] t) => s.Length == t.Length && s.Zip(t).All(p => p.First.AsSpan().SequenceEqual(p.Second)),
            (Tensor[] s, Tensor[] t) => s.Length == t.Length && s.Zip(t).All(p => p.First.ContentEquals(p.Second)),
            (SparseTensor[] s, SparseTensor[] t) => s.Length == t.Length && s.Zip(t).All(p => SparseEquals(p.First, p.Second)),
            (OnnxType[] s, OnnxType[] t) => s.Length == t.Length && s.Zip(t).All(p => p.First.Equals(p.Second)),
            // Graphs are never compared: nodes holding them are not merged.
            _ => false,
        };
    }

    private static int AttributeHash(Attribute a)
    {
        var hash = new HashCode();
        hash.Add(a.Name, StringComparer.Ordinal);
        hash.Add(a.Kind);
        switch (a.Payload)
        {
            case float f:
                hash.Add(BitConverter.SingleToInt32Bits(f));
                break;
            case long i:
                hash.Add(i);
                break;
            case byte[] s:
                hash.AddBytes(s);
                break;
            case long[] ints:
                foreach (var i in ints)
                {
                    hash.Add(i);
                }
                break;
            case float[] fs:
                foreach (var f in fs)
                {
                    hash.Add(BitConverter.SingleToInt32Bits(f));
                }
                break;
            case Tensor t:
                hash.Add(t.ContentHash());
                break;
            default:
                // Other kinds only contribute their kind; equality sorts them out.
                break;
        }
        return hash.ToHashCode();
    }

    private static bool FloatBitsEqual(float[] s, float[] t)
    {
        if (s.Length != t.Length)
        {
            return false;
        }
        for (var i = 0; i < s.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(s[i]) != BitConverter.SingleToInt32Bits(t[i]))
            {
                return false;
            }
        }
        return true;
    }

    private static bool SparseEquals(SparseTensor s, SparseTensor t) =>
        s.Dims.AsSpan().SequenceEqual(t.Dims) && s.Values.ContentEquals(t.Values) && s.Indices.ContentEquals(t.Indices);
}
