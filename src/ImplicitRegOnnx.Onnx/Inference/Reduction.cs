namespace ImplicitRegOnnx.Onnx.Inference;

/// <summary>The Reduce* operators, ArgMax and ArgMin.</summary>
internal static class ReductionRules
{
    private static readonly string[] Reductions =
    [
        "ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceSumSquare",
        "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp",
    ];

    public static void Register(Dictionary<string, ShapeRule> rules)
    {
        foreach (var op in Reductions)
        {
            rules[op] = Reduce;
        }
        rules["ArgMax"] = ArgReduce;
        rules["ArgMin"] = ArgReduce;
    }

    /// <summary>
    /// Reduce* (ONNX operator spec): axes are an attribute until ReduceSum-13 / the others' opset 18, then
    /// an optional input; no axes reduce all dims unless noop_with_empty_axes; keepdims (default 1) keeps
    /// reduced dims as 1, else removes them.
    /// </summary>
    private static void Reduce(InferenceContext ctx)
    {
        var elementType = ctx.InputElementType(0);
        var inputSince = ctx.Node.OpType == "ReduceSum" ? 13 : 18;
        var axes = ShapeOpRules.AxesArgument(ctx, inputSince);
        var keepDims = ctx.Int("keepdims", 1) != 0;
        if (ctx.InputShape(0) is not { } x)
        {
            ctx.SetOutput(0, elementType, (Shape?)null);
            return;
        }
        if (axes.IsNotConstant)
        {
            // Which dims shrink is unknown; with keepdims the rank stays and dims of size 1 stay 1.
            ctx.SetOutput(0, elementType, keepDims ? new Shape(x.Select(d => d.Value == 1 ? d : Dim.Unknown)) : null);
            return;
        }
        if (axes.Values is not { Count: > 0 } values)
        {
            if (ctx.Opset >= inputSince && ctx.Int("noop_with_empty_axes", 0) != 0)
            {
                ctx.PassThrough();
                return;
            }
            values = Enumerable.Range(0, x.Rank).Select(i => (long)i).ToArray();
        }
        if (DimMath.Axes(values, x.Rank) is not { } reduced)
        {
            return;
        }
        ctx.SetOutput(0, elementType, ReducedDims(x, reduced, keepDims));
    }

    /// <summary>ArgMax/ArgMin (ONNX operator spec): int64 indices along axis (default 0), keepdims default 1.</summary>
    private static void ArgReduce(InferenceContext ctx)
    {
        if (ctx.InputShape(0) is not { } x)
        {
            ctx.SetOutput(0, ElementType.Int64, (Shape?)null);
            return;
        }
        if (DimMath.Axis(ctx.Int("axis", 0), x.Rank) is { } axis)
        {
            ctx.SetOutput(0, ElementType.Int64, ReducedDims(x, [axis], ctx.Int("keepdims", 1) != 0));
        }
    }

    private static IEnumerable<Dim> ReducedDims(Shape x, int[] reduced, bool keepDims) => keepDims
        ? x.Select((d, i) => reduced.Contains(i) ? Dim.Of(1) : d)
        : x.Where((_, i) => !reduced.Contains(i));
}
