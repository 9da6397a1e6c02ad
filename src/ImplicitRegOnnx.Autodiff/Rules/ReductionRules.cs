using ImplicitRegOnnx.Onnx;

namespace ImplicitRegOnnx.Autodiff.Rules;

/// <summary>
/// Reductions (ONNX operator spec: ReduceSum and friends). Axes are an attribute before opset 13
/// (ReduceSum) or 18 (the others) and an optional input after; no axes reduce every axis unless
/// noop_with_empty_axes=1 (then the op is the identity); keepdims (default 1) keeps reduced axes as 1.
/// Every rule broadcasts the output gradient back with <see cref="ExpandToInput"/> and multiplies by
/// the local derivative, written with the forward output where that is cheaper.
/// </summary>
internal static class ReductionRules
{
    public static void Register(RuleRegistry r)
    {
        r.Add("ReduceSum", c => c.SetGrad(0, ExpandToInput(c, c.Dy)));
        r.Add("ReduceMean", c =>
        {
            // Each input element contributes 1/count, count = |X| / |Y| (1 for the noop case).
            c.SetGrad(0, c.B.Div(ExpandToInput(c, c.Dy), ReducedCount(c)));
        });
        r.Add("ReduceMax", SelectedElementRule);
        r.Add("ReduceMin", SelectedElementRule);
        r.Add("ReduceProd", c =>
        {
            // ∂(Π x)/∂x_i = Π x / x_i: exact for nonzero inputs (a zero input gives NaN/Inf, as the quotient form does in PyTorch's fast path).
            c.SetGrad(0, c.B.Div(c.B.Mul(ExpandToInput(c, c.Dy), ExpandToInput(c, c.Y())), c.X()));
        });
        // 2·x·dy with dy broadcast by the Mul itself (x has the full shape): one full-size pass.
        r.Add("ReduceSumSquare", c => c.SetGrad(0, c.B.Mul(c.X(), c.B.Mul(WithReducedAxes(c, c.Dy), c.Scalar(2, c.Dy)))));
        r.Add("ReduceL1", c => c.SetGrad(0, c.B.Mul(ExpandToInput(c, c.Dy), c.B.Op("Sign", [c.X()]))));
        // ∂‖x‖₂/∂x = x / ‖x‖₂.
        r.Add("ReduceL2", c => c.SetGrad(0, c.B.Mul(c.X(), ExpandToInput(c, c.B.Div(c.Dy, c.Y())))));
        // ∂ log Σ x / ∂x = 1 / Σ x = 1 / exp(y).
        r.Add("ReduceLogSum", c => c.SetGrad(0, ExpandToInput(c, c.B.Div(c.Dy, c.B.Op("Exp", [c.Y()])))));
        // ∂ log Σ exp x / ∂x = softmax over the reduced axes = exp(x - y).
        r.Add("ReduceLogSumExp", c =>
            c.SetGrad(0, c.B.Mul(ExpandToInput(c, c.Dy), c.B.Op("Exp", [c.B.Sub(c.X(), ExpandToInput(c, c.Y()))]))));
    }

    /// <summary>
    /// ReduceMax and ReduceMin: the gradient goes to the elements equal to the result, shared evenly
    /// among ties (PyTorch's amax/amin convention). The mask is piecewise constant, so the second
    /// derivative is zero almost everywhere, which the emitted graph reproduces.
    /// </summary>
    private static void SelectedElementRule(GradientContext c)
    {
        var mask = c.CastLike(c.B.Op("Equal", [c.X(), ExpandToInput(c, c.Y())]), c.Dy);
        var count = ReduceSumKeepDimsLike(c, mask);
        c.SetGrad(0, c.B.Mul(ExpandToInput(c, c.Dy), c.B.Div(mask, count)));
    }

    /// <summary>Number of input elements per output element, typed like the gradient: |X| / |Y|.</summary>
    private static Value ReducedCount(GradientContext c)
    {
        if (c.X().Shape?.ElementCount() is { } inputCount && c.Y().Shape?.ElementCount() is { } outputCount && outputCount > 0)
        {
            return c.Scalar((double)inputCount / outputCount, c.Dy);
        }
        var size = (Value v) => c.CastLike(c.B.Op("Size", [v]), c.Dy);
        return c.B.Div(size(c.X()), size(c.Y()));
    }

    /// <summary>
    /// A ReduceSum with keepdims=1 over the same axes as the forward reduction (its axes attribute or
    /// the very same axes input, and its noop_with_empty_axes), in the form of the graph's opset.
    /// </summary>
    private static Value ReduceSumKeepDimsLike(GradientContext c, Value value)
    {
        var keep = Attribute.Int("keepdims", 1);
        var attributeAxes = c.Ints("axes")?.ToArray();
        if (c.Opset < 13)
        {
            return attributeAxes is { Length: > 0 }
                ? c.B.Op("ReduceSum", [value], keep, Attribute.Ints("axes", attributeAxes))
                : c.B.Op("ReduceSum", [value], keep);
        }
        var noop = Attribute.Int("noop_with_empty_axes", c.Int("noop_with_empty_axes", 0));
        Value? axes = c.Node.Inputs.Count > 1 && c.HasInput(1) ? c.X(1)
            : attributeAxes is { Length: > 0 } ? c.B.Ints(attributeAxes) : null;
        return axes is null
            ? c.B.Op("ReduceSum", [value], keep, noop)
            : c.B.Op("ReduceSum", [value, axes], keep, noop);
    }

    /// <summary>
    /// Broadcasts a gradient of a reduction's output back to the input's shape: with keepdims=0 the
    /// reduced axes are first restored as size-1 axes (they must then be known), then Expand.
    /// </summary>
    public static Value ExpandToInput(GradientContext c, Value gradient) => c.B.Expand(WithReducedAxes(c, gradient), c.B.Shape(c.X(0)));

    /// <summary>
    /// A gradient of a reduction's output with the reduced axes as size-1 axes (keepdims=0: restored,
    /// they must then be known; all axes reduced: the scalar as it is), so that it broadcasts against the input.
    /// </summary>
    private static Value WithReducedAxes(GradientContext c, Value gradient) =>
        c.Int("keepdims", 1) == 0 && ReducedAxes(c) is { } axes ? c.B.Unsqueeze(gradient, axes) : gradient;

    /// <summary>The normalized reduced axes, or null when every axis is reduced (or none, with noop_with_empty_axes).</summary>
    public static long[]? ReducedAxes(GradientContext c)
    {
        var axes = c.Node.Inputs.Count > 1 && c.HasInput(1)
            ? c.ConstantInts(1) ?? throw ImplicitRegException.Unsupported($"{c.Describe()}: with keepdims=0 the axes input must be constant")
            : c.Ints("axes")?.ToArray();
        if (axes is null || axes.Length == 0)
        {
            return null;
        }
        var rank = c.Rank(c.X(0));
        return [.. axes.Select(a => a < 0 ? a + rank : a).Order()];
    }
}
