namespace ImplicitRegOnnx.Onnx.Inference;

/// <summary>
/// Resize and Upsample (ONNX operator spec): the output has X's type and rank; an axis's size is the
/// given size (sizes input, possibly computed from shapes), or ⌊in·scale⌋ for a constant scale (float32,
/// as ONNX Runtime computes it; scale 1 keeps even a symbolic size); otherwise unknown. The axes
/// attribute (opset 18) names the axes that sizes and scales cover.
/// </summary>
internal static class ResizeRules
{
    public static void Register(Dictionary<string, ShapeRule> rules)
    {
        rules["Resize"] = Resize;
        rules["Upsample"] = Resize;
    }

    private static void Resize(InferenceContext ctx)
    {
        var elementType = ctx.InputElementType(0);
        if (ctx.InputShape(0) is not { } x)
        {
            ctx.SetOutput(0, elementType, (Shape?)null);
            return;
        }
        var rank = x.Rank;
        var axes = ctx.Ints("axes") is { } given ? DimMath.Axes(given, rank) : [.. Enumerable.Range(0, rank)];
        var dims = Enumerable.Repeat(Dim.Unknown, rank).ToArray();
        for (var axis = 0; axis < rank; axis++)
        {
            if (axes is null || !axes.Contains(axis))
            {
                dims[axis] = x[axis];
            }
        }
        var (scalesInput, sizesInput) = ctx.Node.OpType == "Upsample" || ctx.Opset < 11 ? (1, -1) : (2, 3);
        if (axes is not null && sizesInput > 0 && ctx.HasInput(sizesInput))
        {
            if (ShapeValue.TryGet(ctx.Node.Input(sizesInput)) is { } sizes && sizes.Length == axes.Length)
            {
                for (var k = 0; k < axes.Length; k++)
                {
                    dims[axes[k]] = sizes[k].Dim;
                }
            }
        }
        else if (axes is not null && ctx.HasInput(scalesInput) && ctx.ConstantInput(scalesInput)?.ToDoubles() is { } scales && scales.Length == axes.Length)
        {
            for (var k = 0; k < axes.Length; k++)
            {
                var scale = (float)scales[k];
                var input = x[axes[k]];
                dims[axes[k]] = scale == 1f ? input : input.Value is { } known ? Dim.Of((long)(known * scale)) : Dim.Unknown;
            }
        }
        ctx.SetOutput(0, elementType, dims);
    }
}
