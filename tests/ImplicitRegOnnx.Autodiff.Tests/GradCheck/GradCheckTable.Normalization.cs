namespace ImplicitRegOnnx.Autodiff.Tests.GradCheck;

public static partial class GradCheckTable
{
    public static IEnumerable<GradCheckCase> Normalization() =>
    [
        // Inference mode: y = scale·(x − mean)/√(var + ε) + B; every input differentiable.
        GradCheckCase.Op("BatchNormalization inference (opset 15)", "BatchNormalization", BatchNormInputs([3, 2, 5])) with { Opset = 15 },
        GradCheckCase.Op("BatchNormalization inference rank 2", "BatchNormalization", BatchNormInputs([4, 3]), Attribute.Float("epsilon", 1e-3f)),
        GradCheckCase.Op("BatchNormalization inference rank 4 (opset 13)", "BatchNormalization", BatchNormInputs([2, 3, 2, 2])) with { Opset = 13 },
        // Training mode: the batch's own statistics; running statistics outputs are not differentiated.
        new GradCheckCase("BatchNormalization training mode (opset 15)", "BatchNormalization", BatchNormInputs([3, 2, 5], statisticsDifferentiable: false),
            (b, x) => [b.Op("BatchNormalization", 3, x, Attribute.Int("training_mode", 1))[0]]) { Opset = 15 },
        new GradCheckCase("BatchNormalization training mode rank 2 (opset 14)", "BatchNormalization", BatchNormInputs([5, 3], statisticsDifferentiable: false),
            (b, x) => [b.Op("BatchNormalization", 3, x, Attribute.Int("training_mode", 1), Attribute.Float("epsilon", 1e-2f))[0]]) { Opset = 14 },
        new GradCheckCase("BatchNormalization training outputs (opset 13)", "BatchNormalization", BatchNormInputs([2, 3, 2, 2], statisticsDifferentiable: false),
            (b, x) => [b.Op("BatchNormalization", 5, x)[0]]) { Opset = 13 },
        GradCheckCase.Op("LayerNormalization last axis", "LayerNormalization", [InputSpec.Of(2, 3, 5), InputSpec.Of(5), InputSpec.Of(5)]),
        GradCheckCase.Op("LayerNormalization axis 1 no bias", "LayerNormalization", [InputSpec.Of(2, 3, 5), InputSpec.Of(3, 5)], Attribute.Int("axis", 1)),
        GradCheckCase.Op("LayerNormalization axis -2 epsilon", "LayerNormalization", [InputSpec.Of(2, 3, 5), InputSpec.Of(3, 5), InputSpec.Of(3, 5)],
            Attribute.Int("axis", -2), Attribute.Float("epsilon", 1e-2f)),
        // Mean and InvStdDev are float (stash_type), too coarse for a float64 check: the whole row is float.
        GradCheckCase.MultiOutput("LayerNormalization mean and inverse std outputs (float)", "LayerNormalization", 3,
            [InputSpec.Float(3, 7), InputSpec.Float(7), InputSpec.Float(7)]),
        new GradCheckCase("LayerNormalization inverse std output only (float)", "LayerNormalization", [InputSpec.Float(2, 3, 5), InputSpec.Float(3, 5)],
            (b, x) => [b.Op("LayerNormalization", 3, x, Attribute.Int("axis", 1))[2]]),
        // ONNX Runtime CPU has InstanceNormalization for float only.
        GradCheckCase.Op("InstanceNormalization rank 3 (float)", "InstanceNormalization", [InputSpec.Float(2, 3, 5), InputSpec.Float(3), InputSpec.Float(3)]),
        GradCheckCase.Op("InstanceNormalization rank 4 (float)", "InstanceNormalization", [InputSpec.Float(2, 3, 2, 3), InputSpec.Float(3), InputSpec.Float(3)],
            Attribute.Float("epsilon", 1e-3f)),
    ];

    /// <summary>X, scale, B, mean, var (positive) for a BatchNormalization over X of the given dims (channels at axis 1).</summary>
    private static InputSpec[] BatchNormInputs(long[] dims, bool statisticsDifferentiable = true)
    {
        var channels = dims[1];
        return
        [
            InputSpec.Of(dims),
            InputSpec.Of(channels),
            InputSpec.Of(channels),
            InputSpec.Of(channels) with { Differentiable = statisticsDifferentiable },
            InputSpec.Positive(channels) with { Differentiable = statisticsDifferentiable },
        ];
    }
}
