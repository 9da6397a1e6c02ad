using ImplicitRegOnnx.Onnx;

namespace ImplicitRegOnnx.Autodiff.Rules;

/// <summary>
/// The sliding window of a Conv, ConvTranspose or pool with its padding resolved to explicit begin and
/// end pads (ONNX operator spec, Conv: auto_pad SAME_UPPER/SAME_LOWER pad so that
/// out = ceil(in / stride), the odd unit at the end for SAME_UPPER and at the beginning for SAME_LOWER;
/// VALID pads nothing; NOTSET uses pads = [x1_begin, x2_begin, ..., x1_end, x2_end, ...]).
/// </summary>
internal sealed record Window(long[] Kernel, long[] Strides, long[] Dilations, long[] Begin, long[] End)
{
    public int SpatialRank => Kernel.Length;

    /// <summary>(k − 1)·dilation + 1 along an axis.</summary>
    public long Extent(int axis) => ((Kernel[axis] - 1) * Dilations[axis]) + 1;

    /// <summary>
    /// Reads the window of a forward Conv or pool whose input spatial sizes are <paramref name="input"/>
    /// (needed for SAME only, and there only when a stride exceeds 1; null when unknown).
    /// </summary>
    public static Window Read(GradientContext c, long[] kernel, long[]? input)
    {
        var n = kernel.Length;
        var strides = Attr(c, "strides", n, 1);
        var dilations = Attr(c, "dilations", n, 1);
        var begin = new long[n];
        var end = new long[n];
        var autoPad = c.String("auto_pad", "NOTSET");
        switch (autoPad)
        {
            case "NOTSET":
                var pads = Attr(c, "pads", 2 * n, 0);
                Array.Copy(pads, begin, n);
                Array.Copy(pads, n, end, 0, n);
                break;
            case "VALID":
                break;
            case "SAME_UPPER" or "SAME_LOWER":
                if (input is null && !Array.TrueForAll(strides, s => s == 1))
                {
                    throw ImplicitRegException.Unsupported($"{c.Describe()}: auto_pad {autoPad} needs static spatial input sizes; {GradientContext.StaticSizesHint}");
                }
                for (var i = 0; i < n; i++)
                {
                    // With stride 1, out = in and the total padding (k − 1)·dilation needs no input size.
                    long total;
                    if (input is null)
                    {
                        total = (kernel[i] - 1) * dilations[i];
                    }
                    else
                    {
                        var output = (input[i] + strides[i] - 1) / strides[i];
                        total = Math.Max(0, ((output - 1) * strides[i]) + ((kernel[i] - 1) * dilations[i]) + 1 - input[i]);
                    }
                    begin[i] = autoPad == "SAME_UPPER" ? total / 2 : total - (total / 2);
                    end[i] = total - begin[i];
                }
                break;
            default:
                throw ImplicitRegException.BadInput($"{c.Describe()}: unknown auto_pad '{autoPad}'");
        }
        return new Window(kernel, strides, dilations, begin, end);
    }

    public static long[] Attr(GradientContext c, string name, int count, long fill)
    {
        var values = c.Ints(name)?.ToArray() ?? Enumerable.Repeat(fill, count).ToArray();
        return values.Length == count
            ? values
            : throw ImplicitRegException.BadInput($"{c.Describe()}: attribute {name} has {values.Length} values, expected {count}");
    }

    public Attribute[] ConvAttributes(long group, long[]? strides = null, long[]? dilations = null, long[]? end = null) =>
    [
        Attribute.Ints("kernel_shape", Kernel),
        Attribute.Ints("strides", strides ?? Strides),
        Attribute.Ints("dilations", dilations ?? Dilations),
        Attribute.Ints("pads", [.. Begin, .. end ?? End]),
        Attribute.Int("group", group),
    ];
}

/// <summary>Conv and its adjoints, shared by the Conv, ConvTranspose and pooling rules.</summary>
internal static class ConvolutionHelpers
{
    /// <summary>The static spatial sizes of a [N, C, d1, ...] value, or null.</summary>
    public static long[]? Spatial(Value v) =>
        v.Shape is { } s && s.Skip(2).All(d => d.IsKnown) ? [.. s.Skip(2).Select(d => d.Value!.Value)] : null;

    public static long[] StaticSpatial(GradientContext c, Value v) =>
        Spatial(v) ?? throw ImplicitRegException.Unsupported($"{c.Describe()}: the gradient needs static spatial sizes of '{v.Name}'; {GradientContext.StaticSizesHint}");

    public static long StaticDim(GradientContext c, Value v, int axis) =>
        v.Shape is { } s && axis < s.Rank && s[axis].Value is { } d
            ? d
            : throw ImplicitRegException.Unsupported($"{c.Describe()}: the gradient needs the static size of axis {axis} of '{v.Name}'; {GradientContext.StaticSizesHint}");

    /// <summary>
    /// The adjoint of Conv(·, W, window, group) mapping [N, Cin, input] to [N, Cout, o] applied to g
    /// ([N, Cout, o]): ConvTranspose with the same kernel, strides, dilations, group and begin pads
    /// (ONNX operator spec, ConvTranspose: out = stride·(in − 1) + output_padding + (k − 1)·dilation + 1
    /// − pad_begin − pad_end). The end pad and output_padding are chosen so that out equals the input
    /// size exactly; input elements that no window reaches get zero.
    /// </summary>
    public static Value ConvAdjointInput(GradientContext c, Value g, Value w, Window window, long group, long[] input, long[] output)
    {
        var n = window.SpatialRank;
        var end = new long[n];
        var outputPadding = new long[n];
        for (var i = 0; i < n; i++)
        {
            var reach = (window.Strides[i] * (output[i] - 1)) + window.Extent(i) - window.Begin[i];
            end[i] = Math.Max(0, reach - input[i]);
            outputPadding[i] = Math.Max(0, input[i] - reach);
        }
        var attributes = window.ConvAttributes(group, end: end).ToList();
        if (outputPadding.Any(p => p != 0))
        {
            attributes.Add(Attribute.Ints("output_padding", outputPadding));
        }
        return c.B.Op("ConvTranspose", [g, w], [.. attributes]);
    }

    /// <summary>
    /// The adjoint of ConvTranspose(·, W, window, group) mapping [N, Cout, output] to [N, Cin, input]
    /// applied to g ([N, Cin, input]): a Conv with the same kernel, strides, dilations, group and begin
    /// pads, and an end pad that gives exactly <paramref name="output"/> positions.
    /// </summary>
    public static Value ConvTransposeAdjointInput(GradientContext c, Value g, Value w, Window window, long group, long[] input, long[] output)
    {
        var end = ConvEndPad(window, input, output);
        return c.B.Op("Conv", [g, w], window.ConvAttributes(group, end: end));
    }

    /// <summary>Non-negative end pads for which Conv maps <paramref name="input"/> positions to exactly <paramref name="output"/>.</summary>
    public static long[] ConvEndPad(Window window, long[] input, long[] output)
    {
        var end = new long[window.SpatialRank];
        for (var i = 0; i < end.Length; i++)
        {
            end[i] = Math.Max(0, (window.Strides[i] * (output[i] - 1)) + window.Extent(i) - window.Begin[i] - input[i]);
        }
        return end;
    }

    /// <summary>X [N, C, ...] → [C, N, ...] and dY [N, M, ...] → [M, N, ...]: the batch becomes the channel axis
    /// that the kernel-gradient Conv sums over (group 1).</summary>
    public static (Value X, Value Dy) BatchAsChannels(GradientContext c, Value x, Value dy, long[] spatialAxes) =>
        (c.B.Transpose(x, [1, 0, .. spatialAxes]), c.B.Transpose(dy, [1, 0, .. spatialAxes]));

    /// <summary>
    /// The kernel gradient of Y = Conv(X, W, window, group) for X [N, Cin, input] and dY [N, Cout, o]:
    /// dW[m, c, t] = Σ_n Σ_o dY[n, m, o]·Xpad[n, g·Cin/G + c, o·stride + t·dilation]. That is a Conv
    /// over the batch axis taken as channels, with dY as the kernel, strides and dilations swapped and
    /// the same pads; groups become G blocks of N channels. Positions past the kernel are cropped.
    /// </summary>
    public static Value ConvWeightGrad(GradientContext c, Value x, Value dy, Window window, long group, long cout, long[] input, long[] output, long[] end)
    {
        if (group == 1 && ConvWeightGradByPatches(c, x, dy, window, input, output, end) is { } byPatches)
        {
            return byPatches;
        }
        var n = window.SpatialRank;
        var spatialAxes = Enumerable.Range(2, n).Select(i => (long)i).ToArray();
        Value xt, gt;
        if (group == 1)
        {
            (xt, gt) = BatchAsChannels(c, x, dy, spatialAxes);
        }
        else
        {
            // X [N, G·Cg, ...] → [Cg, G·N, ...]; dY [N, G·Mg, ...] → [G·Mg, N, ...].
            var shifted = spatialAxes.Select(a => a + 1).ToArray();
            // Reshape's 0 copies a dim and -1 infers one, so the channel count (the batch, in a
            // second-order kernel gradient) need not be known.
            var xg = c.B.Reshape(x, [0, group, -1, .. input]);
            xt = c.B.Reshape(c.B.Transpose(xg, [2, 1, 0, .. shifted]), [0, -1, .. input]);
            var gg = c.B.Reshape(dy, [-1, group, cout / group, .. output]);
            gt = c.B.Reshape(c.B.Transpose(gg, [1, 2, 0, .. shifted]), [cout, -1, .. output]);
        }
        var attributes = new List<Attribute>
        {
            Attribute.Ints("kernel_shape", output),
            Attribute.Ints("strides", window.Dilations),
            Attribute.Ints("dilations", window.Strides),
            Attribute.Ints("pads", [.. window.Begin, .. end]),
            Attribute.Int("group", group),
        };
        var grad = c.B.Op("Conv", [xt, gt], [.. attributes]); // [Cg, Cout, k']
        var produced = new long[n];
        for (var i = 0; i < n; i++)
        {
            produced[i] = ((input[i] + window.Begin[i] + end[i] - (((output[i] - 1) * window.Strides[i]) + 1)) / window.Dilations[i]) + 1;
        }
        if (!produced.SequenceEqual(window.Kernel))
        {
            grad = c.B.Op("Slice", [grad, c.B.Ints(new long[n]), c.B.Ints(window.Kernel), c.B.Ints(spatialAxes)]);
        }
        return c.B.Transpose(grad, [1, 0, .. spatialAxes]);
    }

    /// <summary>The largest kernel (elements, e.g. 3×3×3) whose gradient goes through unfolded patches.</summary>
    private const long MaxUnfoldKernel = 27;

    /// <summary>
    /// The same kernel gradient for group 1 as one batched GEMM, which ONNX Runtime runs far faster than
    /// a Conv with dY as a huge kernel. The patches Xpad[n, c, o·stride + t·dilation] of every kernel
    /// offset t (row major, K offsets) come from a grouped Conv (group = C) with K one-hot kernels per
    /// channel and the forward window (pads, strides, dilations): an "unfold" whose output
    /// [N, C·K, P] puts channel c's offsets together, so dW[m, c·K + t] = Σ_n Σ_o patches[n, c·K + t, o]·dY[n, m, o].
    /// Null when the channel count is not static, the window does not give exactly
    /// <paramref name="output"/> positions, or the kernel has more than <see cref="MaxUnfoldKernel"/>
    /// elements (the patches take K times the input's memory) — the caller then uses the general form. Conv, Reshape,
    /// Transpose, MatMul and ReduceSum all have rules, so the exact penalty can differentiate it again;
    /// the batch size may be symbolic.
    /// </summary>
    private static Value? ConvWeightGradByPatches(GradientContext c, Value x, Value dy, Window window, long[] input, long[] output, long[] end)
    {
        for (var i = 0; i < window.SpatialRank; i++)
        {
            if (((input[i] + window.Begin[i] + end[i] - window.Extent(i)) / window.Strides[i]) + 1 != output[i])
            {
                return null;
            }
        }
        return ConvWeightGradByPatches(c, x, dy, window, end, output.Aggregate(1L, (a, b) => a * b));
    }

    /// <summary>
    /// The patches form for a window that gives exactly dY's positions: <paramref name="positions"/> of them
    /// per example, or -1 when they are known only at run time. Null when the channel count is not static
    /// or the kernel has more than <see cref="MaxUnfoldKernel"/> elements.
    /// </summary>
    public static Value? ConvWeightGradByPatches(GradientContext c, Value x, Value dy, Window window, long[] end, long positions)
    {
        var n = window.SpatialRank;
        var kernelSize = window.Kernel.Aggregate(1L, (a, b) => a * b);
        if (c.Opset < 13 || x.Shape is not { } shape || shape.Rank != n + 2 || shape[1].Value is not { } channels || kernelSize > MaxUnfoldKernel)
        {
            return null;
        }
        var oneHot = new double[channels * kernelSize * kernelSize];
        for (var row = 0L; row < channels * kernelSize; row++)
        {
            oneHot[(row * kernelSize) + (row % kernelSize)] = 1;
        }
        var unfoldKernel = ConstantLike(c, oneHot, [channels * kernelSize, 1, .. window.Kernel], x);
        var unfolded = c.B.Op("Conv", [x, unfoldKernel], window.ConvAttributes(channels, end: end)); // [N, C·K, out]
        var patches = c.B.Reshape(unfolded, [0, 0, positions]); // [N, C·K, P]
        var dyByPosition = c.B.Transpose(c.B.Reshape(dy, [0, 0, positions]), 0, 2, 1); // [N, P, M]
        var perExample = c.B.MatMul(patches, dyByPosition); // [N, C·K, M]
        var grad = c.B.Transpose(c.B.ReduceSum(perExample, [0], keepDims: false), 1, 0); // [M, C·K]
        return c.B.Reshape(grad, [0, channels, .. window.Kernel]);
    }

    /// <summary>dB = Σ of dY over the batch and spatial axes.</summary>
    public static Value BiasGrad(GradientContext c, Value dy)
    {
        var rank = c.Rank(dy);
        long[] axes = [0, .. Enumerable.Range(2, rank - 2).Select(i => (long)i)];
        return c.B.ReduceSum(dy, axes, keepDims: false);
    }

    /// <summary>A constant tensor with the element type of <paramref name="like"/> (float or double).</summary>
    public static Value ConstantLike(GradientContext c, double[] values, long[] dims, Value like) => like.ElementType switch
    {
        ElementType.Double => c.B.Constant(Tensor.FromArray(values, dims)),
        ElementType.Float => c.B.Constant(Tensor.FromArray(Array.ConvertAll(values, v => (float)v), dims)),
        _ => c.CastLike(c.B.Constant(Tensor.FromArray(Array.ConvertAll(values, v => (float)v), dims)), like),
    };
}
