using ImplicitRegOnnx.Onnx.Building;
using static ImplicitRegOnnx.Training.Lowering.OptimizerFragments;

namespace ImplicitRegOnnx.Training.Lowering;

/// <summary>
/// Adam (ai.onnx.preview.training, opset 1), inputs R, T, X..., G..., V..., H...; outputs X_new...,
/// V_new..., H_new.... The spec's pseudo code, per tensor:
/// G_regularized = norm_coefficient·X + G; V_new = alpha·V + (1 − alpha)·G_regularized;
/// H_new = beta·H + (1 − beta)·G_regularized·G_regularized; H_sqrt = √H_new + epsilon;
/// R_adjusted = T &gt; 0 ? R·√(1 − beta^T) / (1 − alpha^T) : R; X_new = X − R_adjusted·V_new / H_sqrt;
/// X_final = (1 − norm_coefficient_post)·X_new.
/// (Unlike torch.optim.Adam, used by <see cref="OptimizerOptions"/>, epsilon is added before the bias
/// correction, T = 0 skips the correction, and a post-update weight decay exists.)
/// Defaults from the spec: alpha 0.9, beta 0.999, epsilon 1e-6, both norm coefficients 0.
/// </summary>
internal static class AdamLowering
{
    private static readonly string[] Attributes = ["alpha", "beta", "epsilon", "norm_coefficient", "norm_coefficient_post"];

    public static Value?[] Lower(GraphBuilder b, Node node)
    {
        var op = OptimizerNode.Read(node, groups: 4, Attributes);
        var alpha = op.Float("alpha", 0.9f);
        var beta = op.Float("beta", 0.999f);
        var epsilon = op.Float("epsilon", 1e-6f);
        var norm = op.Float("norm_coefficient", 0f);
        var post = op.Float("norm_coefficient_post", 0f);
        return op.LowerEach(i =>
        {
            var x = op.Input(0, i);
            var g = Regularized(b, x, op.Input(1, i), norm);
            var vNew = b.Add(b.Mul(Scalar(b, alpha, x), op.Input(2, i)), b.Mul(Scalar(b, 1.0 - alpha, x), g));
            var hNew = b.Add(b.Mul(Scalar(b, beta, x), op.Input(3, i)), b.Mul(b.Mul(Scalar(b, 1.0 - beta, x), g), g));
            var hSqrt = b.Add(b.Op("Sqrt", [hNew]), Scalar(b, epsilon, x));
            var xNew = b.Sub(x, b.Div(b.Mul(AdjustedRate(b, op, x, alpha, beta), vNew), hSqrt));
            var xFinal = post == 0 ? xNew : b.Mul(Scalar(b, 1.0 - post, x), xNew);
            return [xFinal, vNew, hNew];
        });
    }

    /// <summary>
    /// R_adjusted = T &gt; 0 ? R·√(1 − beta^T)/(1 − alpha^T) : R. Where evaluates both branches, so the
    /// powers use max(T, 1): the unused branch then never divides 0 by 0.
    /// </summary>
    private static Value AdjustedRate(GraphBuilder b, OptimizerNode op, Value x, float alpha, float beta)
    {
        var rate = Like(b, op.Rate, x);
        var one = Scalar(b, 1, x);
        var t = b.Op("Max", [Like(b, op.UpdateCount, x), one]);
        var corrected = b.Div(
            b.Mul(rate, b.Op("Sqrt", [b.Sub(one, b.Op("Pow", [Scalar(b, beta, x), t]))])),
            b.Sub(one, b.Op("Pow", [Scalar(b, alpha, x), t])));
        return b.Op("Where", [IsPositive(b, op.UpdateCount, x), corrected, rate]);
    }
}
