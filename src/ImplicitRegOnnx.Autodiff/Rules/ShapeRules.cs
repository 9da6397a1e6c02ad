using ImplicitRegOnnx.Onnx;
using static ImplicitRegOnnx.Autodiff.Rules.ShapeHelpers;

namespace ImplicitRegOnnx.Autodiff.Rules;

/// <summary>
/// Ops that move elements without changing them (ONNX operator spec: Reshape, Expand, Flatten,
/// Squeeze, Unsqueeze, Transpose, Concat, Split, Slice, Pad, Tile, SpaceToDepth, DepthToSpace). Each is
/// linear, so its gradient is its adjoint: the inverse move, with elements that were copied several
/// times summed. The adjoints are again moves of this family or scatters/gathers, so they have rules.
/// </summary>
internal static class ShapeRules
{
    public static void Register(RuleRegistry r)
    {
        r.Add("Reshape", c => c.SetGrad(0, c.B.Reshape(c.Dy, c.B.Shape(c.X(0)))));
        r.Add("Expand", c => c.SetGradUnbroadcast(0, c.Dy));
        // Flatten, Squeeze (axes attribute before opset 13, input after, or none) and Unsqueeze keep the
        // element order, so the gradient is the output gradient reshaped back to the input's shape.
        r.Add("Flatten", ReshapeBack);
        r.Add("Squeeze", ReshapeBack);
        r.Add("Unsqueeze", ReshapeBack);
        r.Add("Transpose", Transpose);
        r.Add("Concat", Concat);
        r.Add("Split", Split);
        r.Add("Slice", Slice);
        r.Add("Pad", Pad);
        r.Add("Tile", Tile);
        // SpaceToDepth and DepthToSpace in DCR mode are each other's inverse (ONNX operator spec: both
        // order the moved channels as [block row, block column, channel]); CRD mode is undone by hand.
        r.Add("SpaceToDepth", c => c.SetGrad(0, c.B.Op("DepthToSpace", [c.Dy], Attribute.Int("blocksize", c.Int("blocksize", 1)), Attribute.String("mode", "DCR"))));
        r.Add("DepthToSpace", DepthToSpace);
    }

    private static void ReshapeBack(GradientContext c) => c.SetGrad(0, c.B.Reshape(c.Dy, ShapeOf(c, c.X(0))));

    /// <summary>Transpose by perm (default: reversed axes); the gradient transposes by the inverse permutation.</summary>
    private static void Transpose(GradientContext c)
    {
        if (c.Ints("perm") is not { } perm)
        {
            // Reversing the axes is its own inverse.
            c.SetGrad(0, ShapeHelpers.Transpose(c, c.Dy, [.. Enumerable.Range(0, c.Rank(c.Dy)).Reverse().Select(i => (long)i)]));
            return;
        }
        var inverse = new long[perm.Count];
        for (var i = 0; i < perm.Count; i++)
        {
            inverse[perm[i]] = i;
        }
        c.SetGrad(0, ShapeHelpers.Transpose(c, c.Dy, inverse));
    }

    /// <summary>Concat along axis (may be negative): each input's gradient is its piece of the output gradient, cut by Split.</summary>
    private static void Concat(GradientContext c)
    {
        var count = c.Node.Inputs.Count;
        var attribute = c.Int("axis", 0);
        var axis = attribute >= 0 ? (int)attribute : NormalizeAxis(c, attribute, c.Rank(c.X(0)));
        var lengths = Enumerable.Range(0, count).Select(i => c.X(i).Shape is { } s && axis < s.Rank && s[axis].IsKnown ? s[axis].Value : null).ToArray();
        var axisAttribute = Attribute.Int("axis", axis);
        Value[] pieces;
        if (Array.TrueForAll(lengths, l => l is not null))
        {
            var split = lengths.Select(l => l!.Value).ToArray();
            pieces = c.Opset >= 13
                ? c.B.Op("Split", count, [c.Dy, c.B.Ints(split)], axisAttribute)
                : c.B.Op("Split", count, [c.Dy], axisAttribute, Attribute.Ints("split", split));
        }
        else
        {
            RequireOpset(c, 13, "Split with a run-time 'split' input");
            var split = ConcatShapes(c, [.. Enumerable.Range(0, count).Select(i => Dims(c, c.X(i), axis, axis + 1))]);
            pieces = c.B.Op("Split", count, [c.Dy, split], axisAttribute);
        }
        for (var i = 0; i < count; i++)
        {
            c.SetGrad(i, pieces[i]);
        }
    }

    /// <summary>
    /// Split (sizes from the 'split' attribute before opset 13, the 'split' input after, num_outputs from
    /// opset 18, or equal parts): the gradient concatenates the outputs' gradients, zeros for outputs
    /// that receive none.
    /// </summary>
    private static void Split(GradientContext c)
    {
        var axis = c.Int("axis", 0);
        var parts = new List<Value>();
        for (var i = 0; i < c.Node.Outputs.Count; i++)
        {
            parts.Add(c.OutputGradOrZeros(i));
        }
        c.SetGrad(0, c.B.Op("Concat", parts, Attribute.Int("axis", axis)));
    }

    /// <summary>
    /// Slice (starts, ends, axes, steps as inputs from opset 10; indices clamped per the spec). With
    /// constant bounds, unit steps and a static input shape the gradient is a zero Pad; otherwise the
    /// input's flat positions are sliced the same way and the gradient scattered back to them.
    /// </summary>
    private static void Slice(GradientContext c)
    {
        RequireOpset(c, 10, "Slice with starts/ends as inputs");
        var x = c.X(0);
        if (StaticSlicePads(c, x) is { } pads)
        {
            c.SetGrad(0, PadWithZeros(c, c.Dy, pads));
            return;
        }
        RequireOpset(c, 11, "ScatterElements");
        var inputs = Enumerable.Range(0, c.Node.Inputs.Count).Select(i => i == 0 ? FlatPositions(c, x) : c.Node.Input(i)).ToList();
        var positions = c.B.Op("Slice", inputs);
        c.SetGrad(0, ScatterToPositions(c, x, positions, c.Dy, accumulate: false));
    }

    /// <summary>Pads [begin..., end...] that undo a Slice with constant bounds and unit steps, or null.</summary>
    private static long[]? StaticSlicePads(GradientContext c, Value x)
    {
        // Only the sliced axes need static sizes (the batch axis may be symbolic).
        var shape = x.Shape;
        var starts = c.ConstantInts(1);
        var ends = c.ConstantInts(2);
        if (shape is null || starts is null || ends is null)
        {
            return null;
        }
        var rank = shape.Rank;
        var axes = c.HasInput(3) ? c.ConstantInts(3) : [.. Enumerable.Range(0, starts.Length).Select(i => (long)i)];
        var steps = c.HasInput(4) ? c.ConstantInts(4) : [.. Enumerable.Repeat(1L, starts.Length)];
        if (axes is null || steps is null || !Array.TrueForAll(steps, s => s == 1))
        {
            return null;
        }
        var pads = new long[2 * rank];
        for (var i = 0; i < axes.Length; i++)
        {
            var axis = NormalizeAxis(c, axes[i], rank);
            if (shape[axis].Value is not { } dim)
            {
                return null;
            }
            var start = Math.Clamp(starts[i] < 0 ? starts[i] + dim : starts[i], 0, dim);
            var end = Math.Clamp(ends[i] < 0 ? ends[i] + dim : ends[i], 0, dim);
            if (end < start)
            {
                return null; // empty slice: the general path handles it
            }
            pads[axis] = start;
            pads[rank + axis] = dim - end;
        }
        return pads;
    }

    /// <summary>Constant-mode Pad with zeros (pads as an input from opset 11, an attribute before); negative pads crop.</summary>
    private static Value PadWithZeros(GradientContext c, Value x, long[] pads) => c.Opset >= 11
        ? c.B.Op("Pad", [x, c.B.Ints(pads)])
        : c.B.Op("Pad", [x], Attribute.Ints("pads", pads));

    /// <summary>
    /// Pad (pads as an attribute before opset 11, an input after; axes input from opset 18). Constant
    /// mode: the adjoint of padding by p is padding by −p (negative pads crop), and the constant
    /// value collects the gradient of every padded position. Reflect, edge and wrap copy input
    /// elements, possibly several times: their flat positions are padded the same way and the
    /// gradient is scattered back with reduction='add'.
    /// </summary>
    private static void Pad(GradientContext c)
    {
        var x = c.X(0);
        var mode = c.String("mode", "constant");
        if (mode == "constant")
        {
            Value gradient;
            if (c.Opset < 11)
            {
                var pads = c.Ints("pads") ?? throw ImplicitRegException.BadInput($"{c.Describe()}: the pads attribute is missing");
                gradient = c.B.Op("Pad", [c.Dy], Attribute.Ints("pads", pads.Select(p => -p)));
            }
            else
            {
                var negated = c.ConstantInts(1) is { } pads ? c.B.Ints([.. pads.Select(p => -p)]) : c.B.Neg(c.X(1));
                gradient = c.HasInput(3)
                    ? c.B.Op("Pad", [c.Dy, negated, null, c.X(3)])
                    : c.B.Op("Pad", [c.Dy, negated]);
            }
            c.SetGrad(0, gradient);
            if (c.Opset >= 11 && c.HasInput(2) && c.Needs(2))
            {
                var all = Array.Empty<long>();
                var padded = c.B.Sub(c.B.ReduceSum(c.Dy, all, keepDims: false), c.B.ReduceSum(gradient, all, keepDims: false));
                c.SetGrad(2, c.B.Reshape(padded, c.B.Shape(c.X(2))));
            }
            return;
        }
        // Pad before opset 11 only takes floating-point data: the positions travel as doubles (exact below 2^53).
        var positions = c.Opset < 11
            ? c.B.Cast(c.B.Op("Pad", [c.B.Cast(FlatPositions(c, x), ElementType.Double)], [.. c.Node.Attributes]), ElementType.Int64)
            : c.B.Op("Pad", c.HasInput(3) ? [FlatPositions(c, x), c.X(1), null, c.X(3)] : [FlatPositions(c, x), c.X(1)], Attribute.String("mode", mode));
        c.SetGrad(0, ScatterToPositions(c, x, positions, c.Dy, accumulate: true));
    }

    /// <summary>
    /// Tile by repeats r: output index r_i·d_i... along each axis is (tile k, position j) = k·d + j, so
    /// the gradient reshapes the output gradient to [r0, d0, r1, d1, ...] and sums the tile axes.
    /// </summary>
    private static void Tile(GradientContext c)
    {
        var x = c.X(0);
        var rank = c.Rank(x);
        Value interleaved;
        if (x.Shape?.ToArray() is { } dims && c.ConstantInts(1) is { } repeats)
        {
            interleaved = c.B.Ints([.. Enumerable.Range(0, rank).SelectMany(i => new[] { repeats[i], dims[i] })]);
        }
        else
        {
            var column = (Value v) => c.B.Unsqueeze(v, 1);
            var pairs = c.B.Op("Concat", [column(c.X(1)), column(c.B.Shape(x))], Attribute.Int("axis", 1));
            interleaved = c.B.Reshape(pairs, -1);
        }
        var tileAxes = Enumerable.Range(0, rank).Select(i => 2L * i).ToArray();
        var summed = rank == 0 ? c.Dy : c.B.ReduceSum(c.B.Reshape(c.Dy, interleaved), tileAxes, keepDims: false);
        c.SetGrad(0, summed);
    }

    /// <summary>
    /// DepthToSpace: DCR mode is undone by SpaceToDepth. CRD mode reads channels as [C/b², b, b]
    /// (reshape to [N, C/b², b, b, H, W], perm [0, 1, 4, 2, 5, 3]); its inverse reshapes the gradient to
    /// [N, C/b², H, b, W, b], moves the block axes back with perm [0, 1, 3, 5, 2, 4] and reshapes to x.
    /// </summary>
    private static void DepthToSpace(GradientContext c)
    {
        var block = c.Int("blocksize", 1);
        if (c.String("mode", "DCR") == "DCR")
        {
            c.SetGrad(0, c.B.Op("SpaceToDepth", [c.Dy], Attribute.Int("blocksize", block)));
            return;
        }
        var x = c.X(0);
        var split = ConcatShapes(c, c.B.Ints(0, 0), Dims(c, x, 2, 3), c.B.Ints(block), Dims(c, x, 3, 4), c.B.Ints(block));
        var moved = c.B.Transpose(c.B.Reshape(c.Dy, split), 0, 1, 3, 5, 2, 4);
        c.SetGrad(0, c.B.Reshape(moved, ShapeOf(c, x)));
    }
}
