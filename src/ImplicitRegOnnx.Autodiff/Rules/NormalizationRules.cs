using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Onnx.Building;

namespace ImplicitRegOnnx.Autodiff.Rules;

/// <summary>
/// BatchNormalization, LayerNormalization and InstanceNormalization (ONNX operator spec). Where the
/// statistics come from the input itself (training-mode BatchNormalization, LayerNormalization,
/// InstanceNormalization), the standardized input x̂ = (x − μ)·r, r = 1/√(σ² + ε) (biased variance)
/// is recomputed from x in the backward graph, and with g = dy·scale the input gradient is
///     dx = r·(g − mean(g) − x̂·mean(g·x̂))     (means over the statistics' axes),
/// so that the second derivative flows through μ and σ² as well (the exact penalty needs it).
/// </summary>
internal static class NormalizationRules
{
    public static void Register(RuleRegistry r)
    {
        r.Add("BatchNormalization", BatchNormalizationRule);
        r.Add("LayerNormalization", LayerNormalizationRule);
        r.Add("InstanceNormalization", InstanceNormalizationRule);
    }

    /// <summary>
    /// BatchNormalization: X [N, C, d...], per-channel scale, B, input_mean, input_var; epsilon default 1e-5.
    /// Training mode is the training_mode attribute from opset 14, and the presence of the statistics
    /// outputs before. In training mode Y uses the batch statistics over N and the spatial axes; the
    /// running statistics outputs are not trained, so their gradients are ignored and input_mean and
    /// input_var (which only feed them) get none. In inference mode every input gets its gradient.
    /// </summary>
    private static void BatchNormalizationRule(GradientContext c)
    {
        var dy = c.OutputGrad(0);
        if (dy is null)
        {
            return;
        }
        var x = c.X(0);
        var rank = c.Rank(x);
        if (rank < 2)
        {
            throw ImplicitRegException.Unsupported($"{c.Describe()}: the input must have rank 2 or more (N, C, ...)");
        }
        if (c.Opset < 9 && c.Int("spatial", 1) == 0)
        {
            throw ImplicitRegException.Unsupported($"{c.Describe()}: spatial=0 (per-position statistics, before opset 9) is not supported");
        }
        var training = c.Opset >= 14
            ? c.Int("training_mode", 0) != 0
            : c.Node.Outputs.Skip(1).Any(o => o is not null);
        var epsilon = c.Float("epsilon", 1e-5f);
        long[] statisticsAxes = [0, .. Enumerable.Range(2, rank - 2).Select(a => (long)a)];
        var b = c.B;
        var scale = c.ChannelView(c.X(1), rank);
        if (training)
        {
            // With s = Σ dy·x̂ (the scale gradient) and t = Σ dy (the bias gradient) per channel, the
            // input gradient r·(g − mean(g) − x̂·mean(g·x̂)), g = dy·scale, is
            // dy·(scale·r) − x̂·(scale·r·s/count) − scale·r·t/count: three full-size products
            // instead of seven, the per-channel factors small.
            var (normalized, inverse) = Standardize(c, x, statisticsAxes, epsilon);
            var dyNormalized = b.ReduceSum(b.Mul(dy, normalized), statisticsAxes);
            var dySum = b.ReduceSum(dy, statisticsAxes);
            if (c.Needs(0))
            {
                var gain = b.Mul(scale, inverse);
                var perElement = b.Div(gain, NormalizedCount(c, x, statisticsAxes, inverse));
                var projection = b.Mul(normalized, b.Mul(perElement, dyNormalized));
                c.SetGrad(0, b.Sub(b.Sub(b.Mul(dy, gain), projection), b.Mul(perElement, dySum)));
            }
            if (c.Needs(1))
            {
                c.SetGrad(1, b.Reshape(dyNormalized, c.B.Shape(c.X(1))));
            }
            if (c.Needs(2))
            {
                c.SetGrad(2, b.Reshape(dySum, c.B.Shape(c.X(2))));
            }
            return;
        }
        var g = b.Mul(dy, scale);
        // y = scale·(x − mean)·r + B with r = 1/√(var + ε) from the inputs.
        var variance = c.X(4);
        var inverseChannel = b.Op("Reciprocal", [b.Op("Sqrt", [b.Add(variance, c.Scalar(epsilon, variance))])]);
        var inverseView = c.ChannelView(inverseChannel, rank);
        var centered = b.Sub(x, c.ChannelView(c.X(3), rank));
        var dx = b.Mul(g, inverseView);
        c.SetGrad(0, dx);
        if (c.Needs(1))
        {
            c.SetGrad(1, b.ReduceSum(b.Mul(dy, b.Mul(centered, inverseView)), statisticsAxes, keepDims: false));
        }
        if (c.Needs(2))
        {
            c.SetGrad(2, b.ReduceSum(dy, statisticsAxes, keepDims: false));
        }
        if (c.Needs(3))
        {
            c.SetGrad(3, b.Neg(b.ReduceSum(dx, statisticsAxes, keepDims: false)));
        }
        if (c.Needs(4))
        {
            // ∂r/∂var = −r³/2.
            var cube = b.Mul(inverseChannel, b.Mul(inverseChannel, inverseChannel));
            var sum = b.ReduceSum(b.Mul(g, centered), statisticsAxes, keepDims: false);
            c.SetGrad(4, b.Mul(sum, b.Mul(cube, c.Scalar(-0.5, cube))));
        }
    }

    /// <summary>
    /// LayerNormalization (opset 17): statistics over the axes from axis (default −1) to the last;
    /// Scale and B broadcast over those axes. The optional Mean and InvStdDev outputs (typed by
    /// stash_type) are differentiable too: ∂μ/∂x = 1/n and ∂r/∂x = −r²·x̂/n.
    /// </summary>
    private static void LayerNormalizationRule(GradientContext c)
    {
        var x = c.X(0);
        var rank = c.Rank(x);
        var axis = c.Int("axis", -1);
        if (axis < 0)
        {
            axis += rank;
        }
        long[] axes = [.. Enumerable.Range((int)axis, rank - (int)axis).Select(a => (long)a)];
        var b = c.B;
        var (normalized, inverse) = Standardize(c, x, axes, c.Float("epsilon", 1e-5f));
        if (c.OutputGrad(0) is { } dy)
        {
            if (c.Needs(0))
            {
                c.SetGrad(0, StandardizeBackward(c, b.Mul(dy, c.X(1)), normalized, inverse, axes));
            }
            if (c.Needs(1))
            {
                c.SetGradUnbroadcast(1, b.Mul(dy, normalized));
            }
            if (c.HasInput(2) && c.Needs(2))
            {
                c.SetGradUnbroadcast(2, dy);
            }
        }
        var meanGrad = c.OutputGrad(1);
        var inverseGrad = c.OutputGrad(2);
        if ((meanGrad is null && inverseGrad is null) || !c.Needs(0))
        {
            return;
        }
        var count = NormalizedCount(c, x, axes, c.Y(meanGrad is not null ? 1 : 2));
        if (meanGrad is not null)
        {
            var share = b.Div(c.CastLike(meanGrad, x), count);
            c.SetGrad(0, b.Expand(share, b.Shape(x)));
        }
        if (inverseGrad is not null)
        {
            var slope = b.Div(b.Mul(b.Mul(inverse, inverse), normalized), count);
            c.SetGrad(0, b.Neg(b.Mul(c.CastLike(inverseGrad, x), slope)));
        }
    }

    /// <summary>InstanceNormalization: statistics over the spatial axes of each sample and channel; scale and B per channel; epsilon default 1e-5.</summary>
    private static void InstanceNormalizationRule(GradientContext c)
    {
        var x = c.X(0);
        var rank = c.Rank(x);
        if (rank < 3)
        {
            throw ImplicitRegException.Unsupported($"{c.Describe()}: the input must have rank 3 or more (N, C, d...)");
        }
        long[] axes = [.. Enumerable.Range(2, rank - 2).Select(a => (long)a)];
        long[] channelSumAxes = [0, .. axes];
        var b = c.B;
        var (normalized, inverse) = Standardize(c, x, axes, c.Float("epsilon", 1e-5f));
        if (c.Needs(0))
        {
            c.SetGrad(0, StandardizeBackward(c, b.Mul(c.Dy, c.ChannelView(c.X(1), rank)), normalized, inverse, axes));
        }
        if (c.Needs(1))
        {
            c.SetGrad(1, b.ReduceSum(b.Mul(c.Dy, normalized), channelSumAxes, keepDims: false));
        }
        if (c.Needs(2))
        {
            c.SetGrad(2, b.ReduceSum(c.Dy, channelSumAxes, keepDims: false));
        }
    }

    /// <summary>x̂ = (x − μ)·r and r = 1/√(σ² + ε), with μ and the biased σ² over <paramref name="axes"/> (kept as size 1).</summary>
    private static (Value Normalized, Value Inverse) Standardize(GradientContext c, Value x, long[] axes, float epsilon)
    {
        var statistics = Statistics.Of(c.B, x, axes, epsilon);
        return (c.B.Mul(statistics.Centered, statistics.Inverse), statistics.Inverse);
    }

    /// <summary>The input gradient of x ↦ x̂ given g = ∂L/∂x̂: r·(g − mean(g) − x̂·mean(g·x̂)).</summary>
    private static Value StandardizeBackward(GradientContext c, Value g, Value normalized, Value inverse, long[] axes)
    {
        var b = c.B;
        var projection = b.Mul(normalized, MeanKeepDims(c, b.Mul(g, normalized), axes));
        return b.Mul(inverse, b.Sub(b.Sub(g, MeanKeepDims(c, g, axes)), projection));
    }

    private static Value MeanKeepDims(GradientContext c, Value v, long[] axes) => Statistics.ReduceKeepDims(c.B, "ReduceMean", v, axes);


    /// <summary>The number of elements each statistic averages (|X| / |statistic|), typed like <paramref name="x"/>.</summary>
    private static Value NormalizedCount(GradientContext c, Value x, long[] axes, Value statistic)
    {
        if (x.Shape is { } shape && axes.All(a => shape[(int)a].IsKnown))
        {
            return c.Scalar(axes.Aggregate(1L, (n, a) => n * shape[(int)a].Value!.Value), x);
        }
        var size = (Value v) => c.CastLike(c.B.Op("Size", [v]), x);
        return c.B.Div(size(x), size(statistic));
    }
}

/// <summary>
/// The statistics of a standardization over some axes, built the same way by the
/// normalization rules and by the training-mode BatchNormalization lowering that runs after
/// differentiation (ImplicitRegOnnx.Training), so that common-subexpression elimination computes them
/// once for the forward and the backward pass (one helper, so the two cannot drift apart).
/// </summary>
internal static class Statistics
{
    /// <summary>μ, x − μ, the biased σ² (kept as size-1 axes) and r = 1/√(σ² + ε).</summary>
    public static (Value Mean, Value Centered, Value Variance, Value Inverse) Of(GraphBuilder b, Value x, long[] axes, float epsilon)
    {
        var mean = ReduceKeepDims(b, "ReduceMean", x, axes);
        var centered = b.Sub(x, mean);
        // Mul then ReduceMean: ReduceSumSquare (one pass fewer) measured no faster, ORT runs it at
        // about the cost of both over these axes (docs/performance.md).
        var variance = ReduceKeepDims(b, "ReduceMean", b.Mul(centered, centered), axes);
        var inverse = b.Op("Reciprocal", [b.Op("Sqrt", [b.Add(variance, b.ScalarLike(epsilon, variance))])]);
        return (mean, centered, variance, inverse);
    }

    /// <summary>A reduction with keepdims=1 over constant axes: the axes attribute before opset 18, an input from 18.</summary>
    public static Value ReduceKeepDims(GraphBuilder b, string op, Value v, long[] axes) => b.Opset >= 18
        ? b.Op(op, [v, b.Ints(axes)], Attribute.Int("keepdims", 1))
        : b.Op(op, [v], Attribute.Int("keepdims", 1), Attribute.Ints("axes", axes));
}
