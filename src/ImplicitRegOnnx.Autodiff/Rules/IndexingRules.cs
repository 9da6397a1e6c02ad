using ImplicitRegOnnx.Onnx;
using static ImplicitRegOnnx.Autodiff.Rules.ShapeHelpers;

namespace ImplicitRegOnnx.Autodiff.Rules;

/// <summary>
/// Gathers, scatters, Einsum, CumSum and Resize (ONNX operator spec). Gathers and scatters are adjoint
/// to each other: the gradient of a gather adds the output gradient back at the gathered positions
/// (ScatterElements/ScatterND with reduction='add' from opset 16, a one-hot product before, so repeated
/// indices accumulate, as for an embedding table), and the gradient of a scatter gathers from the
/// output gradient.
/// </summary>
internal static class IndexingRules
{
    public static void Register(RuleRegistry r)
    {
        r.Add("Gather", Gather);
        r.Add("GatherElements", c =>
        {
            if (c.Opset < 16)
            {
                c.SetGrad(0, GatherAdjointByPositions(c, c.X(0), c.Dy));
                return;
            }
            c.SetGrad(0, c.B.Op("ScatterElements", [c.ZerosLike(c.X(0)), c.X(1), c.Dy],
                Attribute.Int("axis", c.Int("axis", 0)), Attribute.String("reduction", "add")));
        });
        r.Add("GatherND", c =>
        {
            // ScatterND has no batch_dims: batched gathers (and old opsets) scatter by flat positions.
            if (c.Opset < 16 || c.Int("batch_dims", 0) != 0)
            {
                c.SetGrad(0, GatherAdjointByPositions(c, c.X(0), c.Dy));
                return;
            }
            c.SetGrad(0, c.B.Op("ScatterND", [c.ZerosLike(c.X(0)), c.X(1), c.Dy], Attribute.String("reduction", "add")));
        });
        r.Add("ScatterElements", c => Scatter(c, "GatherElements", c.Int("axis", 0)));
        r.Add("ScatterND", c => Scatter(c, "GatherND", null));
        r.Add("CumSum", c =>
        {
            // The adjoint of a running sum is the running sum in the other direction (exclusive stays exclusive).
            c.SetGrad(0, c.B.Op("CumSum", [c.Dy, c.X(1)],
                Attribute.Int("exclusive", c.Int("exclusive", 0)), Attribute.Int("reverse", 1 - c.Int("reverse", 0))));
        });
        r.Add("Einsum", EinsumGradient.Apply);
        r.Add("Resize", ResizeGradient.Apply);
        // TopK's values are elements of x at the returned indices (distinct along axis): scatter them back.
        r.Add("TopK", c => c.SetGrad(0, c.B.Op("ScatterElements", [c.ZerosLike(c.X(0)), c.Y(1), c.Dy], Attribute.Int("axis", c.Int("axis", -1)))));
    }

    /// <summary>
    /// Gather along axis (indices of any rank, possibly negative): with the output gradient reshaped to
    /// data.shape[:axis] + [#indices] + data.shape[axis+1:] and the indices broadcast to that shape,
    /// ScatterElements(zeros, indices, gradient, reduction='add') sums the rows each index picked.
    /// </summary>
    private static void Gather(GradientContext c)
    {
        var data = c.X(0);
        if (c.Opset < 16)
        {
            c.SetGrad(0, GatherAdjointByPositions(c, data, c.Dy));
            return;
        }
        var rank = c.Rank(data);
        var axis = NormalizeAxis(c, c.Int("axis", 0), rank);
        var gradient = c.B.Reshape(c.Dy, ConcatShapes(c, Dims(c, data, 0, axis), c.B.Ints(-1), Dims(c, data, axis + 1, rank)));
        var indexShape = Enumerable.Range(0, rank).Select(i => i == axis ? -1L : 1L).ToArray();
        var indices = c.B.Expand(c.B.Reshape(c.X(1), indexShape), ShapeOf(c, gradient));
        c.SetGrad(0, c.B.Op("ScatterElements", [c.ZerosLike(data), indices, gradient],
            Attribute.Int("axis", axis), Attribute.String("reduction", "add")));
    }

    /// <summary>
    /// ScatterElements / ScatterND (data, indices, updates). Without reduction the scattered positions
    /// of data are overwritten, so data's gradient is the output gradient with them zeroed; with
    /// reduction='add' data passes straight through. Either way the updates' gradient gathers the output
    /// gradient at the indices. Other reductions (mul, max, min) are not supported.
    /// </summary>
    private static void Scatter(GradientContext c, string gatherOp, long? axis)
    {
        var reduction = c.String("reduction", "none");
        if (reduction is not ("none" or "add"))
        {
            throw ImplicitRegException.Unsupported($"{c.Describe()}: no gradient for reduction='{reduction}' (only 'none' and 'add')");
        }
        var axisAttributes = axis is { } a ? new[] { Attribute.Int("axis", a) } : [];
        if (c.Needs(0))
        {
            c.SetGrad(0, reduction == "add"
                ? c.Dy
                : c.B.Op(c.Node.OpType, [c.Dy, c.X(1), c.ZerosLike(c.X(2))], axisAttributes));
        }
        if (c.Needs(2))
        {
            c.SetGrad(2, c.B.Op(gatherOp, [c.Dy, c.X(1)], axisAttributes));
        }
    }
}
