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

/// <summary>One directional derivative of a quantity along one direction, numeric against the toolkit's gradient.</summary>
/// <param name="Quantity">"loss" (C), "penalty" (R) or "objective" (C + c·R).</param>
/// <param name="Direction">Which direction: 0 … Directions − 1 the random ones, Directions the one along the toolkit's gradient (<see cref="AlongGradient"/>).</param>
/// <param name="Numeric">The loss: its change over the path, (C(θ + H·v) − C(θ − H·v)) / 2H. The penalty: the central difference at <paramref name="Step"/>.</param>
/// <param name="Analytic">The loss: the toolkit's gradient integrated along the path by the trapezoid rule, divided by 2H. The penalty: ⟨∇R, v⟩.</param>
/// <param name="RelativeError">As defined on <see cref="GradientCheck"/> (for the loss, the part of the disagreement that <see cref="Bound"/> does not explain); NaN when either side is not finite.</param>
/// <param name="Step">The loss: H, half the length of the path. The penalty: the step h of the central difference.</param>
/// <param name="Smooth">Whether the comparison means something, so that it decides the outcome: for the loss, the trapezoid rule
/// converged (<see cref="Bound"/> ≤ τ/2 of the derivative); for the penalty, the central differences at h, 2h and 4h agreed.</param>
public sealed record DirectionalDerivative(string Quantity, int Direction, double Numeric, double Analytic, double RelativeError, double Step, bool Smooth)
{
    /// <summary>The a-posteriori bound of the trapezoid rule's error, in the units of <see cref="Analytic"/> (0 for a central difference).</summary>
    public double Bound { get; init; }

    /// <summary>The toolkit's derivative at θ alone, ⟨∇f(θ), v⟩: what a central difference is compared with. Differs from
    /// <see cref="Analytic"/> by how much the gradient changes along the path (kinks of ReLU networks).</summary>
    public double AtCenter { get; init; }

    /// <summary>How many points of the path (the loss) or central differences (the penalty) were evaluated.</summary>
    public int Evaluations { get; init; }

    /// <summary>The direction is the toolkit's own gradient of the loss (scaled per tensor, see <see cref="GradientCheck"/>), not a random one.</summary>
    public bool AlongGradient { get; init; }
}

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
/// Checks the toolkit's gradients of a model against the model's own values computed with ONNX Runtime:
/// random inputs of the model's shapes and random targets make one batch; along random directions v in
/// parameter space, and along the toolkit's own gradient, the change of the loss C over the path θ + t·v,
/// t ∈ [−H, H], must equal the toolkit's gradient integrated along that path, and the central difference
/// (R(θ + h·v) − R(θ − h·v)) / 2h of the penalty R = (1/n) Σ_j ||∇C_j||² must match ⟨∇R(θ), v⟩ (∇R is the
/// double backward, or the finite-difference estimate); the objective C + c·R follows from the two. Like
/// JAX's check_grads, along directions rather than element by element, so the cost does not grow with the
/// number of parameters.
/// </summary>
/// <remarks>
/// <para>Precision. Models run in their own precision (float32 for almost all), so differences are of float32
/// numbers; everything after that is float64. The perturbed parameters are rounded to float32 before they
/// are fed, and the analytic side accounts for it (for the penalty ⟨∇R, θ₊ − θ₋⟩ / 2h of the rounded points;
/// for the loss the path runs from each rounded end point to the line, a piece whose integral is ⟨∇C, rounding⟩),
/// so the rounding of θ ± h·v is no error source.</para>
/// <para>Directions. v has independent normal entries scaled, per parameter tensor, by the tensor's RMS
/// value s (1 for an all-zero tensor), so every tensor moves by the same relative amount. One more direction
/// is the toolkit's loss gradient scaled per tensor by s² (a descent direction, with the norm a random one has
/// on average). In n dimensions a random direction is nearly orthogonal to the gradient, so ⟨∇C, v⟩ is about
/// ‖∇C‖·s while the curvature and the kinks along v are not smaller: along the gradient the derivative is
/// about √n times larger against the same disturbances, and a scaled or sign-flipped gradient shows at once
/// (⟨g_true, v⟩ / ⟨g, v⟩ = 1/a for g = a·g_true). It cannot see an error orthogonal to the computed gradient (a
/// tensor whose gradient is missing entirely), which the random directions do.</para>
/// <para>The loss: a path integral, not a central difference. For a ReLU or max-pool network C is continuous and
/// piecewise smooth (Lipschitz), so along any path C(θ + H·v) − C(θ − H·v) = ∫ ⟨∇C(θ + t·v), v⟩ dt exactly (the
/// fundamental theorem of calculus for absolutely continuous functions; ∇C exists except on the kinks, a null
/// set), however many kinks lie inside. A central difference instead compares the mean slope over the interval
/// with the slope at θ alone, which kinks make differ: on a deep ReLU CNN (models/deep_relu_cnn.onnx) and on the CNTK
/// ResNet-18 of docs/ci.md it failed correct gradients by a few 1e-2. The integral is the trapezoid rule of the slope
/// s(t) = ⟨∇C(θ + t·v), v⟩ on 4, 8, … 2^<see cref="PathLevels"/> intervals of the nested grid (each refinement adds
/// the midpoints), H = h₀ = ∛u (u = 2⁻²⁴, the unit roundoff of float32; h₀ ≈ 3.9e-3, which balances truncation
/// against rounding for a difference of float32 values). Its error is bounded a posteriori
/// (<see cref="QuadratureBound"/>): by the refinements' differences |T_L − T_{L−1}| and |T_{L−1} − T_{L−2}|/2 (the
/// error of T_L if each refinement at least halves the error, as it does for a slope of bounded variation: kinks
/// give error ∝ w, smooth stretches ∝ w², for intervals of width w). The loss counts as checked
/// along v once the bound is within τ/2 of the derivative, and its relative error is the disagreement the bound does
/// not explain: a correct gradient's is then float32 rounding alone, a wrong one's is its error less at most τ/2.
/// A direction along which the rule does not converge on 128 intervals is reported as not smooth.</para>
/// <para>The penalty: central differences. R is a function of the gradient, and the gradient of a ReLU network is
/// piecewise constant in its activation pattern, so R jumps where an activation changes: no integral identity
/// holds across a jump. So the steps h₀, h₀/2, ... h₀/32 are tried in turn, and R counts as checked along v at
/// the first step h whose central difference D(h) agrees with D(2h) and D(4h) (pairwise relative error ≤ τ/2): a
/// smooth function gives the same number at all three; a jump inside the interval makes D grow like 1/h. Three,
/// not two: the error is not monotone in h and two neighbours can agree at its turning point. τ/2 leaves the
/// other half of τ to rounding and to the gradient. A quantity checked along no direction is reported as
/// unchecked; the check fails when the loss is.</para>
/// <para>Error. relative error = |numeric − analytic| / max(|numeric|, |analytic|, N/τ) (for the loss, less the
/// quadrature bound), where N = κ·u·|f(θ)|/h bounds the rounding noise of the numeric side and τ is the
/// threshold: a derivative drowned in float32 noise counts as agreement at the noise level instead of as an
/// arbitrary ratio of two noisy numbers. f is a sum of n non-negative terms (the loss: per-element terms of the
/// output, n = the target's element count; the penalty: squared gradient entries, n = the parameter count), and
/// summing n terms pairwise errs by at most ⌈log₂ n⌉·u·Σ|xᵢ| (Higham, Accuracy and Stability of Numerical
/// Algorithms, §4.2), so κ = 2·(1 + log₂ n): the summation and the final rounding, for each of the two values.</para>
/// <para>Threshold. τ = 1e-2. Float32 rounding through a deep graph gives errors of 1e-5 to 1e-3; a wrong gradient
/// rule (a missing term, a transposed weight, a wrong sign or factor) gives errors of order 1, or of the share of
/// the derivative it gets wrong.</para>
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

        var at = RunAtBatchSizes(() => Evaluate(center), batch, "the gradient model");
        var gradC = gradient.Parameters.ToDictionary(p => p, p => at[GradPrefix + p].ToDoubles(), StringComparer.Ordinal);
        var gradR = gradient.Parameters.ToDictionary(p => p, p => PenaltyGradient(at, gradC, p, withPenalty), StringComparer.Ordinal);
        var loss0 = Scalar(at, Loss);
        var penalty0 = withPenalty ? Scalar(at, Penalty) : 0;

        var values0 = new Dictionary<string, double>(StringComparer.Ordinal) { ["loss"] = loss0, ["penalty"] = penalty0 };
        var parameterElements = center.Values.Sum(t => t.ElementCount);
        var terms = new Dictionary<string, long>(StringComparer.Ordinal)
        {
            ["loss"] = batch.TryGetValue(GradientModelBuilder.Target, out var target) ? target.ElementCount : 1,
            ["penalty"] = parameterElements,
        };
        var centerValues = center.ToDictionary(p => p.Key, p => p.Value.ToDoubles(), StringComparer.Ordinal);
        var derivatives = new List<DirectionalDerivative>();
        // The random directions first (drawn in this order, so a seed gives the same ones whatever follows), then
        // the one along the toolkit's own gradient.
        for (var d = 0; d <= options.Directions; d++)
        {
            var alongGradient = d == options.Directions;
            var direction = alongGradient
                ? GradientDirection(gradient.Parameters, centerValues, gradC)
                : gradient.Parameters.ToDictionary(p => p, p =>
                {
                    var values = centerValues[p];
                    var scale = Rms(values) is var rms && rms > 0 ? rms : 1;
                    return values.Select(_ => Normal(random) * scale).ToArray();
                }, StringComparer.Ordinal);
            var last = new Dictionary<string, DirectionalDerivative>(StringComparer.Ordinal)
            {
                ["loss"] = LossAlongPath(gradient.Parameters, center, centerValues, direction, gradC, Evaluate, loss0, terms["loss"], options.Threshold) with
                {
                    Direction = d,
                    AlongGradient = alongGradient,
                },
            };
            if (withPenalty)
            {
                last["penalty"] = PenaltyByCentralDifferences(gradient.Parameters, center, direction, gradR, Evaluate, penalty0, terms["penalty"], options.Threshold) with
                {
                    Direction = d,
                    AlongGradient = alongGradient,
                };
            }
            if (withPenalty && c > 0)
            {
                // The objective's derivative is dC + c·dR: checked where both parts are; the loss part keeps its quadrature bound.
                var (dc, dr) = (last["loss"], last["penalty"]);
                var (numeric, analytic) = (dc.Numeric + c * dr.Numeric, dc.Analytic + c * dr.Analytic);
                var step = Math.Min(dc.Step, dr.Step);
                last["objective"] = new DirectionalDerivative("objective", d, numeric, analytic,
                    RelativeError(numeric, analytic, loss0 + c * penalty0, terms["loss"] + terms["penalty"], step, options.Threshold, dc.Bound), step, dc.Smooth && dr.Smooth)
                {
                    Bound = dc.Bound,
                    AtCenter = dc.AtCenter + c * dr.AtCenter,
                    Evaluations = dc.Evaluations + dr.Evaluations,
                    AlongGradient = alongGradient,
                };
            }
            derivatives.AddRange(last.Values.OrderBy(q => q.Quantity == "loss" ? 0 : q.Quantity == "penalty" ? 1 : 2));
        }
        return new GradientCheckResult(derivatives, options.Threshold, gradient.Parameters.Count, parameterElements);
    }

    private static double[] PenaltyGradient(IReadOnlyDictionary<string, Tensor> at, Dictionary<string, double[]> gradC, string parameter, bool withPenalty)
    {
        var loss = gradC[parameter];
        if (!withPenalty)
        {
            return new double[loss.Length];
        }
        var objective = at[ObjectiveGradPrefix + parameter].ToDoubles();
        return [.. objective.Select((o, i) => o - loss[i])];
    }

    /// <summary>h₀ = ∛u, the first step of the penalty's central differences and H, half the loss path's length (see the remarks on the class).</summary>
    public static readonly double InitialStep = Math.Cbrt(Float32Roundoff);

    /// <summary>
    /// How many steps h₀, h₀/2, ... are tried before the loss was declared not smooth along a direction by the
    /// central differences the check used before the path integral; kept for callers that report it.
    /// </summary>
    public const int StepLevels = 10;

    /// <summary>
    /// How many steps are tried for the penalty (h₀ ... h₀/32): where it jumps (ReLU networks) the error of a
    /// central difference does not shrink with h, so smaller steps only cost time.
    /// </summary>
    public const int PenaltyStepLevels = 6;

    /// <summary>The most refinements of the loss path: 2^7 = 128 trapezoids, 128 evaluations besides the center.</summary>
    public const int PathLevels = 7;

    /// <summary>
    /// The direction of the toolkit's loss gradient, scaled per tensor by its mean square value (v_P = s²_P·∇_P C, s_P the
    /// RMS of tensor P), with the norm a random direction has on average (Σ_P n_P·s²_P). The scaling keeps the descent
    /// property (⟨∇C, v⟩ = Σ_P s²_P·‖∇_P C‖² ≥ 0) and moves each tensor in proportion to its size, as the random ones do.
    /// </summary>
    private static Dictionary<string, double[]> GradientDirection(IReadOnlyList<string> parameters, Dictionary<string, double[]> center, Dictionary<string, double[]> gradC)
    {
        var direction = new Dictionary<string, double[]>(StringComparer.Ordinal);
        double norm = 0, target = 0;
        foreach (var name in parameters)
        {
            var values = center[name];
            var rms = Rms(values) is var r && r > 0 ? r : 1;
            var v = gradC[name].Select(g => rms * rms * g).ToArray();
            direction[name] = v;
            norm += v.Sum(x => x * x);
            target += values.Length * rms * rms;
        }
        var scale = norm > 0 && double.IsFinite(norm) ? Math.Sqrt(target / norm) : 0;
        foreach (var v in direction.Values)
        {
            for (var i = 0; i < v.Length; i++)
            {
                v[i] *= scale;
            }
        }
        return direction;
    }

    /// <summary>
    /// The loss along the path θ + t·v, t ∈ [−H, H], H = h₀: its change C(θ + H·v) − C(θ − H·v) against the trapezoid
    /// rule of the toolkit's ⟨∇C(θ + t·v), v⟩ on 2, 4, … 2^<see cref="PathLevels"/> intervals (nested, so each refinement
    /// evaluates only the new midpoints), until the a-posteriori bound is within τ/2 (see the remarks on the class).
    /// </summary>
    private static DirectionalDerivative LossAlongPath(IReadOnlyList<string> parameters, Dictionary<string, Tensor> center,
        Dictionary<string, double[]> centerValues, Dictionary<string, double[]> direction, Dictionary<string, double[]> gradC,
        Func<IReadOnlyDictionary<string, Tensor>, IReadOnlyDictionary<string, Tensor>> evaluate, double loss0, long terms, double threshold)
    {
        var h = InitialStep;
        var finest = 1 << PathLevels;
        // slope[j] = ⟨∇C(θ_j), v⟩ at the grid point t_j = −H + j·2H/finest (θ_j rounded as the model stores it).
        var slope = new double?[finest + 1];
        var atCenter = Dot(gradC, direction, parameters);
        slope[finest / 2] = atCenter;
        double lossMinus = 0, lossPlus = 0, endCorrection = 0;
        var evaluations = 0;
        void EvaluateAt(int j)
        {
            var t = -h + (2 * h * j / finest);
            var point = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            var rounding = new Dictionary<string, double[]>(StringComparer.Ordinal);
            foreach (var name in parameters)
            {
                var theta = center[name];
                var values = centerValues[name];
                var v = direction[name];
                var rounded = new double[values.Length];
                var offset = new double[values.Length];
                for (var i = 0; i < values.Length; i++)
                {
                    var exact = values[i] + (t * v[i]);
                    rounded[i] = RoundTo(theta.ElementType, exact);
                    offset[i] = rounded[i] - exact;
                }
                point[name] = FromDoubles(theta.ElementType, rounded, theta.Dims, name);
                rounding[name] = offset;
            }
            var outputs = evaluate(point);
            evaluations++;
            var grad = parameters.ToDictionary(p => p, p => outputs[GradPrefix + p].ToDoubles(), StringComparer.Ordinal);
            slope[j] = Dot(grad, direction, parameters);
            if (j == 0 || j == finest)
            {
                // The path runs from the rounded end point to θ − H·v along the line and from θ + H·v to the rounded
                // end point: those two short pieces, ⟨∇C, rounding⟩, make the rounding of the end points no error source.
                var piece = Dot(grad, rounding, parameters);
                if (j == 0)
                {
                    lossMinus = Scalar(outputs, Loss);
                    endCorrection -= piece;
                }
                else
                {
                    lossPlus = Scalar(outputs, Loss);
                    endCorrection += piece;
                }
            }
        }
        EvaluateAt(0);
        EvaluateAt(finest);
        var numeric = (lossPlus - lossMinus) / (2 * h);
        var integrals = new List<double>();
        DirectionalDerivative? result = null;
        for (var level = 0; level <= PathLevels; level++)
        {
            var stride = finest >> level;
            for (var j = stride; j < finest; j += 2 * stride)
            {
                if (slope[j] is null)
                {
                    EvaluateAt(j);
                }
            }
            // Trapezoid rule on 2^level intervals of width w.
            var width = 2 * h / (1 << level);
            double sum = 0;
            for (var j = 0; j < finest; j += stride)
            {
                sum += (slope[j]!.Value + slope[j + stride]!.Value) / 2;
            }
            integrals.Add(sum * width);
            if (level < 2)
            {
                continue;
            }
            var analytic = (integrals[level] + endCorrection) / (2 * h);
            var bound = QuadratureBound(integrals[level], integrals[level - 1], integrals[level - 2]) / (2 * h);
            var error = RelativeError(numeric, analytic, loss0, terms, h, threshold, bound);
            var scale = Scale(numeric, analytic, loss0, terms, h, threshold);
            var converged = double.IsFinite(bound) && bound <= threshold / 2 * scale;
            result = new DirectionalDerivative("loss", 0, numeric, analytic, error, h, converged)
            {
                Bound = bound,
                AtCenter = atCenter,
                Evaluations = evaluations,
            };
            if (converged)
            {
                break;
            }
        }
        return result!;
    }

    /// <summary>
    /// The a-posteriori bound of the error of T_L, the trapezoid rule on 2^L intervals: the larger of |T_L − T_{L−1}| and
    /// |T_{L−1} − T_{L−2}|/2, each the error of T_L when every refinement at least halves the error (it does for a slope of
    /// bounded variation: kinks give an error ∝ the width, smooth stretches ∝ its square); the second guards against two
    /// levels that agree by chance. Not the worst-case w·V/2 (w the width, V the slope's variation): with thousands of kinks
    /// of random sign and place their errors mostly cancel, and that bound, a sum of their sizes, never converged on the
    /// paddle classifier of tests/RealModels whose path integral agreed to 2e-3.
    /// </summary>
    public static double QuadratureBound(double integral, double coarser, double coarsest) =>
        Math.Max(Math.Abs(integral - coarser), Math.Abs(coarser - coarsest) / 2);

    /// <summary>
    /// The penalty along v by central differences at h₀, h₀/2, … h₀/32, counted at the first step whose difference agrees
    /// with those at 2h and 4h (the penalty jumps where a ReLU changes, so no integral identity holds across such a point).
    /// </summary>
    private static DirectionalDerivative PenaltyByCentralDifferences(IReadOnlyList<string> parameters, Dictionary<string, Tensor> center,
        Dictionary<string, double[]> direction, Dictionary<string, double[]> gradR,
        Func<IReadOnlyDictionary<string, Tensor>, IReadOnlyDictionary<string, Tensor>> evaluate, double penalty0, long terms, double threshold)
    {
        var seen = new List<double>();
        DirectionalDerivative? result = null;
        var atCenter = Dot(gradR, direction, parameters);
        for (var level = 0; level < PenaltyStepLevels; level++)
        {
            var step = InitialStep / (1 << level);
            var (numeric, analytic) = CentralDifference(parameters, center, direction, step, gradR, evaluate);
            seen.Add(numeric);
            var error = RelativeError(numeric, analytic, penalty0, terms, step, threshold);
            // Smooth on [θ − 4h·v, θ + 4h·v]: the central differences at h, 2h and 4h agree pairwise within τ/2 (see remarks).
            var smooth = seen.Count >= 3 && seen.TakeLast(3).All(a => seen.TakeLast(3).All(b =>
                RelativeError(a, b, penalty0, terms, step, threshold) <= threshold / 2));
            result = new DirectionalDerivative("penalty", 0, numeric, analytic, error, step, smooth) { AtCenter = atCenter, Evaluations = 2 * seen.Count };
            if (smooth)
            {
                break;
            }
        }
        return result!;
    }

    /// <summary>The penalty's central difference at step h along v, and the analytic ⟨∇R, θ₊ − θ₋⟩ / 2h of the same rounded points.</summary>
    private static (double Numeric, double Analytic) CentralDifference(
        IReadOnlyList<string> parameters, Dictionary<string, Tensor> center, Dictionary<string, double[]> direction, double step,
        Dictionary<string, double[]> gradR, Func<IReadOnlyDictionary<string, Tensor>, IReadOnlyDictionary<string, Tensor>> evaluate)
    {
        var plus = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var minus = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        double analytic = 0;
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
                analytic += gradR[name][i] * (up[i] - down[i]);
            }
            plus[name] = FromDoubles(theta.ElementType, up, theta.Dims, name);
            minus[name] = FromDoubles(theta.ElementType, down, theta.Dims, name);
        }
        var numeric = (Scalar(evaluate(plus), Penalty) - Scalar(evaluate(minus), Penalty)) / (2 * step);
        return (numeric, analytic / (2 * step));
    }

    private static double Dot(Dictionary<string, double[]> a, Dictionary<string, double[]> b, IReadOnlyList<string> parameters)
    {
        double sum = 0;
        foreach (var name in parameters)
        {
            var (x, y) = (a[name], b[name]);
            for (var i = 0; i < x.Length; i++)
            {
                sum += x[i] * y[i];
            }
        }
        return sum;
    }

    /// <summary>The relative error of the class remarks, with the float32 noise floor of a function of value <paramref name="f"/>.</summary>
    public static double RelativeError(double numeric, double analytic, double f, long terms, double step, double threshold) =>
        RelativeError(numeric, analytic, f, terms, step, threshold, 0);

    /// <summary>
    /// The relative error of the class remarks when the analytic side is known only to within <paramref name="bound"/>
    /// (the trapezoid rule's a-posteriori bound): the part of |numeric − analytic| beyond the bound, over the scale.
    /// </summary>
    public static double RelativeError(double numeric, double analytic, double f, long terms, double step, double threshold, double bound)
    {
        if (!double.IsFinite(numeric) || !double.IsFinite(analytic) || !double.IsFinite(bound))
        {
            return double.NaN;
        }
        var scale = Scale(numeric, analytic, f, terms, step, threshold);
        return scale == 0 ? 0 : Math.Max(0, Math.Abs(numeric - analytic) - bound) / scale;
    }

    /// <summary>max(|numeric|, |analytic|, N/τ) with the noise floor N = κ·u·|f|/h (see the remarks on the class).</summary>
    private static double Scale(double numeric, double analytic, double f, long terms, double step, double threshold)
    {
        var noise = RoundingGrowth(terms) * Float32Roundoff * Math.Abs(f) / step;
        return Math.Max(Math.Max(Math.Abs(numeric), Math.Abs(analytic)), noise / threshold);
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
        var chosen = new List<string>();   // how each non-static size was chosen, for the message below
        foreach (var input in inference.Graph.RequiredInputs)
        {
            if (input.Shape is not { } shape)
            {
                throw ImplicitRegException.BadInput($"input '{input.Name}' has no declared shape (unknown rank), so no random data can be made for it");
            }
            shapes[input.Name] = [.. shape.Select((dim, i) =>
            {
                if (dim.Value is > 0 and var size)
                {
                    return size;
                }
                var name = dim.Symbol ?? "?";
                var (value, source) = i == 0 ? (options.Batch, "GradientCheckOptions.Batch")
                    : dim.Symbol is { } symbol && options.Dims.TryGetValue(symbol, out var given) ? (given, "GradientCheckOptions.Dims")
                    : (options.DefaultDim, "the default GradientCheckOptions.DefaultDim");
                var described = FormattableString.Invariant($"{(i == 0 ? "batch" : name)} = {value} ({source})");
                if (!chosen.Contains(described))
                {
                    chosen.Add(described);
                }
                return value;
            })];
        }
        var sizes = string.Join(", ", shapes.Select(s => $"'{s.Key}' [{string.Join(", ", s.Value)}]")) + (chosen.Count > 0 ? "; " + string.Join(", ", chosen) : "");
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
            output = RunAtSizes(() => runner.Run(feeds), "the model", sizes).FirstOrDefault(o => o.Name == outputName)?.Tensor
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

    /// <summary>
    /// Runs <paramref name="run"/>; when ONNX Runtime refuses the run (a model that cannot take the random batch's sizes:
    /// an audio model's 512-sample kernel on the default 2 samples), says which sizes were used and how to set them.
    /// </summary>
    private static T RunAtSizes<T>(Func<T> run, string what, string sizes)
    {
        try
        {
            return run();
        }
        catch (ImplicitRegException e) when (e.Kind == ErrorKind.Failed)
        {
            throw ImplicitRegException.BadInput(
                $"{what} did not run on the check's random inputs of sizes {sizes}; set sizes the model accepts with GradientCheckOptions.Dims (and GradientCheckOptions.Batch): {e.Message}", e);
        }
    }

    private static T RunAtBatchSizes<T>(Func<T> run, IReadOnlyDictionary<string, Tensor> batch, string what) =>
        RunAtSizes(run, what, string.Join(", ", batch.Select(b => $"'{b.Key}' [{string.Join(", ", b.Value.Dims)}]")));

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

    /// <summary>The value as the parameter's element type stores it (the rounding of <see cref="Tensor.FromDoubles"/>).</summary>
    private static double RoundTo(ElementType type, double value) => type is ElementType.Float or ElementType.Float16 or ElementType.Double
        ? Tensor.Scalar(type, value).ToDoubles()[0]
        : throw ImplicitRegException.BadInput($"parameters of element type {type.Name()} cannot be checked (float, double or float16)");

    private static Tensor FromDoubles(ElementType type, double[] values, long[] dims, string name) =>
        Tensor.FromDoubles(type.IsFloatingPoint() && type.HoldsNumbers() ? type : ElementType.Float, values, dims, name);
}
