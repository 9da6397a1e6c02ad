using ImplicitRegOnnx.Onnx.Building;
using static ImplicitRegOnnx.Training.Lowering.OptimizerFragments;

namespace ImplicitRegOnnx.Training.Lowering;

/// <summary>
/// Adagrad (ai.onnx.preview.training, opset 1), inputs R, T, X..., G..., H...; outputs X_new..., H_new....
/// The spec's pseudo code, per tensor: r = R / (1 + T·decay_factor);
/// G_regularized = norm_coefficient·X + G; H_new = H + G_regularized·G_regularized;
/// H_adaptive = √H_new + epsilon; X_new = X − r·G_regularized / H_adaptive.
/// Defaults from the spec: decay_factor 0, epsilon 1e-6, norm_coefficient 0.
/// </summary>
internal static class AdagradLowering
{
    private static readonly string[] Attributes = ["decay_factor", "epsilon", "norm_coefficient"];

    public static Value?[] Lower(GraphBuilder b, Node node)
    {
        var op = OptimizerNode.Read(node, groups: 3, Attributes);
        var decay = op.Float("decay_factor", 0f);
        var epsilon = op.Float("epsilon", 1e-6f);
        var norm = op.Float("norm_coefficient", 0f);
        return op.LowerEach(i =>
        {
            var x = op.Input(0, i);
            var rate = b.Div(Like(b, op.Rate, x), b.Add(Scalar(b, 1, x), b.Mul(Like(b, op.UpdateCount, x), Scalar(b, decay, x))));
            var g = Regularized(b, x, op.Input(1, i), norm);
            var hNew = b.Add(op.Input(2, i), b.Mul(g, g));
            var adaptive = b.Add(b.Op("Sqrt", [hNew]), Scalar(b, epsilon, x));
            return [b.Sub(x, b.Div(b.Mul(rate, g), adaptive)), hNew];
        });
    }
}
