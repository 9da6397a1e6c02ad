namespace ImplicitRegOnnx.Onnx.Inference;

/// <summary>The sliding-window attributes shared by convolutions and pools (kernel, strides, dilations, pads, auto_pad).</summary>
internal sealed class WindowAttributes
{
    private WindowAttributes(int spatialRank, IReadOnlyList<long>? kernel, InferenceContext ctx)
    {
        Kernel = kernel;
        Strides = ctx.Ints("strides") ?? Ones(spatialRank);
        Dilations = ctx.Ints("dilations") ?? Ones(spatialRank);
        Pads = ctx.Ints("pads") ?? new long[2 * spatialRank];
        AutoPad = ctx.String("auto_pad", "NOTSET");
        Valid = Strides.Count == spatialRank && Dilations.Count == spatialRank && Pads.Count == 2 * spatialRank
            && (kernel is null || kernel.Count == spatialRank) && Strides.All(s => s > 0) && Dilations.All(d => d > 0);
    }

    public IReadOnlyList<long>? Kernel { get; }

    public IReadOnlyList<long> Strides { get; }

    public IReadOnlyList<long> Dilations { get; }

    /// <summary>[x1_begin, x2_begin, ..., x1_end, x2_end, ...].</summary>
    public IReadOnlyList<long> Pads { get; }

    public string AutoPad { get; }

    public bool Valid { get; }

    public bool IsSame => AutoPad is "SAME_UPPER" or "SAME_LOWER";

    public static WindowAttributes Read(InferenceContext ctx, int spatialRank, IReadOnlyList<long>? kernel) => new(spatialRank, kernel, ctx);

    /// <summary>The effective kernel extent (k - 1) * dilation + 1 along a spatial axis.</summary>
    public long Extent(int axis) => ((Kernel![axis] - 1) * Dilations[axis]) + 1;

    /// <summary>Total explicit padding along a spatial axis (0 for VALID; SAME pads are implied).</summary>
    public long TotalPad(int axis) => AutoPad == "VALID" ? 0 : Pads[axis] + Pads[axis + Pads.Count / 2];

    private static long[] Ones(int n) => Enumerable.Repeat(1L, n).ToArray();
}

/// <summary>Conv and ConvTranspose.</summary>
internal static class ConvolutionRules
{
    public static void Register(Dictionary<string, ShapeRule> rules)
    {
        rules["Conv"] = Conv;
        rules["ConvTranspose"] = ConvTranspose;
    }

    /// <summary>The rank of a convolution's X: from X, else from W (same rank), else from kernel_shape.</summary>
    private static int? Rank(InferenceContext ctx) =>
        ctx.InputShape(0)?.Rank ?? ctx.InputShape(1)?.Rank ?? (ctx.Ints("kernel_shape") is { } k ? k.Count + 2 : null);

    private static IReadOnlyList<long>? Kernel(InferenceContext ctx, int spatialRank)
    {
        if (ctx.Ints("kernel_shape") is { } kernel)
        {
            return kernel;
        }
        return ctx.InputShape(1) is { } w && w.Rank == spatialRank + 2 && w.Skip(2).All(d => d.IsKnown)
            ? w.Skip(2).Select(d => d.Value!.Value).ToArray()
            : null;
    }

    /// <summary>
    /// Conv (ONNX operator spec): Y is [N, M, o1, ...] with M = W[0] and
    /// out = floor((in + pad_begin + pad_end - dilation * (k - 1) - 1) / stride) + 1;
    /// auto_pad SAME_UPPER/SAME_LOWER: out = ceil(in / stride); VALID: no padding.
    /// </summary>
    private static void Conv(InferenceContext ctx)
    {
        if (Rank(ctx) is not { } rank || rank < 3)
        {
            return;
        }
        var x = ctx.InputShape(0);
        var spatial = rank - 2;
        var window = WindowAttributes.Read(ctx, spatial, Kernel(ctx, spatial));
        if (!window.Valid)
        {
            return;
        }
        var dims = new Dim[rank];
        dims[0] = x is null ? Dim.Unknown : x[0];
        dims[1] = ctx.InputShape(1) is { } w && w.Rank == rank ? w[0] : Dim.Unknown;
        for (var i = 0; i < spatial; i++)
        {
            var input = x is null ? Dim.Unknown : x[i + 2];
            dims[i + 2] = window.IsSame
                ? DimMath.Map(input, n => DimMath.CeilDiv(n, window.Strides[i]))
                : window.Kernel is null
                    ? Dim.Unknown
                    : DimMath.Map(input, n => DimMath.FloorDiv(n + window.TotalPad(i) - window.Extent(i), window.Strides[i]) + 1);
        }
        ctx.SetOutput(0, ctx.InputElementType(0), dims);
    }

    /// <summary>
    /// ConvTranspose (ONNX operator spec): Y is [N, W[1] * group, o1, ...] with, unless output_shape is given,
    /// out = stride * (in - 1) + output_padding + (k - 1) * dilation + 1 - pad_begin - pad_end;
    /// auto_pad SAME_UPPER/SAME_LOWER: out = in * stride.
    /// </summary>
    private static void ConvTranspose(InferenceContext ctx)
    {
        if (Rank(ctx) is not { } rank || rank < 3)
        {
            return;
        }
        var x = ctx.InputShape(0);
        var spatial = rank - 2;
        var window = WindowAttributes.Read(ctx, spatial, Kernel(ctx, spatial));
        var outputPadding = ctx.Ints("output_padding") ?? new long[spatial];
        var outputShape = ctx.Ints("output_shape");
        if (!window.Valid || outputPadding.Count != spatial || (outputShape is not null && outputShape.Count < spatial))
        {
            return;
        }
        var dims = new Dim[rank];
        dims[0] = x is null ? Dim.Unknown : x[0];
        dims[1] = ctx.InputShape(1) is { } w && w.Rank == rank
            ? DimMath.Map(w[1], c => c * ctx.Int("group", 1))
            : Dim.Unknown;
        for (var i = 0; i < spatial; i++)
        {
            var input = x is null ? Dim.Unknown : x[i + 2];
            dims[i + 2] = outputShape is not null
                ? Dim.Of(outputShape[outputShape.Count - spatial + i])
                : window.IsSame
                    ? DimMath.Map(input, n => n * window.Strides[i])
                    : window.Kernel is null
                        ? Dim.Unknown
                        : DimMath.Map(input, n => (window.Strides[i] * (n - 1)) + outputPadding[i] + window.Extent(i) - window.TotalPad(i));
        }
        ctx.SetOutput(0, ctx.InputElementType(0), dims);
    }
}
