namespace ImplicitRegOnnx.Autodiff.Tests.GradCheck;

public static partial class GradCheckTable
{
    private static readonly InputSpec Activation = InputSpec.Of(2, 3, 5) with { Low = -2, High = 2 };

    /// <summary>Kinks at 0 (Relu and friends): keep the inputs off them.</summary>
    private static readonly InputSpec ActivationAwayFromZero = Activation with { AwayFromZero = 0.1 };

    /// <summary>For ops ONNX Runtime CPU has only float kernels for (Erf, Elu, Selu, Softplus, Softsign, HardSigmoid).</summary>
    private static readonly InputSpec FloatActivation = Activation with { Type = ElementType.Float };

    public static IEnumerable<GradCheckCase> Activations() =>
    [
        GradCheckCase.Op("Erf (float)", "Erf", [FloatActivation]),
        GradCheckCase.Op("Tanh", "Tanh", [Activation]),
        GradCheckCase.Op("Sigmoid", "Sigmoid", [Activation]),
        GradCheckCase.Op("Relu", "Relu", [ActivationAwayFromZero]),
        GradCheckCase.Op("LeakyRelu default alpha", "LeakyRelu", [ActivationAwayFromZero]),
        GradCheckCase.Op("LeakyRelu alpha 0.3", "LeakyRelu", [ActivationAwayFromZero], Attribute.Float("alpha", 0.3f)),
        GradCheckCase.Op("Elu default alpha (float)", "Elu", [FloatActivation with { AwayFromZero = 0.1 }]),
        GradCheckCase.Op("Elu alpha 0.7 (float)", "Elu", [FloatActivation with { AwayFromZero = 0.1 }], Attribute.Float("alpha", 0.7f)),
        GradCheckCase.Op("Selu defaults (float)", "Selu", [FloatActivation with { AwayFromZero = 0.1 }]),
        GradCheckCase.Op("Selu alpha gamma (float)", "Selu", [FloatActivation with { AwayFromZero = 0.1 }], Attribute.Float("alpha", 1.5f), Attribute.Float("gamma", 0.8f)),
        GradCheckCase.Op("Softplus (float)", "Softplus", [FloatActivation]),
        GradCheckCase.Op("Softsign (float)", "Softsign", [FloatActivation with { AwayFromZero = 0.1 }]),
        // Piecewise linear ops: inputs on both sides of each kink, at least 0.2 away from it.
        AroundKinks("HardSigmoid defaults (float)", "HardSigmoid", [-2.5, 2.5, 0]),
        AroundKinks("HardSigmoid alpha beta (float)", "HardSigmoid", [-1.5, 2.5, 0.5], Attribute.Float("alpha", 0.25f), Attribute.Float("beta", 0.375f)),
        AroundKinks("HardSwish (float)", "HardSwish", [-3, 3, 0, 1.5]),
        new GradCheckCase("Clip min max inputs", "Clip", [InputSpec.Of(3, 7) with { Low = -2, High = 2 }, ClipBound(), ClipBound()],
            (b, x) => [b.Op("Clip", [x[0], b.Neg(x[1]), x[2]])]),
        GradCheckCase.Op("Clip min only", "Clip", [InputSpec.Of(3, 7) with { Low = -2, High = 2 }, InputSpec.Of() with { Low = -0.5, High = 0.5 }]),
        new GradCheckCase("Clip max only", "Clip", [InputSpec.Of(3, 7) with { Low = -2, High = 2 }, InputSpec.Of() with { Low = -0.5, High = 0.5 }],
            (b, x) => [b.Op("Clip", [x[0], null, x[1]])]),
        GradCheckCase.Op("Clip no bounds", "Clip", [InputSpec.Of(3, 7)]),
        AroundKinks("Clip attributes (opset 10, float)", "Clip", [-0.7, 0.9], Attribute.Float("min", -0.7f), Attribute.Float("max", 0.9f)) with { Opset = 10 },
        AroundKinks("Clip min attribute only (opset 10, float)", "Clip", [-0.7, 1], Attribute.Float("min", -0.7f)) with { Opset = 10 },
        GradCheckCase.Op("Gelu exact (opset 20, float: its gradient uses Erf)", "Gelu", [FloatActivation]) with { Opset = 20 },
        GradCheckCase.Op("Gelu tanh (opset 20)", "Gelu", [Activation], Attribute.String("approximate", "tanh")) with { Opset = 20 },
        GradCheckCase.Op("Dropout without training mode", "Dropout", [Activation, InputSpec.Of() with { Low = 0.5, High = 0.5, Differentiable = false }]),
        new GradCheckCase("Dropout inference mode with mask", "Dropout", [Activation],
            (b, x) => [b.Op("Dropout", 2, [x[0], b.Constant(Tensor.Scalar(0.5)), b.Constant(Tensor.Scalar(false))])[0]]),
        // Training mode draws a new mask per run; ratio 0 keeps every element, so the three runs of the check agree.
        new GradCheckCase("Dropout training mode ratio 0 with mask", "Dropout", [Activation],
            (b, x) => [b.Op("Dropout", 2, [x[0], b.Constant(Tensor.Scalar(0.0)), b.Constant(Tensor.Scalar(true))])[0]]),
        new GradCheckCase("Dropout training mode ratio 0 without mask", "Dropout", [ActivationAwayFromZero],
            (b, x) => [b.Op("Dropout", [x[0], b.Constant(Tensor.Scalar(0.0)), b.Constant(Tensor.Scalar(true))])]),
        new GradCheckCase("Dropout training mode as input", "Dropout", [ActivationAwayFromZero, Bools([], true)],
            (b, x) => [b.Op("Dropout", [x[0], b.Constant(Tensor.Scalar(0.0)), x[1]])]),
        GradCheckCase.Op("Softmax last axis", "Softmax", [InputSpec.Of(2, 3, 5)]),
        GradCheckCase.Op("Softmax axis 1", "Softmax", [InputSpec.Of(2, 3, 5)], Attribute.Int("axis", 1)),
        GradCheckCase.Op("Softmax axis -3", "Softmax", [InputSpec.Of(3, 2, 5)], Attribute.Int("axis", -3)),
        GradCheckCase.Op("Softmax coerced 2-D (opset 11)", "Softmax", [InputSpec.Of(2, 3, 5)], Attribute.Int("axis", 1)) with { Opset = 11 },
        GradCheckCase.Op("Softmax default axis (opset 11)", "Softmax", [InputSpec.Of(3, 2, 5)]) with { Opset = 11 },
        GradCheckCase.Op("LogSoftmax last axis", "LogSoftmax", [InputSpec.Of(2, 3, 5)]),
        GradCheckCase.Op("LogSoftmax axis 0", "LogSoftmax", [InputSpec.Of(3, 7)], Attribute.Int("axis", 0)),
        GradCheckCase.Op("LogSoftmax axis -2", "LogSoftmax", [InputSpec.Of(2, 3, 5)], Attribute.Int("axis", -2)),
        GradCheckCase.Op("LogSoftmax coerced 2-D (opset 12)", "LogSoftmax", [InputSpec.Of(2, 3, 5)], Attribute.Int("axis", 1)) with { Opset = 12 },
    ];

    /// <summary>
    /// A float row whose op input is u + offset, |u| in [0.2, 1], the offsets cycling through
    /// <paramref name="offsets"/> (the op's kinks and points inside its pieces): every piece is
    /// exercised and no input lies within 0.2 of a kink.
    /// </summary>
    private static GradCheckCase AroundKinks(string name, string op, double[] offsets, params Attribute[] attributes)
    {
        long[] dims = [3, 8];
        var shifts = Enumerable.Range(0, 24).Select(i => (float)offsets[i % offsets.Length]).ToArray();
        return new GradCheckCase(name, op, [InputSpec.Float(dims) with { AwayFromZero = 0.2 }],
            (b, x) => [b.Op(op, [b.Add(x[0], b.Constant(Tensor.FromArray(shifts, dims)))], attributes)]);
    }

    private static InputSpec ClipBound() => InputSpec.Of() with { Low = 0.3, High = 1.5 };
}
