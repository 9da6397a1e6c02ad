namespace ImplicitRegOnnx.Onnx.Inference;

/// <summary>MaxPool, AveragePool, LpPool and the global pools.</summary>
internal static class PoolingRules
{
    public static void Register(Dictionary<string, ShapeRule> rules)
    {
        rules["MaxPool"] = Pool;
        rules["AveragePool"] = Pool;
        rules["LpPool"] = Pool;
        rules["GlobalAveragePool"] = GlobalPool;
        rules["GlobalMaxPool"] = GlobalPool;
        rules["GlobalLpPool"] = GlobalPool;
    }

    /// <summary>
    /// Pools (ONNX operator spec): out = floor((in + pads - dilation * (k - 1) - 1) / stride) + 1, or with
    /// ceil_mode the ceiling, dropping a last window that would start in the end padding; auto_pad
    /// SAME_UPPER/SAME_LOWER: ceil(in / stride); VALID: no padding. MaxPool's Indices output is int64.
    /// </summary>
    private static void Pool(InferenceContext ctx)
    {
        var kernel = ctx.Ints("kernel_shape");
        var x = ctx.InputShape(0);
        var rank = x?.Rank ?? (kernel is null ? null : kernel.Count + 2);
        if (rank is not { } r || r < 3 || kernel is null)
        {
            return;
        }
        var spatial = r - 2;
        var window = WindowAttributes.Read(ctx, spatial, kernel);
        if (!window.Valid)
        {
            return;
        }
        var ceilMode = ctx.Int("ceil_mode", 0) != 0;
        var dims = new Dim[r];
        dims[0] = x is null ? Dim.Unknown : x[0];
        dims[1] = x is null ? Dim.Unknown : x[1];
        for (var i = 0; i < spatial; i++)
        {
            var input = x is null ? Dim.Unknown : x[i + 2];
            dims[i + 2] = window.IsSame
                ? DimMath.Map(input, n => DimMath.CeilDiv(n, window.Strides[i]))
                : input.Value is { } n ? OutputSize(n, window, i, ceilMode) : Dim.Unknown;
        }
        ctx.SetOutput(0, ctx.InputElementType(0), dims);
        if (ctx.Node.OpType == "MaxPool" && ctx.HasOutput(1))
        {
            ctx.SetOutput(1, ElementType.Int64, dims);
        }
    }

    private static Dim OutputSize(long input, WindowAttributes window, int axis, bool ceilMode)
    {
        var stride = window.Strides[axis];
        var numerator = input + window.TotalPad(axis) - window.Extent(axis);
        if (!ceilMode || numerator % stride == 0)
        {
            return DimMath.FloorDiv(numerator, stride) + 1;
        }
        if (window.AutoPad == "VALID")
        {
            // Runtimes differ on whether ceil_mode applies without explicit pads: leave it unknown.
            return Dim.Unknown;
        }
        var output = DimMath.CeilDiv(numerator, stride) + 1;
        // The last window must start inside the input or the begin padding.
        if ((output - 1) * stride >= input + window.Pads[axis])
        {
            output--;
        }
        return output;
    }

    /// <summary>Global pools (ONNX operator spec): [N, C, 1, 1, ...].</summary>
    private static void GlobalPool(InferenceContext ctx)
    {
        if (ctx.InputShape(0) is { Rank: >= 2 } x)
        {
            ctx.SetOutput(0, ctx.InputElementType(0), x.Select((d, i) => i < 2 ? d : Dim.Of(1)));
        }
        else
        {
            ctx.SetOutput(0, ctx.InputElementType(0), (Shape?)null);
        }
    }
}
