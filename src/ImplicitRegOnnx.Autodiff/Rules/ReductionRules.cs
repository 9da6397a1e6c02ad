using ImplicitRegOnnx.Onnx;

namespace ImplicitRegOnnx.Autodiff.Rules;

/// <summary>Reductions (ONNX operator spec: ReduceSum and friends; axes as an attribute before opset 13/18, as an input after).</summary>
internal static partial class ReductionRules
{
    public static void Register(RuleRegistry r)
    {
        r.Add("ReduceSum", c => c.SetGrad(0, ExpandToInput(c, c.Dy)));
        RegisterOthers(r);
    }

    static partial void RegisterOthers(RuleRegistry r);

    /// <summary>
    /// Broadcasts a gradient of a reduction's output back to the input's shape: with keepdims=0 the
    /// reduced axes are first restored as size-1 axes (they must then be known), then Expand.
    /// </summary>
    public static Value ExpandToInput(GradientContext c, Value gradient)
    {
        var x = c.X(0);
        if (c.Int("keepdims", 1) == 0)
        {
            var axes = ReducedAxes(c);
            if (axes is null)
            {
                // All axes reduced: the output is a scalar, which Expand broadcasts as it is.
                return c.B.Expand(gradient, c.B.Shape(x));
            }
            gradient = c.B.Unsqueeze(gradient, axes);
        }
        return c.B.Expand(gradient, c.B.Shape(x));
    }

    /// <summary>The normalized reduced axes, or null when every axis is reduced.</summary>
    public static long[]? ReducedAxes(GradientContext c)
    {
        var axes = c.Node.Inputs.Count > 1 && c.HasInput(1)
            ? c.ConstantInts(1) ?? throw new GradientException($"{c.Describe()}: with keepdims=0 the axes input must be constant")
            : c.Ints("axes")?.ToArray();
        if (axes is null || axes.Length == 0)
        {
            return null;
        }
        var rank = c.Rank(c.X(0));
        return [.. axes.Select(a => a < 0 ? a + rank : a).Order()];
    }
}
