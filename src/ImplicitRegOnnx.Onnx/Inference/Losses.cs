namespace ImplicitRegOnnx.Onnx.Inference;

/// <summary>SoftmaxCrossEntropyLoss and NegativeLogLikelihoodLoss.</summary>
internal static class LossRules
{
    public static void Register(Dictionary<string, ShapeRule> rules)
    {
        rules["SoftmaxCrossEntropyLoss"] = Loss;
        rules["NegativeLogLikelihoodLoss"] = Loss;
    }

    /// <summary>
    /// Both losses (ONNX operator spec): scores/input [N, C, d1, ...], labels/target [N, d1, ...];
    /// reduction "none" gives the labels' shape, "mean" (default) and "sum" a scalar.
    /// SoftmaxCrossEntropyLoss's optional log_prob output has the scores' shape.
    /// </summary>
    private static void Loss(InferenceContext ctx)
    {
        var elementType = ctx.InputElementType(0);
        var scores = ctx.InputShape(0);
        var reduction = ctx.String("reduction", "mean");
        if (reduction != "none")
        {
            ctx.SetOutput(0, elementType, Shape.Scalar);
        }
        else
        {
            var labels = ctx.InputShape(1);
            var fromScores = scores is { Rank: >= 2 } ? new Shape(scores.Where((_, i) => i != 1)) : null;
            if (labels is not null && fromScores is not null && labels.Rank == fromScores.Rank)
            {
                ctx.SetOutput(0, elementType, labels.Zip(fromScores, DimMath.Unify));
            }
            else
            {
                ctx.SetOutput(0, elementType, labels ?? fromScores);
            }
        }
        if (ctx.Node.OpType == "SoftmaxCrossEntropyLoss" && ctx.HasOutput(1))
        {
            ctx.SetOutput(1, elementType, scores);
        }
    }
}
