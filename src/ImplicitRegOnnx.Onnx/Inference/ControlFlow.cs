namespace ImplicitRegOnnx.Onnx.Inference;

/// <summary>If: outputs typed by what both branches agree on (the branches are inferred first).</summary>
internal static class ControlFlowRules
{
    public static void Register(Dictionary<string, ShapeRule> rules) => rules["If"] = If;

    /// <summary>If (ONNX operator spec): output i comes from either branch's output i; keep what both share.</summary>
    private static void If(InferenceContext ctx)
    {
        if (ctx.Node.GetAttribute("then_branch")?.Payload is not Graph thenBranch
            || ctx.Node.GetAttribute("else_branch")?.Payload is not Graph elseBranch
            || thenBranch.Outputs.Count != ctx.OutputCount || elseBranch.Outputs.Count != ctx.OutputCount)
        {
            return;
        }
        for (var i = 0; i < ctx.OutputCount; i++)
        {
            if (thenBranch.Outputs[i].TensorType is not { } a || elseBranch.Outputs[i].TensorType is not { } b
                || a.ElementType != b.ElementType)
            {
                continue;
            }
            var shape = a.Shape is not null && b.Shape is not null && a.Shape.Rank == b.Shape.Rank
                ? new Shape(a.Shape.Zip(b.Shape, (x, y) => x.SameAs(y) ? x : Dim.Unknown))
                : null;
            ctx.SetOutput(i, a.ElementType, shape);
        }
    }
}
