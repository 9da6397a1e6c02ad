namespace ImplicitRegOnnx.Onnx.Inference;

/// <summary>BatchNormalization, LayerNormalization and the normalizations that keep the input's shape.</summary>
internal static class NormalizationRules
{
    public static void Register(Dictionary<string, ShapeRule> rules)
    {
        rules["BatchNormalization"] = BatchNormalization;
        rules["LayerNormalization"] = LayerNormalization;
        foreach (var op in new[] { "InstanceNormalization", "GroupNormalization", "LpNormalization", "MeanVarianceNormalization", "LRN", "RMSNormalization" })
        {
            rules[op] = ctx => ctx.PassThrough();
        }
    }

    /// <summary>
    /// BatchNormalization (ONNX operator spec): Y has X's shape. The optional statistics outputs
    /// (running_mean, running_var since opset 14; mean, var, saved_mean, saved_var before) are [C],
    /// typed like the mean input (opset 15+: T2 for running stats) or else like X.
    /// </summary>
    private static void BatchNormalization(InferenceContext ctx)
    {
        ctx.PassThrough();
        if (ctx.Opset < 9 && ctx.Int("spatial", 1) == 0)
        {
            // Before opset 9, spatial=0 keeps per-position statistics of another shape.
            return;
        }
        var channels = ctx.InputShape(0) is { Rank: >= 2 } x ? x[1] : Dim.Unknown;
        foreach (var i in new[] { 1, 2, 3, 4 })
        {
            if (!channels.IsKnown && ctx.InputShape(i) is { Rank: 1 } stat)
            {
                channels = DimMath.Unify(channels, stat[0]);
            }
        }
        for (var output = 1; output < ctx.OutputCount; output++)
        {
            if (ctx.HasOutput(output))
            {
                var elementType = ctx.InputElementType(output <= 2 ? 3 : 1) is var t and not ElementType.Undefined ? t : ctx.InputElementType(0);
                ctx.SetOutput(output, elementType, [channels]);
            }
        }
    }

    /// <summary>
    /// LayerNormalization (ONNX operator spec): Y has X's shape; Mean and InvStdDev keep X's rank with the
    /// normalized axes (axis .. rank - 1) of size 1, element type from stash_type (default float).
    /// </summary>
    private static void LayerNormalization(InferenceContext ctx)
    {
        ctx.PassThrough();
        if (ctx.OutputCount < 2)
        {
            return;
        }
        var stash = (ElementType)ctx.Int("stash_type", (long)ElementType.Float);
        Shape? statistics = null;
        if (ctx.InputShape(0) is { } x)
        {
            if (DimMath.Axis(ctx.Int("axis", -1), x.Rank) is not { } axis)
            {
                return;
            }
            statistics = new Shape(x.Select((d, i) => i < axis ? d : Dim.Of(1)));
        }
        for (var output = 1; output <= 2; output++)
        {
            if (ctx.HasOutput(output))
            {
                ctx.SetOutput(output, stash, statistics);
            }
        }
    }
}
