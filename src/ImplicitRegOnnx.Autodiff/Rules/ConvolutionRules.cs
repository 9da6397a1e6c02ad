using ImplicitRegOnnx.Onnx;
using static ImplicitRegOnnx.Autodiff.Rules.ConvolutionHelpers;

namespace ImplicitRegOnnx.Autodiff.Rules;

/// <summary>
/// Conv and ConvTranspose (ONNX operator spec; 1-D to 3-D, strides, pads, auto_pad, dilations, group,
/// optional bias B). Each is the other's input adjoint, and both kernel gradients are a Conv with the
/// batch axis taken as channels, so the rules are closed under differentiation. The gradients need
/// static spatial sizes (the batch size may be symbolic).
/// </summary>
internal static class ConvolutionRules
{
    public static void Register(RuleRegistry r)
    {
        r.Add("Conv", Conv);
        r.Add("ConvTranspose", ConvTranspose);
    }

    private static long[] Kernel(GradientContext c, int spatialRank) =>
        c.Ints("kernel_shape")?.ToArray() is { } k
            ? k
            : Enumerable.Range(2, spatialRank).Select(i => StaticDim(c, c.X(1), i)).ToArray();

    /// <summary>Y = Conv(X, W) + B with X [N, C, in], W [M, C/group, k], Y [N, M, out].</summary>
    private static void Conv(GradientContext c)
    {
        var (x, w, dy) = (c.X(0), c.X(1), c.Dy);
        var spatialRank = c.Rank(x) - 2;
        var group = c.Int("group", 1);
        var input = StaticSpatial(c, x);
        var output = StaticSpatial(c, c.Y());
        var window = Window.Read(c, Kernel(c, spatialRank), input);
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
        var spatialRank = c.Rank(x) - 2;
        var group = c.Int("group", 1);
        var input = StaticSpatial(c, x);
        var output = StaticSpatial(c, c.Y());
        var kernel = Kernel(c, spatialRank);
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
