using ImplicitRegOnnx.Onnx.Building;
using static ImplicitRegOnnx.Training.Lowering.OptimizerFragments;

namespace ImplicitRegOnnx.Training.Lowering;

/// <summary>
/// Momentum (ai.onnx.preview.training, opset 1), inputs R, T, X..., G..., V...; outputs X_new..., V_new....
/// The spec's pseudo code, per tensor:
/// G_regularized = norm_coefficient·X + G; beta_adjusted = T &gt; 0 ? beta : 1;
/// V_new = alpha·V + beta_adjusted·G_regularized;
/// standard: X_new = X − R·V_new; nesterov: X_new = X − R·(G_regularized + alpha·V_new).
/// (Unlike torch.optim.SGD, used by <see cref="OptimizerOptions"/>, the gradient is scaled by beta after
/// the first step.)
/// </summary>
internal static class MomentumLowering
{
    private static readonly string[] Attributes = ["alpha", "beta", "mode", "norm_coefficient"];

    public static Value?[] Lower(GraphBuilder b, Node node)
    {
        var op = OptimizerNode.Read(node, groups: 3, Attributes);
        var alpha = op.Float("alpha", null);
        var beta = op.Float("beta", null);
        var norm = op.Float("norm_coefficient", null);
        var mode = op.String("mode");
        if (mode is not ("standard" or "nesterov"))
        {
            throw op.Error($"mode '{mode}' is not one of the spec's 'standard' and 'nesterov'");
        }
        return op.LowerEach(i =>
        {
            var x = op.Input(0, i);
            var g = Regularized(b, x, op.Input(1, i), norm);
            var v = op.Input(2, i);
            var rate = Like(b, op.Rate, x);
            var betaAdjusted = b.Op("Where", [IsPositive(b, op.UpdateCount, x), Scalar(b, beta, x), Scalar(b, 1, x)]);
            var vNew = b.Add(b.Mul(Scalar(b, alpha, x), v), b.Mul(betaAdjusted, g));
            var direction = mode == "nesterov" ? b.Add(g, b.Mul(Scalar(b, alpha, x), vNew)) : vNew;
            return [b.Sub(x, b.Mul(rate, direction)), vNew];
        });
    }
}
