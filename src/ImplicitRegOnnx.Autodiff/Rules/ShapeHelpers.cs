using ImplicitRegOnnx.Onnx;

namespace ImplicitRegOnnx.Autodiff.Rules;

/// <summary>
/// Shape arithmetic shared by the shape and indexing rules. Everything emitted here works on int64
/// shape tensors (non-differentiable) and folds to constants when the shapes are static.
/// </summary>
internal static class ShapeHelpers
{
    /// <summary>An axis in [0, rank) (ONNX axes may count from the end).</summary>
    public static int NormalizeAxis(GradientContext c, long axis, int rank)
    {
        var normalized = axis < 0 ? axis + rank : axis;
        if (normalized < 0 || normalized >= Math.Max(rank, 1))
        {
            throw ImplicitRegException.BadInput($"{c.Describe()}: axis {axis} is out of range for rank {rank}");
        }
        return (int)normalized;
    }

    /// <summary>The dims [start, end) of <paramref name="x"/> as a 1-D int64 tensor; a constant when they are static.</summary>
    public static Value Dims(GradientContext c, Value x, int start, int end)
    {
        if (end <= start)
        {
            return c.B.Constant(Tensor.FromArray(Array.Empty<long>(), [0]));
        }
        if (x.Shape is { } shape && Enumerable.Range(start, end - start).All(i => shape[i].IsKnown))
        {
            return c.B.Ints([.. Enumerable.Range(start, end - start).Select(i => shape[i].Value!.Value)]);
        }
        return c.Opset >= 15
            ? c.B.Op("Shape", [x], Attribute.Int("start", start), Attribute.Int("end", end))
            : c.B.Op("Slice", [c.B.Shape(x), c.B.Ints(start), c.B.Ints(end)]);
    }

    /// <summary>
    /// Transpose(x, perm), or the input of x's own Transpose when the two permutations cancel
    /// (Transpose(Transpose(z, p), q) = z when p[q[i]] = i for every axis i): gradient rules transpose
    /// back what the forward graph transposed, and a full-size copy saved is one pass less.
    /// </summary>
    public static Value Transpose(GradientContext c, Value x, long[] perm)
    {
        if (x.Producer is { IsStandard: true, OpType: "Transpose" } node && node.Input(0) is { } z && node.Outputs[0] == x)
        {
            var inner = node.GetInts("perm")?.ToArray() ?? [.. Enumerable.Range(0, perm.Length).Reverse().Select(i => (long)i)];
            if (inner.Length == perm.Length && Enumerable.Range(0, perm.Length).All(i => inner[perm[i]] == i))
            {
                return z;
            }
        }
        return c.B.Transpose(x, perm);
    }

    /// <summary>The shape of <paramref name="x"/>; a constant when static.</summary>
    public static Value ShapeOf(GradientContext c, Value x) =>
        x.Shape?.ToArray() is { } dims ? c.B.Ints(dims) : c.B.Shape(x);

    /// <summary>Concatenates 1-D int64 shape pieces.</summary>
    public static Value ConcatShapes(GradientContext c, params Value[] pieces) =>
        pieces.Length == 1 ? pieces[0] : c.B.Op("Concat", pieces, Attribute.Int("axis", 0));

    /// <summary>
    /// The flat (row-major) position of every element of <paramref name="x"/>, shaped like x:
    /// Reshape(Range(0, Size(x), 1), Shape(x)). Feeding this through a forward op that only moves
    /// elements (Slice, Pad reflect/edge, ...) tells, for each output element, which input element it
    /// came from; the gradient is then a scatter of the output gradient back to those positions.
    /// </summary>
    public static Value FlatPositions(GradientContext c, Value x)
    {
        // Small static shapes (and opset 10, which has no Range) get the positions as a constant.
        if (x.Shape?.ToArray() is { } dims && (c.Opset < 11 || dims.Aggregate(1L, (a, d) => a * d) <= 1024))
        {
            var n = dims.Aggregate(1L, (a, d) => a * d);
            var values = new long[n];
            for (var i = 0L; i < n; i++)
            {
                values[i] = i;
            }
            return c.B.Constant(Tensor.FromArray(values, dims));
        }
        var count = c.B.Op("Size", [x]);
        var range = c.B.Op("Range", [c.B.Constant(Tensor.Scalar(0L)), count, c.B.Constant(Tensor.Scalar(1L))]);
        return c.B.Reshape(range, ShapeOf(c, x));
    }

    /// <summary>
    /// The adjoint of a map that copies input elements to output positions: scatters <paramref name="dy"/>
    /// into zeros of x's size at the flat positions <paramref name="positions"/> (shaped like dy), adding
    /// repeats when <paramref name="accumulate"/>. From opset 16 that is ScatterElements with
    /// reduction='add'; before, the sum is a product with a one-hot matrix, dy[1, M] · OneHot(p)[M, N],
    /// which costs M·N memory (fine for the small cases that old opsets see).
    /// </summary>
    public static Value ScatterToPositions(GradientContext c, Value x, Value positions, Value dy, bool accumulate)
    {
        var flatPositions = c.B.Reshape(positions, -1);
        Value scattered;
        if (accumulate && c.Opset < 16)
        {
            // ONNX Runtime's OneHot kernels produce integers from int64 indices: cast the matrix afterwards.
            var oneHot = c.B.Op("OneHot", [flatPositions, c.B.Op("Size", [x]), c.B.Ints(0, 1)]);
            var typed = c.CastLike(oneHot, dy);
            scattered = c.B.MatMul(c.B.Reshape(dy, 1, -1), typed);
        }
        else
        {
            var zeros = c.B.Reshape(c.ZerosLike(x), -1);
            var flatGrad = c.B.Reshape(dy, -1);
            scattered = accumulate
                ? c.B.Op("ScatterElements", [zeros, flatPositions, flatGrad], Attribute.Int("axis", 0), Attribute.String("reduction", "add"))
                : c.B.Op("ScatterElements", [zeros, flatPositions, flatGrad], Attribute.Int("axis", 0));
        }
        return c.B.Reshape(scattered, ShapeOf(c, x));
    }

    /// <summary>
    /// The gradient of a gather-like op (Gather, GatherElements, GatherND): the same op applied to the
    /// data's flat positions tells where each output element came from; the gradient adds dy there.
    /// </summary>
    public static Value GatherAdjointByPositions(GradientContext c, Value data, Value dy) =>
        ScatterToPositions(c, data, c.B.Op(c.Node.OpType, [FlatPositions(c, data), .. c.Node.Inputs.Skip(1)], [.. c.Node.Attributes]), dy, accumulate: true);

    public static void RequireOpset(GradientContext c, long opset, string what)
    {
        if (c.Opset < opset)
        {
            throw ImplicitRegException.Unsupported($"{c.Describe()}: the gradient needs {what}, which requires opset {opset} or newer (the graph imports opset {c.Opset})");
        }
    }
}
