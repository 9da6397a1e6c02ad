using ImplicitRegOnnx.Onnx.Building;

namespace ImplicitRegOnnx.Training;

/// <summary>The update rules a step model can apply.</summary>
public enum OptimizerKind
{
    /// <summary>θ ← θ − lr·(g + wd·θ).</summary>
    Sgd,

    /// <summary>SGD with (optionally Nesterov) momentum, as torch.optim.SGD.</summary>
    Momentum,

    /// <summary>Adam with bias correction, as torch.optim.Adam (weight decay added to the gradient).</summary>
    Adam,
}

/// <summary>Hyper-parameters of the optimizer update built into a step model (the learning rate is an input).</summary>
public sealed record OptimizerOptions
{
    /// <summary>Which update rule.</summary>
    public OptimizerKind Kind { get; init; } = OptimizerKind.Sgd;

    /// <summary>Momentum coefficient μ (Momentum only; other optimizers ignore it).</summary>
    public double Momentum { get; init; } = DefaultMomentum;

    /// <summary>The default <see cref="Momentum"/>, 0.9.</summary>
    public const double DefaultMomentum = 0.9;

    /// <summary>Use Nesterov momentum (Momentum only).</summary>
    public bool Nesterov { get; init; }

    /// <summary>L2 weight decay added to the gradient; 0: none.</summary>
    public double WeightDecay { get; init; }

    /// <summary>Adam's first-moment decay β1.</summary>
    public double Beta1 { get; init; } = 0.9;

    /// <summary>Adam's second-moment decay β2.</summary>
    public double Beta2 { get; init; } = 0.999;

    /// <summary>Adam's ε added to the root of the second moment.</summary>
    public double Epsilon { get; init; } = 1e-8;

    /// <summary>
    /// These options with μ as a tool or a configuration file gives it: null keeps <see cref="Momentum"/>; a value
    /// given for another optimizer than <see cref="OptimizerKind.Momentum"/>, which would have no effect, is refused.
    /// </summary>
    /// <param name="momentum">μ, or null when none was given.</param>
    /// <exception cref="ImplicitRegException">Of kind <see cref="ErrorKind.BadInput"/> naming <c>OptimizerOptions.Momentum</c> and <c>OptimizerOptions.Kind</c>.</exception>
    public OptimizerOptions WithMomentum(double? momentum) => momentum switch
    {
        null => this,
        { } mu when Kind == OptimizerKind.Momentum => this with { Momentum = mu },
        { } mu => throw ImplicitRegException.BadParameter("OptimizerOptions.Momentum",
            FormattableString.Invariant($"{mu}: applies to the momentum optimizer only, but OptimizerOptions.Kind is {Kind}")),
    };

    internal static readonly IReadOnlyList<string> Names = ["sgd", "momentum", "adam"];

    internal static bool TryParse(string name, out OptimizerKind kind)
    {
        (var ok, kind) = name switch
        {
            "sgd" => (true, OptimizerKind.Sgd),
            "momentum" => (true, OptimizerKind.Momentum),
            "adam" => (true, OptimizerKind.Adam),
            _ => (false, OptimizerKind.Sgd),
        };
        return ok;
    }

    /// <summary>Names of the per-parameter state tensors: inputs <c>P.state</c>, outputs <c>P.state.next</c>.</summary>
    internal IReadOnlyList<string> StateNames => Kind switch
    {
        OptimizerKind.Momentum => ["momentum"],
        OptimizerKind.Adam => ["exp_avg", "exp_avg_sq"],
        _ => [],
    };

    /// <summary>Adam counts steps in an int64 input "step" (steps taken so far) with output "step.next".</summary>
    internal bool CountsSteps => Kind == OptimizerKind.Adam;

    /// <summary>Checks every hyper-parameter; step-model builders call it before building.</summary>
    /// <exception cref="ImplicitRegException">Of kind <see cref="ErrorKind.BadInput"/>, naming the first bad property (<c>OptimizerOptions.Momentum</c>).</exception>
    public void Validate()
    {
        static void Check(bool ok, string parameter, FormattableString problem)
        {
            if (!ok)
            {
                throw ImplicitRegException.BadParameter(parameter, FormattableString.Invariant(problem));
            }
        }
        Check(double.IsFinite(WeightDecay) && WeightDecay >= 0, "OptimizerOptions.WeightDecay", $"must be a non-negative number, got {WeightDecay}");
        Check(double.IsFinite(Momentum) && Momentum >= 0 && Momentum < 1, "OptimizerOptions.Momentum", $"must be in [0, 1), got {Momentum}");
        Check(!Nesterov || Kind == OptimizerKind.Momentum, "OptimizerOptions.Nesterov", $"applies to the momentum optimizer only, but OptimizerOptions.Kind is {Kind}");
        Check(double.IsFinite(Beta1) && Beta1 >= 0 && Beta1 < 1, "OptimizerOptions.Beta1", $"must be in [0, 1), got {Beta1}");
        Check(double.IsFinite(Beta2) && Beta2 >= 0 && Beta2 < 1, "OptimizerOptions.Beta2", $"must be in [0, 1), got {Beta2}");
        Check(double.IsFinite(Epsilon) && Epsilon > 0, "OptimizerOptions.Epsilon", $"must be a positive number, got {Epsilon}");
    }

    /// <summary>
    /// The update of one parameter, in graph ops. <paramref name="states"/> holds the state inputs by
    /// name; the result holds the next parameter and the next states by name.
    /// </summary>
    internal (Value Next, Dictionary<string, Value> States) Update(GraphBuilder b, Value parameter, Value gradient,
        Value learningRate, IReadOnlyDictionary<string, Value> states, Value? stepNumber)
    {
        Value Scalar(double v) => b.ScalarLike(v, parameter);
        var lr = parameter.ElementType == learningRate.ElementType ? learningRate : b.Cast(learningRate, parameter.ElementType);
        // torch.optim.SGD and torch.optim.Adam (L2 form): the weight decay joins the gradient.
        var g = WeightDecay == 0 ? gradient : b.Add(gradient, b.Mul(Scalar(WeightDecay), parameter));
        var next = new Dictionary<string, Value>(StringComparer.Ordinal);
        switch (Kind)
        {
            case OptimizerKind.Sgd:
                return (b.Sub(parameter, b.Mul(lr, g)), next);
            case OptimizerKind.Momentum:
                {
                    // torch.optim.SGD, dampening 0: buf ← μ·buf + g (a zero buffer makes the first step buf = g);
                    // Nesterov: d = g + μ·buf, else d = buf; θ ← θ − lr·d.
                    var buffer = b.Add(b.Mul(Scalar(Momentum), states["momentum"]), g);
                    next["momentum"] = buffer;
                    var direction = Nesterov ? b.Add(g, b.Mul(Scalar(Momentum), buffer)) : buffer;
                    return (b.Sub(parameter, b.Mul(lr, direction)), next);
                }
            default:
                {
                    // torch.optim.Adam: m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²; t = step + 1;
                    // θ ← θ − lr/(1−β1^t) · m / (√v/√(1−β2^t) + ε).
                    var m = b.Add(b.Mul(Scalar(Beta1), states["exp_avg"]), b.Mul(Scalar(1 - Beta1), g));
                    var v = b.Add(b.Mul(Scalar(Beta2), states["exp_avg_sq"]), b.Mul(Scalar(1 - Beta2), b.Mul(g, g)));
                    next["exp_avg"] = m;
                    next["exp_avg_sq"] = v;
                    var t = b.Cast(b.Add(stepNumber!, b.Scalar(1L)), parameter.ElementType);
                    var one = Scalar(1);
                    var bias1 = b.Sub(one, b.Op("Pow", [Scalar(Beta1), t]));
                    var bias2 = b.Sub(one, b.Op("Pow", [Scalar(Beta2), t]));
                    var denominator = b.Add(b.Div(b.Op("Sqrt", [v]), b.Op("Sqrt", [bias2])), Scalar(Epsilon));
                    var stepSize = b.Div(lr, bias1);
                    return (b.Sub(parameter, b.Mul(stepSize, b.Div(m, denominator))), next);
                }
        }
    }
}
