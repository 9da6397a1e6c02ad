using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Runtime.Data;
using ImplicitRegOnnx.Runtime.Verification;
using ImplicitRegOnnx.Training;

namespace ImplicitRegOnnx.Runtime.Experiments;

/// <summary>The two gradient norms of the paper's modified loss, measured at a point in weight space.</summary>
/// <param name="FullBatch">||∇C||², C the mean loss over the examples used.</param>
/// <param name="MeanMinibatch">(1/m) Σ_k ||∇Ĉ_k||² over m minibatches of the batch size (the regularizer's sum, divided by m).</param>
/// <param name="Minibatches">m.</param>
public sealed record GradientNorms(double FullBatch, double MeanMinibatch, int Minibatches);

/// <summary>
/// Measures ||∇C||² and the mean minibatch ||∇Ĉ_k||² of an inference model on a training set
/// (Smith et al., ICLR 2021, eq. 1: C_SGD = C + (ε/4m) Σ_k ||∇Ĉ_k||²). The minibatches are consecutive
/// slices of the data as stored, m = ⌊N/B⌋ of them (a remainder is left out of both norms), and ∇C is
/// the mean of the ∇Ĉ_k, so both come from one pass of gradient evaluations.
/// </summary>
public static class GradientStatistics
{
    /// <summary>Measures both norms with <paramref name="inference"/>'s current weights, minibatches of <paramref name="batchSize"/> (clamped to [1, N]), the loss of <paramref name="options"/> without its penalty; <paramref name="threads"/> 0 lets ONNX Runtime choose.</summary>
    public static GradientNorms Measure(Model inference, GradientModelOptions options, Dataset train, int batchSize, int threads = 0)
    {
        ArgumentNullException.ThrowIfNull(inference);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(train);
        var plain = options with { Penalty = new PenaltyOptions { Mode = PenaltyMode.None, Microbatches = 1 } };
        var gradient = GradientModelBuilder.Build(inference, plain);
        var data = train.ForInputs(DataInput.Of(inference));
        var size = Math.Clamp(batchSize, 1, data.Count);
        var m = data.Count / size;
        using var sessionOptions = StepSession.DefaultOptions(threads);
        using var runner = ModelRunner.FromBytes(gradient.Model.ToBytes(), sessionOptions);
        var names = gradient.Parameters.Select(p => "grad/" + p).ToList();
        double[][]? sum = null;
        double minibatchSum = 0;
        for (var k = 0; k < m; k++)
        {
            var outputs = runner.Run([.. data.Range(k * size, size).Values])
                .ToDictionary(o => o.Name, o => o.Tensor!, StringComparer.Ordinal);
            var grads = names.Select(n => outputs[n].ToDoubles()).ToArray();
            sum ??= [.. grads.Select(g => new double[g.Length])];
            for (var p = 0; p < grads.Length; p++)
            {
                var g = grads[p];
                var s = sum[p];
                for (var i = 0; i < g.Length; i++)
                {
                    minibatchSum += g[i] * g[i];
                    s[i] += g[i];
                }
            }
        }
        double full = 0;
        foreach (var s in sum ?? [])
        {
            foreach (var v in s)
            {
                full += (v / m) * (v / m);
            }
        }
        return new GradientNorms(full, minibatchSum / m, m);
    }
}
