using ImplicitRegOnnx.Onnx;
using static ImplicitRegOnnx.Autodiff.Rules.ConvolutionHelpers;

namespace ImplicitRegOnnx.Autodiff.Rules;

/// <summary>
/// Conv and ConvTranspose (ONNX operator spec; 1-D to 3-D, strides, pads, auto_pad, dilations, group,
/// optional bias B). Each is the other's input adjoint, and both kernel gradients are a Conv with the
/// batch axis taken as channels, so the rules are closed under differentiation. With static spatial
/// sizes the adjoints get exact attributes; otherwise they are computed from Shape() at run time
/// (<see cref="RunTimeConvolutionHelpers"/>).
/// </summary>
internal static class ConvolutionRules
{
    public static void Register(RuleRegistry r)
    {
        r.Add("Conv", Conv);
        r.Add("ConvTranspose", ConvTranspose);
    }

    /// <summary>What both rules read first: the spatial rank, group, and the static spatial sizes of X, Y and the kernel (null where known only at run time).</summary>
    private static (int SpatialRank, long Group, long[]? Input, long[]? Output, long[]? Kernel) Sizes(GradientContext c)
    {
        var spatialRank = c.Rank(c.X(0)) - 2;
        return (spatialRank, c.Int("group", 1), Spatial(c.X(0)), Spatial(c.Y()), Kernel(c, spatialRank));
    }

    /// <summary>The kernel's spatial sizes from kernel_shape or W's static shape, or null when known only at run time.</summary>
    private static long[]? Kernel(GradientContext c, int spatialRank)
    {
        if (c.Ints("kernel_shape")?.ToArray() is { } k)
        {
            return k;
        }
        var dims = c.X(1).Shape;
        return dims is not null && dims.Rank == spatialRank + 2 && Enumerable.Range(2, spatialRank).All(i => dims[i].IsKnown)
            ? [.. Enumerable.Range(2, spatialRank).Select(i => dims[i].Value!.Value)]
            : null;
    }

    /// <summary>Y = Conv(X, W) + B with X [N, C, in], W [M, C/group, k], Y [N, M, out].</summary>
    private static void Conv(GradientContext c)
    {
        var (x, w, dy) = (c.X(0), c.X(1), c.Dy);
        var (spatialRank, group, input, output, kernel) = Sizes(c);
        if (input is null || output is null || kernel is null)
        {
            ConvOverRunTimeSizes(c, spatialRank, group, kernel);
            return;
        }
        var window = Window.Read(c, kernel, input);
        SetGradients(c, group,
            inputAdjoint: () => ConvAdjointInput(c, dy, w, window, group, input, output),
            kernelGradient: cout => ConvWeightGrad(c, x, dy, window, group, cout, input, output, window.End),
            outputChannels: () => StaticDim(c, w, 0));
    }

    /// <summary>
    /// Y = ConvTranspose(X, W) + B with X [N, C, in], W [C, M/group, k], Y [N, M, out]: the input
    /// adjoint of a Conv from [N, M, out] to [N, C, in] with the same attributes. Its padding follows
    /// the spec: explicit pads, or, with output_shape or auto_pad SAME_*, total padding
    /// stride·(in − 1) + output_padding + (k − 1)·dilation + 1 − out split as pad_begin = total/2
    /// (rounded down) for SAME_UPPER and rounded up otherwise.
    /// </summary>
    private static void ConvTranspose(GradientContext c)
    {
        var (x, w, dy) = (c.X(0), c.X(1), c.Dy);
        var (spatialRank, group, input, output, kernel) = Sizes(c);
        if (input is null || output is null || kernel is null)
        {
            ConvTransposeOverRunTimeSizes(c, spatialRank, group, kernel);
            return;
        }
        var strides = Window.Attr(c, "strides", spatialRank, 1);
        var dilations = Window.Attr(c, "dilations", spatialRank, 1);
        var begin = new long[spatialRank];
        var autoPad = c.String("auto_pad", "NOTSET");
        if (c.Ints("output_shape") is null && autoPad is "NOTSET")
        {
            Array.Copy(Window.Attr(c, "pads", 2 * spatialRank, 0), begin, spatialRank);
        }
        else if (autoPad is not "VALID" || c.Ints("output_shape") is not null)
        {
            var outputPadding = Window.Attr(c, "output_padding", spatialRank, 0);
            for (var i = 0; i < spatialRank; i++)
            {
                var total = (strides[i] * (input[i] - 1)) + outputPadding[i] + ((kernel[i] - 1) * dilations[i]) + 1 - output[i];
                begin[i] = autoPad == "SAME_UPPER" ? total / 2 : total - (total / 2);
            }
        }
        var window = new Window(kernel, strides, dilations, begin, new long[spatialRank]);
        window = window with { End = ConvEndPad(window, output, input) };
        SetGradients(c, group,
            inputAdjoint: () => ConvTransposeAdjointInput(c, dy, w, window, group, output, input),
            kernelGradient: cout => ConvWeightGrad(c, dy, x, window, group, cout, output, input, window.End),
            outputChannels: () => StaticDim(c, x, 1));
    }

    /// <summary>
    /// Conv whose spatial sizes (or kernel size) are known only at run time: explicit or VALID pads, or
    /// auto_pad SAME_* with unit strides, where the total padding (k − 1)·dilation does not depend on the
    /// input size. SAME with larger strides pads by the input size modulo the stride, which the
    /// static attributes of the adjoint cannot express, so it keeps a clear error.
    /// </summary>
    private static void ConvOverRunTimeSizes(GradientContext c, int spatialRank, long group, long[]? kernel)
    {
        var (x, w, dy) = (c.X(0), c.X(1), c.Dy);
        var autoPad = c.String("auto_pad", "NOTSET");
        if (autoPad is "SAME_UPPER" or "SAME_LOWER"
            && (kernel is null || !Window.Attr(c, "strides", spatialRank, 1).All(s => s == 1)))
        {
            throw ImplicitRegException.Unsupported($"{c.Describe()}: auto_pad {autoPad} with strides > 1 needs static spatial sizes of '{x.Name}'; {GradientContext.StaticSizesHint}");
        }
        // Without a kernel size only NOTSET and VALID get here, whose pads do not depend on it.
        var read = Window.Read(c, kernel ?? new long[spatialRank], null);
        var window = new RunTimeWindow(kernel, read.Strides, read.Dilations, read.Begin, read.End);
        SetGradients(c, group,
            inputAdjoint: () => RunTimeConvolutionHelpers.ConvAdjointInput(c, dy, w, x, window, group),
            kernelGradient: cout => RunTimeConvolutionHelpers.ConvWeightGrad(c, x, dy, w, window, group, cout, exact: true),
            outputChannels: () => StaticDim(c, w, 0));
    }

    /// <summary>
    /// ConvTranspose whose spatial sizes are known only at run time. Its adjoint Conv needs only static
    /// numbers: with the ConvTranspose's end pad e and output_padding a, out = stride·(in − 1) + a + (k − 1)·dilation
    /// + 1 − b − e, so a Conv with begin pad b and end pad max(0, e − a) maps out back to exactly in positions
    /// whenever a − e &lt; stride; with auto_pad SAME_* out = in·stride (ONNX operator spec), so the total
    /// padding a + (k − 1)·dilation + 1 − stride is static too. output_shape with run-time sizes is refused.
    /// </summary>
    private static void ConvTransposeOverRunTimeSizes(GradientContext c, int spatialRank, long group, long[]? kernel)
    {
        var (x, w, dy) = (c.X(0), c.X(1), c.Dy);
        var autoPad = c.String("auto_pad", "NOTSET");
        if (c.Ints("output_shape") is not null)
        {
            throw ImplicitRegException.Unsupported($"{c.Describe()}: ConvTranspose with output_shape needs static spatial sizes of '{x.Name}'; {GradientContext.StaticSizesHint}");
        }
        var strides = Window.Attr(c, "strides", spatialRank, 1);
        var dilations = Window.Attr(c, "dilations", spatialRank, 1);
        var outputPadding = Window.Attr(c, "output_padding", spatialRank, 0);
        var begin = new long[spatialRank];
        var end = new long[spatialRank]; // the ConvTranspose's own end pads
        switch (autoPad)
        {
            case "NOTSET":
                var pads = Window.Attr(c, "pads", 2 * spatialRank, 0);
                Array.Copy(pads, begin, spatialRank);
                Array.Copy(pads, spatialRank, end, 0, spatialRank);
                break;
            case "VALID":
                break;
            case "SAME_UPPER" or "SAME_LOWER" when kernel is not null:
                for (var i = 0; i < spatialRank; i++)
                {
                    // The static rule's total with out = in·stride.
                    var total = outputPadding[i] + ((kernel[i] - 1) * dilations[i]) + 1 - strides[i];
                    begin[i] = autoPad == "SAME_UPPER" ? total / 2 : total - (total / 2);
                    end[i] = total - begin[i];
                }
                break;
            default:
                throw ImplicitRegException.Unsupported($"{c.Describe()}: auto_pad {autoPad} needs static spatial sizes of '{x.Name}' and a static kernel size; {GradientContext.StaticSizesHint}");
        }
        var convEnd = new long[spatialRank];
        var exact = true;
        for (var i = 0; i < spatialRank; i++)
        {
            convEnd[i] = Math.Max(0, end[i] - outputPadding[i]);
            // The adjoint Conv reads out + b + convEnd − extent = stride·(in − 1) + remainder positions.
            exact &= outputPadding[i] - end[i] + convEnd[i] < strides[i];
        }
        var window = new RunTimeWindow(kernel, strides, dilations, begin, convEnd);
        SetGradients(c, group,
            inputAdjoint: () => c.B.Op("Conv", [dy, w], window.ConvAttributes(group)),
            kernelGradient: cout => RunTimeConvolutionHelpers.ConvWeightGrad(c, dy, x, w, window, group, cout, exact),
            outputChannels: () => StaticDim(c, x, 1));
    }

    /// <summary>
    /// The gradients both ops share the shape of: X through the other op, W through a Conv with the
    /// batch as channels, B as a sum of dY. Channel counts matter only for grouped convolutions (the
    /// batch, which becomes the channel axis of the kernel-gradient Conv, may be symbolic).
    /// </summary>
    private static void SetGradients(GradientContext c, long group, Func<Value> inputAdjoint,
        Func<long, Value> kernelGradient, Func<long> outputChannels)
    {
        if (c.Needs(0))
        {
            c.SetGrad(0, inputAdjoint());
        }
        if (c.Needs(1))
        {
            c.SetGrad(1, kernelGradient(group == 1 ? 0 : outputChannels()));
        }
        if (c.Node.Inputs.Count > 2 && c.HasInput(2) && c.Needs(2))
        {
            c.SetGrad(2, BiasGrad(c, c.Dy));
        }
    }
}
