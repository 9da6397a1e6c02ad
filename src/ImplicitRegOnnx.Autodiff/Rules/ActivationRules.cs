using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Onnx.Inference;

namespace ImplicitRegOnnx.Autodiff.Rules;

/// <summary>
/// Activations and softmax (ONNX operator spec for each op; attribute defaults as there). Derivatives
/// are written with the forward output where that is shorter (Tanh, Sigmoid, Elu, Selu, Softmax), so
/// the second derivative flows through the forward node again. Kinks (Relu at 0, Clip at its bounds,
/// HardSigmoid at the ends of its linear band) take the derivative of the side the comparison picks;
/// the gradient there is piecewise constant and its derivative zero, which the emitted Where keeps.
/// </summary>
internal static class ActivationRules
{
    public static void Register(RuleRegistry r)
    {
        // erf'(x) = 2/√π · exp(−x²).
        r.Add("Erf", c =>
        {
            var x = c.X();
            var gaussian = c.B.Op("Exp", [c.B.Neg(c.B.Mul(x, x))]);
            c.SetGrad(0, c.B.Mul(c.Dy, c.B.Mul(gaussian, c.Scalar(2 / Math.Sqrt(Math.PI), x))));
        });
        // tanh' = 1 − y².
        r.Add("Tanh", c => c.SetGrad(0, c.B.Mul(c.Dy, c.B.Sub(c.Scalar(1, c.Y()), c.B.Mul(c.Y(), c.Y())))));
        // σ' = y(1 − y).
        r.Add("Sigmoid", c => c.SetGrad(0, c.B.Mul(c.Dy, c.B.Mul(c.Y(), c.B.Sub(c.Scalar(1, c.Y()), c.Y())))));
        r.Add("Relu", c => c.SetGrad(0, PositiveSide(c, c.Dy, c.Scalar(0, c.Dy))));
        // LeakyRelu: y = x for x ≥ 0, alpha·x otherwise (alpha default 0.01).
        r.Add("LeakyRelu", c =>
            c.SetGrad(0, PositiveSide(c, c.Dy, c.B.Mul(c.Dy, c.Scalar(c.Float("alpha", 0.01f), c.Dy)))));
        // Elu: y = alpha·(eˣ − 1) for x < 0 (alpha default 1), so y' = y + alpha there.
        r.Add("Elu", c =>
        {
            var alpha = c.Scalar(c.Float("alpha", 1f), c.Y());
            c.SetGrad(0, PositiveSide(c, c.Dy, c.B.Mul(c.Dy, c.B.Add(c.Y(), alpha))));
        });
        // Selu: y = gamma·x for x > 0, gamma·alpha·(eˣ − 1) otherwise, so y' = gamma, resp. y + gamma·alpha.
        r.Add("Selu", c =>
        {
            var alpha = c.Float("alpha", 1.67326319217681884765625f);
            var gamma = c.Float("gamma", 1.05070102214508056640625f);
            var positive = c.B.Mul(c.Dy, c.Scalar(gamma, c.Dy));
            var negative = c.B.Mul(c.Dy, c.B.Add(c.Y(), c.Scalar((double)gamma * alpha, c.Y())));
            c.SetGrad(0, PositiveSide(c, positive, negative));
        });
        // softplus' = σ(x).
        r.Add("Softplus", c => c.SetGrad(0, c.B.Mul(c.Dy, c.B.Op("Sigmoid", [c.X()]))));
        // softsign' = 1 / (1 + |x|)².
        r.Add("Softsign", c =>
        {
            var denominator = c.B.Add(c.Scalar(1, c.X()), c.B.Op("Abs", [c.X()]));
            c.SetGrad(0, c.B.Div(c.Dy, c.B.Mul(denominator, denominator)));
        });
        // HardSigmoid: y = max(0, min(1, alpha·x + beta)) (defaults 0.2, 0.5): slope alpha inside the band, 0 outside.
        r.Add("HardSigmoid", c =>
        {
            var alpha = c.Float("alpha", 0.2f);
            var linear = c.B.Add(c.B.Mul(c.X(), c.Scalar(alpha, c.X())), c.Scalar(c.Float("beta", 0.5f), c.X()));
            var inside = c.B.Op("And", [
                c.B.Op("Greater", [linear, c.Scalar(0, linear)]),
                c.B.Op("Less", [linear, c.Scalar(1, linear)]),
            ]);
            c.SetGrad(0, c.B.Op("Where", [inside, c.B.Mul(c.Dy, c.Scalar(alpha, c.Dy)), c.Scalar(0, c.Dy)]));
        });
        // HardSwish: y = x·max(0, min(1, x/6 + 1/2)): 0 below −3, 1 above 3, x/3 + 1/2 between.
        r.Add("HardSwish", c =>
        {
            var x = c.X();
            var zero = c.Scalar(0, c.Dy);
            var middle = c.B.Mul(c.Dy, c.B.Add(c.B.Div(x, c.Scalar(3, x)), c.Scalar(0.5, x)));
            var belowTop = c.B.Op("Where", [c.B.Op("Less", [x, c.Scalar(-3, x)]), zero, middle]);
            c.SetGrad(0, c.B.Op("Where", [c.B.Op("Greater", [x, c.Scalar(3, x)]), c.Dy, belowTop]));
        });
        r.Add("Clip", ClipRule);
        r.Add("Gelu", GeluRule);
        r.Add("Dropout", DropoutRule);
        r.Add("Softmax", c => SoftmaxRule(c, log: false));
        r.Add("LogSoftmax", c => SoftmaxRule(c, log: true));
    }

    /// <summary>Where(x &gt; 0, positive, negative): the branch of a function with a kink at 0.</summary>
    private static Value PositiveSide(GradientContext c, Value positive, Value negative) =>
        c.B.Op("Where", [c.B.Op("Greater", [c.X(), c.Scalar(0, c.X())]), positive, negative]);

    /// <summary>
    /// Clip (ONNX operator spec): bounds are attributes min/max before opset 11 and optional scalar
    /// inputs from 11; an absent bound does not clip. The gradient passes where min &lt; x &lt; max;
    /// a bound input gets the gradient of the elements clipped to it.
    /// </summary>
    private static void ClipRule(GradientContext c)
    {
        var x = c.X();
        Value? low;
        Value? high;
        if (c.Opset < 11)
        {
            low = c.Node.GetAttribute("min") is null ? null : c.Scalar(c.Float("min", float.MinValue), x);
            high = c.Node.GetAttribute("max") is null ? null : c.Scalar(c.Float("max", float.MaxValue), x);
        }
        else
        {
            low = c.HasInput(1) ? c.X(1) : null;
            high = c.HasInput(2) ? c.X(2) : null;
        }
        var zero = c.Scalar(0, c.Dy);
        Value? aboveLow = low is null ? null : c.B.Op("Greater", [x, low]);
        Value? belowHigh = high is null ? null : c.B.Op("Less", [x, high]);
        var inside = (aboveLow, belowHigh) switch
        {
            ({ } a, { } b) => c.B.Op("And", [a, b]),
            ({ } a, null) => a,
            (null, { } b) => b,
            _ => null,
        };
        c.SetGrad(0, inside is null ? c.Dy : c.B.Op("Where", [inside, c.Dy, zero]));
        if (c.Opset >= 11 && aboveLow is not null && c.Needs(1))
        {
            // Elements at or below min (and not above max) output min.
            var atLow = c.B.Op("Not", [aboveLow]);
            c.SetGradUnbroadcast(1, c.B.Op("Where", [atLow, c.Dy, zero]));
        }
        if (c.Opset >= 11 && belowHigh is not null && c.Needs(2))
        {
            var atHigh = c.B.Op("Not", [belowHigh]);
            if (aboveLow is not null)
            {
                // Clip is Min(Max(x, min), max): elements at or below min still output max when min > max,
                // so the upper bound takes every element that is not strictly inside.
                atHigh = c.B.Op("And", [atHigh, aboveLow]);
            }
            c.SetGradUnbroadcast(2, c.B.Op("Where", [atHigh, c.Dy, zero]));
        }
    }

    /// <summary>
    /// Gelu (ONNX operator spec, opset 20): approximate="none" is x·Φ(x), whose derivative is
    /// Φ(x) + x·φ(x); approximate="tanh" is x/2·(1 + tanh u), u = √(2/π)(x + 0.044715x³), whose
    /// derivative is (1 + tanh u)/2 + x/2·(1 − tanh² u)·√(2/π)(1 + 3·0.044715x²).
    /// </summary>
    private static void GeluRule(GradientContext c)
    {
        var x = c.X();
        var b = c.B;
        Value derivative;
        if (c.String("approximate", "none") == "tanh")
        {
            var k = Math.Sqrt(2 / Math.PI);
            var cube = b.Mul(x, b.Mul(x, x));
            var u = b.Mul(c.Scalar(k, x), b.Add(x, b.Mul(cube, c.Scalar(0.044715, x))));
            var t = b.Op("Tanh", [u]);
            var half = c.Scalar(0.5, x);
            var du = b.Mul(c.Scalar(k, x), b.Add(c.Scalar(1, x), b.Mul(b.Mul(x, x), c.Scalar(3 * 0.044715, x))));
            var sech2 = b.Sub(c.Scalar(1, x), b.Mul(t, t));
            derivative = b.Add(b.Mul(half, b.Add(c.Scalar(1, x), t)), b.Mul(b.Mul(half, x), b.Mul(sech2, du)));
        }
        else
        {
            var cdf = b.Mul(c.Scalar(0.5, x), b.Add(c.Scalar(1, x), b.Op("Erf", [b.Mul(x, c.Scalar(1 / Math.Sqrt(2), x))])));
            var pdf = b.Mul(c.Scalar(1 / Math.Sqrt(2 * Math.PI), x), b.Op("Exp", [b.Mul(b.Mul(x, x), c.Scalar(-0.5, x))]));
            derivative = b.Add(cdf, b.Mul(x, pdf));
        }
        c.SetGrad(0, b.Mul(c.Dy, derivative));
    }

    /// <summary>
    /// Dropout (ONNX operator spec). Before opset 12, and from 12 when training_mode is absent or
    /// false, the output is the input: the identity. In training mode y = x·mask/(1 − ratio)
    /// (ratio default 0.5), so dx = dy·mask/(1 − ratio) with the mask of this very forward pass:
    /// the mask output when the node has one, else the elements where y ≠ 0 — the same mask wherever
    /// x ≠ 0, and where x = 0 the forward output does not depend on the mask at all, so only the
    /// gradient of kept exact zeros (a null set for continuous inputs) is dropped. A training_mode
    /// that is not a constant chooses between both at run time.
    /// </summary>
    private static void DropoutRule(GradientContext c)
    {
        var dy = c.OutputGrad(0);
        if (dy is null)
        {
            return; // the mask output carries no gradient
        }
        if (c.Opset < 12 || !c.HasInput(2))
        {
            c.SetGrad(0, dy);
            return;
        }
        var training = c.X(2);
        var constantMode = ConstantValue.TryGet(training)?.ToDoubles();
        if (constantMode is { Length: 1 } && constantMode[0] == 0)
        {
            c.SetGrad(0, dy);
            return;
        }
        var kept = c.Node.Outputs.Count > 1 && c.Node.Outputs[1] is { } mask
            ? mask
            : c.B.Op("Not", [c.B.Op("Equal", [c.Y(), c.Scalar(0, c.Y())])]);
        Value scale;
        if (c.HasInput(1))
        {
            var ratio = c.CastLike(c.X(1), dy);
            scale = c.B.Div(c.Scalar(1, dy), c.B.Sub(c.Scalar(1, dy), ratio));
        }
        else
        {
            scale = c.Scalar(2, dy);
        }
        // Where rather than a product: with ratio = 1 every element is dropped and 1/(1 − ratio) is infinite.
        var trainingGrad = c.B.Op("Where", [kept, c.B.Mul(dy, scale), c.Scalar(0, dy)]);
        c.SetGrad(0, constantMode is { Length: 1 } ? trainingGrad : c.B.Op("Where", [training, trainingGrad, dy]));
    }

    /// <summary>
    /// Softmax and LogSoftmax (ONNX operator spec). From opset 13 they act along one axis (default −1);
    /// before, the input is coerced to 2-D at axis (default 1) and the op acts on all axes from axis
    /// to the last jointly. With s the reduced axes: Softmax dx = y·(dy − Σ_s dy·y);
    /// LogSoftmax dx = dy − exp(y)·Σ_s dy.
    /// </summary>
    private static void SoftmaxRule(GradientContext c, bool log)
    {
        var rank = c.Rank(c.X());
        var axis = c.Int("axis", c.Opset >= 13 ? -1 : 1);
        if (axis < 0)
        {
            axis += rank;
        }
        long[] axes = c.Opset >= 13 ? [axis] : [.. Enumerable.Range((int)axis, rank - (int)axis).Select(a => (long)a)];
        var b = c.B;
        if (log)
        {
            var total = b.ReduceSum(c.Dy, axes, keepDims: true);
            c.SetGrad(0, b.Sub(c.Dy, b.Mul(b.Op("Exp", [c.Y()]), total)));
        }
        else
        {
            var product = b.Mul(c.Dy, c.Y());
            c.SetGrad(0, b.Sub(product, b.Mul(c.Y(), b.ReduceSum(product, axes, keepDims: true))));
        }
    }
}
