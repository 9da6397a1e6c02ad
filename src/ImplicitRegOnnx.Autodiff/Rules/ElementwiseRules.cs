using ImplicitRegOnnx.Onnx;

namespace ImplicitRegOnnx.Autodiff.Rules;

/// <summary>
/// Arithmetic with multidirectional broadcasting (ONNX operator spec: Add, Sub, Mul, Div, Pow, Min,
/// Max, Sum, Mean, Where) and unary math. Each rule is the textbook derivative; broadcast inputs
/// get their gradient summed back by <see cref="GradientContext.SetGradUnbroadcast"/>.
/// </summary>
internal static class ElementwiseRules
{
    public static void Register(RuleRegistry r)
    {
        r.Add("Identity", c => c.SetGrad(0, c.Dy));
        r.Add("Add", c =>
        {
            c.SetGradUnbroadcast(0, c.Dy);
            c.SetGradUnbroadcast(1, c.Dy);
        });
        r.Add("Sub", c =>
        {
            c.SetGradUnbroadcast(0, c.Dy);
            if (c.Needs(1))
            {
                c.SetGradUnbroadcast(1, c.B.Neg(c.Dy));
            }
        });
        r.Add("Mul", c =>
        {
            if (c.Needs(0))
            {
                c.SetGradUnbroadcast(0, c.B.Mul(c.Dy, c.X(1)));
            }
            if (c.Needs(1))
            {
                c.SetGradUnbroadcast(1, c.B.Mul(c.Dy, c.X(0)));
            }
        });
        r.Add("Div", c =>
        {
            // d(a/b)/da = 1/b; d(a/b)/db = -a/b² = -(a/b)/b.
            if (c.Needs(0))
            {
                c.SetGradUnbroadcast(0, c.B.Div(c.Dy, c.X(1)));
            }
            if (c.Needs(1))
            {
                c.SetGradUnbroadcast(1, c.B.Neg(c.B.Div(c.B.Mul(c.Dy, c.Y()), c.X(1))));
            }
        });
        r.Add("Neg", c => c.SetGrad(0, c.B.Neg(c.Dy)));
        r.Add("Abs", c => c.SetGrad(0, c.B.Mul(c.Dy, c.B.Op("Sign", [c.X()]))));
        r.Add("Pow", c =>
        {
            // d(a^b)/da = b·a^(b-1); d(a^b)/db = a^b·ln a.
            var (a, b) = (c.X(0), c.X(1));
            if (c.Needs(0))
            {
                var exponent = c.CastLike(b, a);
                var power = c.B.Op("Pow", [a, c.B.Sub(exponent, c.Scalar(1, exponent))]);
                c.SetGradUnbroadcast(0, c.B.Mul(c.Dy, c.B.Mul(exponent, power)));
            }
            if (c.Needs(1))
            {
                var grad = c.B.Mul(c.Dy, c.B.Mul(c.Y(), c.B.Op("Log", [a])));
                c.SetGradUnbroadcast(1, c.CastLike(grad, b));
            }
        });
        r.Add("Sqrt", c => c.SetGrad(0, c.B.Div(c.B.Mul(c.Dy, c.Scalar(0.5, c.Y())), c.Y())));
        r.Add("Exp", c => c.SetGrad(0, c.B.Mul(c.Dy, c.Y())));
        r.Add("Log", c => c.SetGrad(0, c.B.Div(c.Dy, c.X())));
        r.Add("Reciprocal", c => c.SetGrad(0, c.B.Neg(c.B.Mul(c.Dy, c.B.Mul(c.Y(), c.Y())))));
        r.Add("Sum", c =>
        {
            for (var i = 0; i < c.Node.Inputs.Count; i++)
            {
                c.SetGradUnbroadcast(i, c.Dy);
            }
        });
        r.Add("Mean", c =>
        {
            var share = c.B.Div(c.Dy, c.Scalar(c.Node.Inputs.Count, c.Dy));
            for (var i = 0; i < c.Node.Inputs.Count; i++)
            {
                c.SetGradUnbroadcast(i, share);
            }
        });
        r.Add("Min", SelectedInputRule);
        r.Add("Max", SelectedInputRule);
        r.Add("Where", c =>
        {
            // Where(cond, x, y): the gradient flows to x where cond holds and to y elsewhere.
            var zero = c.Scalar(0, c.Dy);
            if (c.Needs(1))
            {
                c.SetGradUnbroadcast(1, c.B.Op("Where", [c.X(0), c.Dy, zero]));
            }
            if (c.Needs(2))
            {
                c.SetGradUnbroadcast(2, c.B.Op("Where", [c.X(0), zero, c.Dy]));
            }
        });
        r.Add("Cast", c => c.SetGrad(0, c.CastLike(c.Dy, c.X())));
        r.Add("CastLike", c => c.SetGrad(0, c.CastLike(c.Dy, c.X(0))));
    }

    /// <summary>
    /// Min and Max: the gradient goes to the inputs equal to the result, shared evenly among ties
    /// (as PyTorch's maximum/minimum do for two inputs).
    /// </summary>
    private static void SelectedInputRule(GradientContext c)
    {
        var n = c.Node.Inputs.Count;
        var masks = new Value[n];
        for (var i = 0; i < n; i++)
        {
            masks[i] = c.CastLike(c.B.Op("Equal", [c.X(i), c.Y()]), c.Dy);
        }
        var share = n == 1 ? c.Dy : c.B.Div(c.Dy, c.B.Op("Sum", masks));
        for (var i = 0; i < n; i++)
        {
            if (c.Needs(i))
            {
                c.SetGradUnbroadcast(i, c.B.Mul(share, masks[i]));
            }
        }
    }
}
