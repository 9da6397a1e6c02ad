namespace ImplicitRegOnnx.Onnx.Inference;

/// <summary>Unary elementwise operators: activations and math functions keep the input's type and shape.</summary>
internal static class ActivationRules
{
    private static readonly string[] SameTypeAndShape =
    [
        "Relu", "Sigmoid", "Tanh", "Exp", "Log", "Sqrt", "Erf", "Softplus", "Softsign", "LeakyRelu", "Elu",
        "Selu", "Celu", "Gelu", "HardSigmoid", "HardSwish", "Mish", "ThresholdedRelu", "Swish",
        "Softmax", "LogSoftmax", "Hardmax", "Clip", "Shrink",
        "Abs", "Neg", "Ceil", "Floor", "Round", "Reciprocal", "Sign", "BitwiseNot",
        "Sin", "Cos", "Tan", "Asin", "Acos", "Atan", "Sinh", "Cosh", "Asinh", "Acosh", "Atanh",
        "CumSum", "Trilu",
    ];

    public static void Register(Dictionary<string, ShapeRule> rules)
    {
        foreach (var op in SameTypeAndShape)
        {
            rules[op] = ctx => ctx.PassThrough();
        }
        foreach (var op in new[] { "Not", "IsNaN", "IsInf" })
        {
            rules[op] = ctx => ctx.SetOutput(0, ElementType.Bool, ctx.InputShape(0));
        }
        rules["Dropout"] = Dropout;
    }

    /// <summary>Dropout (ONNX operator spec): output like data; optional mask of the same shape, bool since opset 10.</summary>
    private static void Dropout(InferenceContext ctx)
    {
        ctx.PassThrough();
        if (ctx.HasOutput(1))
        {
            ctx.SetOutput(1, ctx.Opset >= 10 ? ElementType.Bool : ctx.InputElementType(0), ctx.InputShape(0));
        }
    }
}
