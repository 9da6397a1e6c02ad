using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Onnx.Building;

namespace ImplicitRegOnnx.Autodiff;

/// <summary>
/// The one helper that undoes multidirectional (numpy-style) broadcasting (ONNX docs, Broadcasting.md):
/// the gradient of an input that was broadcast is the output gradient summed over the broadcast axes
/// and reshaped to the input's shape. Static shapes give a plain ReduceSum over known axes; otherwise
/// the axes are computed at run time from both shapes with standard ops.
/// </summary>
internal static class Broadcasting
{
    public static Value SumToShapeOf(GraphBuilder b, Value gradient, Value target)
    {
        var g = gradient.Shape;
        var x = target.Shape;
        if (g is not null && x is not null && g.Rank >= x.Rank)
        {
            var lead = g.Rank - x.Rank;
            var axes = new List<long>();
            var decided = true;
            for (var i = 0; i < g.Rank; i++)
            {
                if (i < lead)
                {
                    axes.Add(i);
                    continue;
                }
                var xd = x[i - lead];
                var gd = g[i];
                if (xd.SameAs(gd))
                {
                    continue;
                }
                if (xd.Value == 1)
                {
                    if (gd.Value != 1)
                    {
                        axes.Add(i);
                    }
                    continue;
                }
                if (gd.Value == 1 && xd.Value is not null)
                {
                    continue; // cannot happen in a valid broadcast; nothing to sum
                }
                decided = false;
                break;
            }
            if (decided)
            {
                if (axes.Count == 0)
                {
                    return gradient;
                }
                var summed = b.ReduceSum(gradient, [.. axes], keepDims: true);
                return lead == 0 ? summed : ReshapeLike(b, summed, target);
            }
        }
        if (g is not null && x is not null)
        {
            return Dynamic(b, gradient, target, g.Rank, x.Rank);
        }
        throw ImplicitRegException.Unsupported($"cannot sum the gradient '{gradient.Name}' back to the shape of '{target.Name}': their ranks are unknown");
    }

    private static Value ReshapeLike(GraphBuilder b, Value value, Value target) =>
        target.Shape?.ToArray() is { } dims ? b.Reshape(value, dims) : b.Reshape(value, b.Shape(target));

    /// <summary>Run-time axes: where the (left-padded) target dim is 1 and the gradient dim is not.</summary>
    private static Value Dynamic(GraphBuilder b, Value gradient, Value target, int gradientRank, int targetRank)
    {
        if (gradientRank < targetRank)
        {
            throw ImplicitRegException.Unsupported($"the gradient '{gradient.Name}' has lower rank than '{target.Name}'");
        }
        Value targetShape = b.Shape(target);
        if (gradientRank > targetRank)
        {
            var ones = b.Ints([.. Enumerable.Repeat(1L, gradientRank - targetRank)]);
            targetShape = b.Op("Concat", [ones, targetShape], Attribute.Int("axis", 0));
        }
        var one = b.Ints(1);
        var broadcastAxes = b.Op("And", [
            b.Op("Equal", [targetShape, one]),
            b.Op("Not", [b.Op("Equal", [b.Shape(gradient), one])]),
        ]);
        var axes = b.Reshape(b.Op("NonZero", [broadcastAxes]), -1);
        var summed = b.Op("ReduceSum", [gradient, axes], Attribute.Int("keepdims", 1), Attribute.Int("noop_with_empty_axes", 1));
        return b.Reshape(summed, b.Shape(target));
    }
}
