using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Training;

namespace ImplicitRegOnnx.Runtime.Verification;

/// <summary>What <see cref="GradientCheck"/> differentiates and on which random batch.</summary>
public sealed record GradientCheckOptions
{
    /// <summary>Loss, output, trainable parameters and penalty (mode, microbatches, coefficient c of the reported objective).</summary>
    public GradientModelOptions Gradient { get; init; } = new() { Loss = LossKind.Mse };

    /// <summary>Size of the batch dimension (first dim of an input when it is symbolic or unknown).</summary>
    public long Batch { get; init; } = 2;

    /// <summary>Sizes of other symbolic dimensions by name; those not named get <see cref="DefaultDim"/>.</summary>
    public IReadOnlyDictionary<string, long> Dims { get; init; } = new Dictionary<string, long>(StringComparer.Ordinal);

    /// <summary>Size of symbolic or unknown dimensions other than the batch that <see cref="Dims"/> does not name.</summary>
    public long DefaultDim { get; init; } = 2;

    /// <summary>Seeds the inputs, targets and directions: the same seed gives the same check.</summary>
    public int Seed { get; init; } = 1234;

    /// <summary>How many random directions are checked; the worst error counts.</summary>
    public int Directions { get; init; } = 3;

    /// <summary>The largest relative error that passes (see <see cref="GradientCheck.DefaultThreshold"/>).</summary>
    public double Threshold { get; init; } = GradientCheck.DefaultThreshold;

    /// <summary>Checks the batch, the directions and the gradient's options; <see cref="GradientCheck.Run(Model, GradientCheckOptions)"/> calls it first.</summary>
    /// <exception cref="ImplicitRegException">Of kind <see cref="ErrorKind.BadInput"/>, naming the first bad property.</exception>
    public void Validate()
    {
        Gradient.Validate();
        if (Batch < 1)
        {
            throw ImplicitRegException.BadParameter("GradientCheckOptions.Batch", FormattableString.Invariant($"must be at least 1, got {Batch}"));
        }
        if (Batch % Gradient.Penalty.Microbatches != 0)
        {
            throw ImplicitRegException.BadParameter("GradientCheckOptions.Batch", FormattableString.Invariant($"{Batch} is not divisible by PenaltyOptions.Microbatches {Gradient.Penalty.Microbatches}"));
        }
        if (Directions < 1)
        {
            throw ImplicitRegException.BadParameter("GradientCheckOptions.Directions", FormattableString.Invariant($"must be at least 1, got {Directions}"));
        }
        if (DefaultDim < 0 || Dims.Any(d => d.Value < 0))
        {
            throw ImplicitRegException.BadParameter("GradientCheckOptions.Dims", "sizes must be non-negative");
        }
    }
}

/// <summary>One directional derivative: central difference against the toolkit's gradient.</summary>
/// <param name="Quantity">"loss" (C), "penalty" (R) or "objective" (C + c·R).</param>
/// <param name="Direction">Which random direction (0, 1, ...).</param>
/// <param name="Numeric">The central difference.</param>
/// <param name="Analytic">⟨∇f, v⟩ from the toolkit's gradient.</param>
/// <param name="RelativeError">As defined on <see cref="GradientCheck"/>; NaN when either side is not finite.</param>
/// <param name="Step">The step h of the central difference.</param>
/// <param name="Smooth">Whether the central differences at h and 2h agreed, so the function is smooth enough along
/// this direction for the comparison to mean something; only smooth derivatives decide the outcome.</param>
public sealed record DirectionalDerivative(string Quantity, int Direction, double Numeric, double Analytic, double RelativeError, double Step, bool Smooth);

/// <summary>The outcome of a gradient check.</summary>
public sealed record GradientCheckResult(IReadOnlyList<DirectionalDerivative> Derivatives, double Threshold, int Parameters, long ParameterElements)
{
    /// <summary>The derivatives that decide the outcome: those along which the function was smooth.</summary>
    public IEnumerable<DirectionalDerivative> Checked => Derivatives.Where(d => d.Smooth);

    /// <summary>The worst relative error of the checked derivatives (NaN when one is not finite or none was checked).</summary>
    public double MaxError => !Checked.Any() || Checked.Any(d => double.IsNaN(d.RelativeError)) ? double.NaN : Checked.Max(d => d.RelativeError);

    /// <summary>Quantities that were smooth along no direction, so that they could not be checked.</summary>
    public IReadOnlyList<string> Unchecked => [.. Derivatives.Select(d => d.Quantity).Distinct().Where(q => !Checked.Any(d => d.Quantity == q))];

    /// <summary>The loss was checked along at least one direction, and every checked derivative is within the threshold.</summary>
    public bool Passed => Checked.Any(d => d.Quantity == "loss") && Checked.All(d => d.RelativeError <= Threshold);
}

/// <summary>
/// Checks the toolkit's gradients of a model against central differences computed with ONNX Runtime:
/// random inputs of the model's shapes and random targets make one batch; along random directions v in
/// parameter space, (f(θ + h·v) − f(θ − h·v)) / 2h must match ⟨∇f(θ), v⟩ for f = the loss C, the penalty
/// R = (1/n) Σ_j ||∇C_j||² (whose gradient is the double backward, or the finite-difference estimate) and
/// the objective C + c·R. Like JAX's check_grads, along directions rather than element by element, so
/// the cost is three evaluations per direction whatever the number of parameters.
/// </summary>
/// <remarks>
/// <para>Precision. Models run in their own precision (float32 for almost all), so the differences are of
/// float32 numbers; everything after that is float64. The perturbed parameters are rounded to float32
/// before they are fed, and the analytic side uses the exact difference of those rounded values
/// (⟨∇f, θ₊ − θ₋⟩ / 2h), so the rounding of θ ± h·v is no error source.</para>
/// <para>Directions. v has independent normal entries scaled, per parameter tensor, by the tensor's RMS
/// value (1 for an all-zero tensor), so every tensor moves by the same relative amount h.</para>
/// <para>Step. h₀ = ∛u with u = 2⁻²⁴ the unit roundoff of float32 (h₀ ≈ 3.9e-3): the central difference's
/// truncation error is h²·|f‴|/6 and its rounding error κ·u·|f|/h for a model whose evaluation
/// amplifies rounding by κ, and h ∝ ∛u balances the two.</para>
/// <para>Smoothness. Central differences assume f is smooth on [θ − h·v, θ + h·v]. With ReLU, max-pooling
/// or other piecewise ops it is not: the loss has kinks where an activation changes, and the penalty,
/// a function of the gradient, even jumps there (the gradient of a ReLU network is piecewise constant in
/// its activation pattern). A difference across such a point says nothing about the derivative. So the
/// steps h₀, h₀/2, ... h₀/512 are tried in turn (the penalty: down to h₀/32), and a quantity counts as
/// checked along v at the first step h whose central difference D(h) agrees with D(2h) and D(4h)
/// (pairwise relative error ≤ τ/2): a smooth function gives the same number at all three, kinks or jumps
/// inside the interval do not. Kinks crossed inside the interval make an error about proportional to h,
/// so the differences between the three estimate the error of D(h) itself (three, not two: the error
/// is not monotone in h and two neighbours can agree at its turning point), and τ/2 leaves the other
/// half of τ to rounding and to the gradient. The smallest steps stay above the float32 noise: at
/// h₀/512 ≈ 7.6e-6 the noise floor below is still a few 1e-3 of a typical derivative. A wrong gradient
/// still fails, since its disagreement with a self-consistent numeric derivative is what is measured.
/// A quantity that is smooth along no direction is reported as unchecked; the check fails when the loss is.</para>
/// <para>Limit of the smoothness test. Three agreeing steps are evidence, not proof: the error from kinks is not
/// a fixed power of h but a sum over the kinks inside the interval, and it can change little from 4h to h while
/// being larger than τ. A ReLU network at full image resolution has kinks so dense that no float32-sized step
/// is smooth: for the CNTK ResNet-18 (about 2.3 million ReLU units at 224×224) even float64 central differences
/// err by 2.6–61% at h₀/4 and come within 1e-3 only at h ≈ 1e-5, where float32 noise is 2e-3 to 2e-1. The check
/// failed its correct gradient (it agrees with float64 autograd to 2e-6) with an error of 1.1e-2 there; see
/// tools/float64_reference.py and docs/ci.md.</para>
/// <para>Error. relative error = |numeric − analytic| / max(|numeric|, |analytic|, N/τ), where
/// N = κ·u·|f(θ)|/h bounds the rounding noise of the numeric derivative and τ is the threshold: a
/// derivative drowned in float32 noise counts as agreement at the noise level instead of as an
/// arbitrary ratio of two noisy numbers. f is a sum of n non-negative terms (the loss: per-element
/// terms of the output, n = the target's element count; the penalty: squared gradient entries,
/// n = the parameter count), and summing n terms pairwise errs by at most ⌈log₂ n⌉·u·Σ|xᵢ| (Higham,
/// Accuracy and Stability of Numerical Algorithms, §4.2), so κ = 2·(1 + log₂ n): the summation and the
/// final rounding, for each of f(θ + h·v) and f(θ − h·v).</para>
/// <para>Threshold. τ = 1e-2. Float32 rounding through a deep graph and truncation give errors of 1e-5 to
/// 1e-3 on smooth stretches; a wrong gradient rule (a missing term, a transposed weight, a wrong sign or
/// factor) gives errors of order 1, or of the share of the derivative it gets wrong.</para>
/// </remarks>
public static class GradientCheck
{
    /// <summary>τ, the default largest relative error that passes (see the remarks on the class).</summary>
    public const double DefaultThreshold = 1e-2;

    /// <summary>u, the unit roundoff of float32 (2⁻²⁴).</summary>
    public const double Float32Roundoff = 5.9604644775390625e-8;

    /// <summary>κ of the noise floor for a sum of <paramref name="terms"/> non-negative terms (see the remarks on the class).</summary>
    public static double RoundingGrowth(long terms) => 2 * (1 + Math.Log2(Math.Max(terms, 1)));

    /// <summary>The output names of a <see cref="GradientModel"/> the check reads.</summary>
    private const string Loss = "loss", Penalty = "penalty", GradPrefix = "grad/", ObjectiveGradPrefix = "objective_grad/";

    /// <summary>Builds the gradient model of <paramref name="inference"/>, a random batch, and checks it.</summary>
    public static GradientCheckResult Run(Model inference, GradientCheckOptions options)
    {
        ArgumentNullException.ThrowIfNull(inference);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        // The penalty's gradient is checked on its own: with c = 1, objective_grad − grad is ∇R exactly
        // as the step model computes it, whatever c the caller asked for (c only scales the objective).
        var gradientOptions = options.Gradient with
        {
            Penalty = options.Gradient.Penalty with { Coefficient = options.Gradient.Penalty.Mode == PenaltyMode.None ? 0 : 1 },
        };
        var gradient = GradientModelBuilder.Build(inference, gradientOptions);
        var batch = RandomBatch(inference, gradient, options);
        return Run(gradient, batch, options);
    }

    /// <summary>
    /// Checks a gradient model built with coefficient 1 (or with the penalty off) on a given batch: the
    /// model's "loss", "penalty", "grad/P" and "objective_grad/P" outputs against central differences
    /// of "loss" and "penalty". The model is changed: its parameters become inputs.
    /// </summary>
    public static GradientCheckResult Run(GradientModel gradient, IReadOnlyDictionary<string, Tensor> batch, GradientCheckOptions options)
    {
        ArgumentNullException.ThrowIfNull(gradient);
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Directions < 1)
        {
            throw new ArgumentException("At least one direction.", nameof(options));
        }
        var graph = gradient.Model.Graph;
        var center = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var name in gradient.Parameters)
        {
            var value = graph.FindValue(name) ?? throw ImplicitRegException.BadInput($"the gradient model has no parameter '{name}'");
            center[name] = value.Initializer ?? throw ImplicitRegException.BadInput($"parameter '{name}' is not an initializer of the gradient model");
            graph.RemoveInitializer(value);
            graph.AddInput(value);
        }
        var withPenalty = options.Gradient.Penalty.Mode != PenaltyMode.None;
        var c = options.Gradient.Penalty.Coefficient;
        var random = new Random(options.Seed ^ 0x5EED);

        using var runner = ModelRunner.FromBytes(gradient.Model.ToBytes());
        IReadOnlyDictionary<string, Tensor> Evaluate(IReadOnlyDictionary<string, Tensor> parameters)
        {
            var feeds = graph.RequiredInputs.Select(v =>
                (parameters.TryGetValue(v.Name, out var p) ? p
                    : batch.TryGetValue(v.Name, out var x) ? x
                    : throw ImplicitRegException.BadInput($"no value for input '{v.Name}' of the gradient model")).WithName(v.Name)).ToList();
            return runner.Run(feeds).ToDictionary(o => o.Name, o => o.Tensor!, StringComparer.Ordinal);
        }

        var at = Evaluate(center);
        var gradC = gradient.Parameters.ToDictionary(p => p, p => at[GradPrefix + p].ToDoubles(), StringComparer.Ordinal);
        var gradR = gradient.Parameters.ToDictionary(p => p, p =>
        {
            var objective = at[ObjectiveGradPrefix + p].ToDoubles();
            var loss = gradC[p];
            return withPenalty ? objective.Select((o, i) => o - loss[i]).ToArray() : new double[loss.Length];
        }, StringComparer.Ordinal);
        var loss0 = Scalar(at, Loss);
        var penalty0 = withPenalty ? Scalar(at, Penalty) : 0;

        var quantities = withPenalty ? new[] { "loss", "penalty" } : ["loss"];
        var values0 = new Dictionary<string, double>(StringComparer.Ordinal) { ["loss"] = loss0, ["penalty"] = penalty0 };
        var parameterElements = center.Values.Sum(t => t.ElementCount);
        var terms = new Dictionary<string, long>(StringComparer.Ordinal)
        {
            ["loss"] = batch.TryGetValue(GradientModelBuilder.Target, out var target) ? target.ElementCount : 1,
            ["penalty"] = parameterElements,
        };
        var derivatives = new List<DirectionalDerivative>();
        for (var d = 0; d < options.Directions; d++)
        {
            var direction = gradient.Parameters.ToDictionary(p => p, p =>
            {
                var values = center[p].ToDoubles();
                var scale = Rms(values) is var rms && rms > 0 ? rms : 1;
                return values.Select(_ => Normal(random) * scale).ToArray();
            }, StringComparer.Ordinal);
            var pending = new HashSet<string>(quantities, StringComparer.Ordinal);
            var history = quantities.ToDictionary(q => q, _ => new List<double>(), StringComparer.Ordinal);
            var last = new Dictionary<string, DirectionalDerivative>(StringComparer.Ordinal);
            for (var level = 0; level < StepLevels && pending.Count > 0; level++)
            {
                var step = InitialStep / (1 << level);
                var (numeric, analytic) = CentralDifference(gradient.Parameters, center, direction, step, gradC, gradR, Evaluate, withPenalty);
                foreach (var quantity in quantities.Where(pending.Contains))
                {
                    var error = RelativeError(numeric[quantity], analytic[quantity], values0[quantity], terms[quantity], step, options.Threshold);
                    var seen = history[quantity];
                    seen.Add(numeric[quantity]);
                    // Smooth on [θ − 4h·v, θ + 4h·v]: the central differences at h, 2h and 4h agree pairwise within τ/2 (see remarks).
                    var smooth = seen.Count >= 3 && seen.TakeLast(3).All(a => seen.TakeLast(3).All(b =>
                        RelativeError(a, b, values0[quantity], terms[quantity], step, options.Threshold) <= options.Threshold / 2));
                    last[quantity] = new DirectionalDerivative(quantity, d, numeric[quantity], analytic[quantity], error, step, smooth);
                    if (smooth || (quantity != "loss" && level + 1 >= PenaltyStepLevels))
                    {
                        pending.Remove(quantity);
                    }
                }
            }
            if (withPenalty && c > 0)
            {
                // The objective's derivative is dC + c·dR: checked where both parts are.
                var (dc, dr) = (last["loss"], last["penalty"]);
                var (numeric, analytic) = (dc.Numeric + c * dr.Numeric, dc.Analytic + c * dr.Analytic);
                last["objective"] = new DirectionalDerivative("objective", d, numeric, analytic,
                    RelativeError(numeric, analytic, loss0 + c * penalty0, terms["loss"] + terms["penalty"], Math.Min(dc.Step, dr.Step), options.Threshold), Math.Min(dc.Step, dr.Step), dc.Smooth && dr.Smooth);
            }
            derivatives.AddRange(last.Values.OrderBy(q => q.Quantity == "loss" ? 0 : q.Quantity == "penalty" ? 1 : 2));
        }
        return new GradientCheckResult(derivatives, options.Threshold, gradient.Parameters.Count, parameterElements);
    }

    /// <summary>h₀ = ∛u, the first step (see the remarks on the class).</summary>
    public static readonly double InitialStep = Math.Cbrt(Float32Roundoff);

    /// <summary>How many steps h₀, h₀/2, ... h₀/512 are tried before the loss is declared not smooth along a direction.</summary>
    public const int StepLevels = 10;

    /// <summary>
    /// How many steps are tried for the penalty (h₀ ... h₀/32): where it jumps (ReLU networks) the error of a
    /// central difference does not shrink with h, so smaller steps only cost time.
    /// </summary>
    public const int PenaltyStepLevels = 6;

    /// <summary>Central differences at step h along v, and the analytic ⟨∇f, θ₊ − θ₋⟩ / 2h of the same rounded points.</summary>
    private static (Dictionary<string, double> Numeric, Dictionary<string, double> Analytic) CentralDifference(
        IReadOnlyList<string> parameters, Dictionary<string, Tensor> center, Dictionary<string, double[]> direction, double step,
        Dictionary<string, double[]> gradC, Dictionary<string, double[]> gradR,
        Func<IReadOnlyDictionary<string, Tensor>, IReadOnlyDictionary<string, Tensor>> evaluate, bool withPenalty)
    {
        var plus = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var minus = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        double analyticC = 0, analyticR = 0;
        foreach (var name in parameters)
        {
            var theta = center[name];
            var values = theta.ToDoubles();
            var v = direction[name];
            var up = new double[values.Length];
            var down = new double[values.Length];
            for (var i = 0; i < values.Length; i++)
            {
                up[i] = RoundTo(theta.ElementType, values[i] + step * v[i]);
                down[i] = RoundTo(theta.ElementType, values[i] - step * v[i]);
                var delta = up[i] - down[i];
                analyticC += gradC[name][i] * delta;
                analyticR += gradR[name][i] * delta;
            }
            plus[name] = FromDoubles(theta.ElementType, up, theta.Dims, name);
            minus[name] = FromDoubles(theta.ElementType, down, theta.Dims, name);
        }
        analyticC /= 2 * step;
        analyticR /= 2 * step;
        var atPlus = evaluate(plus);
        var atMinus = evaluate(minus);
        var numericC = (Scalar(atPlus, Loss) - Scalar(atMinus, Loss)) / (2 * step);
        var numericR = withPenalty ? (Scalar(atPlus, Penalty) - Scalar(atMinus, Penalty)) / (2 * step) : 0;
        var numeric = new Dictionary<string, double>(StringComparer.Ordinal)
        {
            ["loss"] = numericC,
            ["penalty"] = numericR,
        };
        var analytic = new Dictionary<string, double>(StringComparer.Ordinal)
        {
            ["loss"] = analyticC,
            ["penalty"] = analyticR,
        };
        return (numeric, analytic);
    }

    /// <summary>The relative error of the class remarks, with the float32 noise floor of a function of value <paramref name="f"/>.</summary>
    public static double RelativeError(double numeric, double analytic, double f, long terms, double step, double threshold)
    {
        if (!double.IsFinite(numeric) || !double.IsFinite(analytic))
        {
            return double.NaN;
        }
        var noise = RoundingGrowth(terms) * Float32Roundoff * Math.Abs(f) / step;
        var scale = Math.Max(Math.Max(Math.Abs(numeric), Math.Abs(analytic)), noise / threshold);
        return scale == 0 ? 0 : Math.Abs(numeric - analytic) / scale;
    }

    /// <summary>
    /// A random batch for the model: its inputs with the batch size for a symbolic, unknown or negative
    /// first dimension, and a target of the loss's kind for the output the loss is attached to (the
    /// output's size comes from running the inference model on the inputs).
    /// </summary>
    public static Dictionary<string, Tensor> RandomBatch(Model inference, GradientModel gradient, GradientCheckOptions options)
    {
        ArgumentNullException.ThrowIfNull(inference);
        ArgumentNullException.ThrowIfNull(gradient);
        ArgumentNullException.ThrowIfNull(options);
        var shapes = new Dictionary<string, long[]>(StringComparer.Ordinal);
        foreach (var input in inference.Graph.RequiredInputs)
        {
            if (input.Shape is not { } shape)
            {
                throw ImplicitRegException.BadInput($"input '{input.Name}' has no declared shape (unknown rank), so no random data can be made for it");
            }
            shapes[input.Name] = [.. shape.Select((dim, i) =>
                dim.Value is > 0 and var size ? size
                : i == 0 ? options.Batch
                : dim.Symbol is { } symbol && options.Dims.TryGetValue(symbol, out var given) ? given
                : options.DefaultDim)];
        }
        var feeds = RandomFeeds.Create(inference, new FeedOptions { Shapes = shapes, Seed = options.Seed, DefaultDim = options.DefaultDim });
        var batch = feeds.ToDictionary(f => f.Name, f => f, StringComparer.Ordinal);
        var target = gradient.Model.Graph.RequiredInputs.FirstOrDefault(v => v.Name == GradientModelBuilder.Target);
        if (target is null)
        {
            return batch;
        }
        var outputName = options.Gradient.Output ?? inference.Graph.Outputs[0].Name;
        Tensor output;
        using (var runner = ModelRunner.FromBytes(inference.ToBytes()))
        {
            output = runner.Run(feeds).FirstOrDefault(o => o.Name == outputName)?.Tensor
                ?? throw ImplicitRegException.BadInput($"output '{outputName}' did not come back from a run of the model");
        }
        var random = new Random(options.Seed + 1);
        var loss = options.Gradient.Loss;
        if (loss.TargetIsClassIndex())
        {
            var dims = output.Dims.Where((_, i) => i != 1).ToArray();
            var classes = output.Dims.Length > 1 ? output.Dims[1] : 1;
            var labels = new long[checked((int)dims.Aggregate(1L, (a, b) => a * b))];
            for (var i = 0; i < labels.Length; i++)
            {
                labels[i] = random.NextInt64(classes);
            }
            batch[GradientModelBuilder.Target] = Tensor.FromArray(labels, dims, GradientModelBuilder.Target);
        }
        else
        {
            var values = new double[checked((int)output.ElementCount)];
            for (var i = 0; i < values.Length; i++)
            {
                // bce-with-logits wants probabilities in [0, 1]; the other losses any real target.
                values[i] = loss == LossKind.BceWithLogits ? random.NextDouble() : random.NextDouble() * 2 - 1;
            }
            batch[GradientModelBuilder.Target] = FromDoubles(target.ElementType, values, output.Dims, GradientModelBuilder.Target);
        }
        return batch;
    }

    private static double Scalar(IReadOnlyDictionary<string, Tensor> outputs, string name) => outputs[name].ToDoubles()[0];

    private static double Rms(double[] values)
    {
        if (values.Length == 0)
        {
            return 0;
        }
        double sum = 0;
        foreach (var v in values)
        {
            sum += v * v;
        }
        return Math.Sqrt(sum / values.Length);
    }

    /// <summary>A standard normal draw (Box–Muller).</summary>
    private static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    /// <summary>The value as the parameter's element type stores it.</summary>
    private static double RoundTo(ElementType type, double value) => type switch
    {
        ElementType.Float => (float)value,
        ElementType.Float16 => (double)(Half)value,
        ElementType.Double => value,
        _ => throw ImplicitRegException.BadInput($"parameters of element type {type.Name()} cannot be checked (float, double or float16)"),
    };

    private static Tensor FromDoubles(ElementType type, double[] values, long[] dims, string name) => type switch
    {
        ElementType.Double => Tensor.FromArray(values, dims, name),
        ElementType.Float16 => Tensor.FromArray(Array.ConvertAll(values, v => (Half)v), dims, name),
        _ => Tensor.FromArray(Array.ConvertAll(values, v => (float)v), dims, name),
    };
}
