namespace ImplicitRegOnnx.Autodiff.Rules;

/// <summary>
/// Less common activations and unary math found in exported models (ONNX operator spec for each op):
/// PRelu (learned slope, broadcast), Celu, ThresholdedRelu, Mish, and the trigonometric and hyperbolic
/// functions with their inverses.
/// </summary>
internal static class MoreActivationRules
{
    public static void Register(RuleRegistry r)
    {
        // PRelu: y = x for x ≥ 0, slope·x otherwise; slope broadcasts to x (unidirectionally).
        r.Add("PRelu", c =>
        {
            var (x, slope) = (c.X(0), c.X(1));
            var positive = c.B.Op("Greater", [x, c.Scalar(0, x)]);
            if (c.Needs(0))
            {
                c.SetGrad(0, c.B.Op("Where", [positive, c.Dy, c.B.Mul(c.Dy, slope)]));
            }
            if (c.Needs(1))
            {
                c.SetGradUnbroadcast(1, c.B.Op("Where", [positive, c.Scalar(0, c.Dy), c.B.Mul(c.Dy, x)]));
            }
        });
        // Celu: y = max(0, x) + min(0, alpha·(exp(x/alpha) − 1)); y' = 1 for x > 0, exp(x/alpha) otherwise.
        r.Add("Celu", c =>
        {
            var x = c.X();
            var alpha = c.Scalar(c.Float("alpha", 1f), x);
            var negative = c.B.Mul(c.Dy, c.B.Op("Exp", [c.B.Div(x, alpha)]));
            c.SetGrad(0, c.B.Op("Where", [c.B.Op("Greater", [x, c.Scalar(0, x)]), c.Dy, negative]));
        });
        // ThresholdedRelu: y = x for x > alpha (default 1), else 0.
        r.Add("ThresholdedRelu", c =>
        {
            var x = c.X();
            var above = c.B.Op("Greater", [x, c.Scalar(c.Float("alpha", 1f), x)]);
            c.SetGrad(0, c.B.Op("Where", [above, c.Dy, c.Scalar(0, c.Dy)]));
        });
        // Mish: y = x·tanh(softplus(x)); y' = tanh(sp) + x·(1 − tanh²(sp))·σ(x).
        r.Add("Mish", c =>
        {
            var x = c.X();
            var t = c.B.Op("Tanh", [c.B.Op("Softplus", [x])]);
            var slope = c.B.Mul(c.B.Sub(c.Scalar(1, t), c.B.Mul(t, t)), c.B.Op("Sigmoid", [x]));
            c.SetGrad(0, c.B.Mul(c.Dy, c.B.Add(t, c.B.Mul(x, slope))));
        });
        r.Add("Sin", c => c.SetGrad(0, c.B.Mul(c.Dy, c.B.Op("Cos", [c.X()]))));
        r.Add("Cos", c => c.SetGrad(0, c.B.Neg(c.B.Mul(c.Dy, c.B.Op("Sin", [c.X()])))));
        // tan' = 1 + tan².
        r.Add("Tan", c => c.SetGrad(0, c.B.Mul(c.Dy, c.B.Add(c.Scalar(1, c.Y()), c.B.Mul(c.Y(), c.Y())))));
        r.Add("Sinh", c => c.SetGrad(0, c.B.Mul(c.Dy, c.B.Op("Cosh", [c.X()]))));
        r.Add("Cosh", c => c.SetGrad(0, c.B.Mul(c.Dy, c.B.Op("Sinh", [c.X()]))));
        // asin' = 1/√(1 − x²), acos' = −asin', atan' = 1/(1 + x²).
        r.Add("Asin", c => c.SetGrad(0, c.B.Div(c.Dy, OneMinusSquareRoot(c))));
        r.Add("Acos", c => c.SetGrad(0, c.B.Neg(c.B.Div(c.Dy, OneMinusSquareRoot(c)))));
        r.Add("Atan", c => c.SetGrad(0, c.B.Div(c.Dy, c.B.Add(c.Scalar(1, c.X()), c.B.Mul(c.X(), c.X())))));
        // asinh' = 1/√(x² + 1), acosh' = 1/√(x² − 1), atanh' = 1/(1 − x²).
        r.Add("Asinh", c => c.SetGrad(0, c.B.Div(c.Dy, c.B.Op("Sqrt", [c.B.Add(c.B.Mul(c.X(), c.X()), c.Scalar(1, c.X()))]))));
        r.Add("Acosh", c => c.SetGrad(0, c.B.Div(c.Dy, c.B.Op("Sqrt", [c.B.Sub(c.B.Mul(c.X(), c.X()), c.Scalar(1, c.X()))]))));
        r.Add("Atanh", c => c.SetGrad(0, c.B.Div(c.Dy, c.B.Sub(c.Scalar(1, c.X()), c.B.Mul(c.X(), c.X())))));
    }

    private static Onnx.Value OneMinusSquareRoot(GradientContext c) =>
        c.B.Op("Sqrt", [c.B.Sub(c.Scalar(1, c.X()), c.B.Mul(c.X(), c.X()))]);
}
