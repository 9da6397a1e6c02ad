namespace ImplicitRegOnnx.Onnx.Inference;

/// <summary>Binary and variadic elementwise operators with multidirectional broadcasting, comparisons, logic, Where.</summary>
internal static class ElementwiseRules
{
    private static readonly string[] Arithmetic =
    [
        "Add", "Sub", "Mul", "Div", "Pow", "Mod", "Max", "Min", "Sum", "Mean",
        "BitShift", "BitwiseAnd", "BitwiseOr", "BitwiseXor",
    ];

    private static readonly string[] Comparisons =
    [
        "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or", "Xor",
    ];

    public static void Register(Dictionary<string, ShapeRule> rules)
    {
        foreach (var op in Arithmetic)
        {
            rules[op] = ctx => BroadcastAll(ctx, FirstKnownElementType(ctx));
        }
        foreach (var op in Comparisons)
        {
            rules[op] = ctx => BroadcastAll(ctx, ElementType.Bool);
        }
        rules["Where"] = ctx => BroadcastAll(ctx, ctx.InputElementType(1) is var t and not ElementType.Undefined ? t : ctx.InputElementType(2));
        // PRelu (ONNX operator spec): slope broadcasts unidirectionally to X; Y has the shape of X.
        rules["PRelu"] = ctx => ctx.PassThrough();
    }

    /// <summary>ONNX "Broadcasting in ONNX": the output shape is the multidirectional broadcast of all inputs.</summary>
    private static void BroadcastAll(InferenceContext ctx, ElementType elementType)
    {
        var shapes = Enumerable.Range(0, ctx.InputCount).Where(ctx.HasInput).Select(ctx.InputShape);
        ctx.SetOutput(0, elementType, DimMath.Broadcast(shapes));
    }

    /// <summary>All inputs of these operators share one element type (T): take it from any input that declares it.</summary>
    private static ElementType FirstKnownElementType(InferenceContext ctx)
    {
        // Pow and BitShift: the result has the type of the first input (T), the second may differ (T1).
        if (ctx.Node.OpType is "Pow")
        {
            return ctx.InputElementType(0);
        }
        for (var i = 0; i < ctx.InputCount; i++)
        {
            if (ctx.InputElementType(i) is var t and not ElementType.Undefined)
            {
                return t;
            }
        }
        return ElementType.Undefined;
    }
}
