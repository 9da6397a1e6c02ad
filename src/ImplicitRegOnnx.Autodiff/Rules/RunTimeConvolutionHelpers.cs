using ImplicitRegOnnx.Onnx;
using static ImplicitRegOnnx.Autodiff.Rules.ShapeHelpers;

namespace ImplicitRegOnnx.Autodiff.Rules;

/// <summary>
/// A convolution window with static strides, dilations and explicit begin/end pads whose kernel size may be
/// unknown (a Conv whose kernel is itself a gradient with run-time spatial sizes, as in the kernel gradient
/// of a convolution over run-time sizes).
/// </summary>
internal sealed record RunTimeWindow(long[]? Kernel, long[] Strides, long[] Dilations, long[] Begin, long[] End)
{
    public int SpatialRank => Strides.Length;

    /// <summary>Conv/ConvTranspose attributes; kernel_shape only when known (the operator then reads it from W).</summary>
    public Attribute[] ConvAttributes(long group, long[]? strides = null, long[]? dilations = null, long[]? end = null)
    {
        var attributes = new List<Attribute>();
        if (Kernel is not null)
        {
            attributes.Add(Attribute.Ints("kernel_shape", Kernel));
        }
        attributes.Add(Attribute.Ints("strides", strides ?? Strides));
        attributes.Add(Attribute.Ints("dilations", dilations ?? Dilations));
        attributes.Add(Attribute.Ints("pads", [.. Begin, .. end ?? End]));
        attributes.Add(Attribute.Int("group", group));
        return [.. attributes];
    }

    /// <summary>The same window with a known kernel, for the helpers that need one.</summary>
    public Window? Static => Kernel is null ? null : new Window(Kernel, Strides, Dilations, Begin, End);
}

/// <summary>
/// Conv and ConvTranspose gradients when spatial sizes are known only at run time (dynamic image sizes,
/// symbolic dims). Everything that depends on a spatial size is computed from Shape() of the values
/// (int64 shape arithmetic, not differentiated), and every op on the float path (Conv, ConvTranspose,
/// Pad with run-time pads, Reshape, Transpose, MatMul, ReduceSum) has a rule that works on run-time sizes
/// too, so the exact penalty can differentiate these gradients again. The static forms in
/// <see cref="ConvolutionHelpers"/> stay in use wherever the sizes are known.
/// </summary>
internal static class RunTimeConvolutionHelpers
{
    /// <summary>
    /// The adjoint of Conv(·, W, window, group) applied to g, cropped or zero-padded at the end to the
    /// run-time spatial sizes of <paramref name="x"/>. ConvTranspose with begin pads b and end pads 0 gives
    /// stride·(o − 1) + (k − 1)·dilation + 1 − b positions (ONNX operator spec, ConvTranspose), which is
    /// the input size minus the unread remainder plus the end pad; a Pad with run-time pads (negative ones
    /// crop) fixes the difference. Along axes of stride 1 the Conv's own end pad gives the size exactly.
    /// </summary>
    public static Value ConvAdjointInput(GradientContext c, Value g, Value w, Value x, RunTimeWindow window, long group)
    {
        var n = window.SpatialRank;
        var end = new long[n];
        for (var i = 0; i < n; i++)
        {
            end[i] = window.Strides[i] == 1 ? window.End[i] : 0;
        }
        var transposed = c.B.Op("ConvTranspose", [g, w], window.ConvAttributes(group, end: end));
        return Array.TrueForAll(window.Strides, s => s == 1) ? transposed : PadEndTo(c, transposed, Dims(c, x, 2, n + 2), n);
    }

    /// <summary>
    /// Pads (or, with negative pads, crops) the end of the spatial axes of <paramref name="v"/> ([N, C, d...])
    /// to <paramref name="sizes"/> (1-D int64): Pad with pads [0, ..., 0, 0, 0, sizes − Shape(v)[2:]].
    /// Pad's rule takes run-time pads (its adjoint is the Pad by the negated pads), so this stays differentiable.
    /// </summary>
    public static Value PadEndTo(GradientContext c, Value v, Value sizes, int spatialRank)
    {
        RequireOpset(c, 11, "Pad with run-time pads");
        var difference = c.B.Sub(sizes, Dims(c, v, 2, spatialRank + 2));
        var pads = ConcatShapes(c, c.B.Ints(new long[spatialRank + 4]), difference);
        return c.B.Op("Pad", [v, pads]);
    }

    /// <summary>
    /// The kernel gradient of Y = Conv(X, W, window, group) over run-time sizes (see
    /// <see cref="ConvolutionHelpers.ConvWeightGrad"/> for the mathematics). With group 1, a known kernel of
    /// at most 27 elements, static channels and a window that gives exactly dY's positions
    /// (<paramref name="exact"/>) it is the unfolded-patches GEMM; otherwise the Conv with the batch taken
    /// as channels, whose surplus kernel positions (there are ⌊r/dilation⌋ of them for a run-time
    /// remainder r &lt; stride) are cropped to W's size at run time.
    /// </summary>
    public static Value ConvWeightGrad(GradientContext c, Value x, Value dy, Value w, RunTimeWindow window, long group, long cout, bool exact)
    {
        if (group == 1 && exact && window.Static is { } known
            && ConvolutionHelpers.ConvWeightGradByPatches(c, x, dy, known, window.End, positions: -1) is { } byPatches)
        {
            return byPatches;
        }
        var n = window.SpatialRank;
        var spatialAxes = Enumerable.Range(2, n).Select(i => (long)i).ToArray();
        Value xt, gt;
        if (group == 1)
        {
            (xt, gt) = ConvolutionHelpers.BatchAsChannels(c, x, dy, spatialAxes);
        }
        else
        {
            // X [N, G·Cg, ...] → [Cg, G·N, ...]; dY [N, G·Mg, ...] → [G·Mg, N, ...]. The spatial sizes come
            // from Shape() at run time; Reshape's 0 copies a dim and -1 infers one.
            var shifted = spatialAxes.Select(a => a + 1).ToArray();
            var xSpatial = Dims(c, x, 2, n + 2);
            var dySpatial = Dims(c, dy, 2, n + 2);
            var xg = c.B.Reshape(x, ConcatShapes(c, c.B.Ints(0, group, -1), xSpatial));
            xt = c.B.Reshape(c.B.Transpose(xg, [2, 1, 0, .. shifted]), ConcatShapes(c, c.B.Ints(0, -1), xSpatial));
            var gg = c.B.Reshape(dy, ConcatShapes(c, c.B.Ints(0, group, -1), dySpatial));
            gt = c.B.Reshape(c.B.Transpose(gg, [1, 2, 0, .. shifted]), ConcatShapes(c, c.B.Ints(cout, -1), dySpatial));
        }
        var attributes = new[]
        {
            Attribute.Ints("strides", window.Dilations),
            Attribute.Ints("dilations", window.Strides),
            Attribute.Ints("pads", [.. window.Begin, .. window.End]),
            Attribute.Int("group", group),
        };
        var grad = c.B.Op("Conv", [xt, gt], attributes); // [Cg, Cout, k + surplus]
        var kernel = window.Kernel is { } k ? c.B.Ints(k) : Dims(c, w, 2, n + 2);
        return c.B.Transpose(PadEndTo(c, grad, kernel, n), [1, 0, .. spatialAxes]);
    }
}
