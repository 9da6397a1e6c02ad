namespace ImplicitRegOnnx.Autodiff.Tests.GradCheck;

public static partial class GradCheckTable
{
    /// <summary>Float rows: ONNX Runtime CPU has float kernels only for most of these.</summary>
    public static IEnumerable<GradCheckCase> MoreActivations() =>
    [
        GradCheckCase.Op("PRelu per-channel slope (float)", "PRelu", [InputSpec.Float(2, 3, 4, 5) with { Low = -2, High = 2, AwayFromZero = 0.1 }, InputSpec.Float(3, 1, 1)]),
        GradCheckCase.Op("PRelu scalar slope (float)", "PRelu", [InputSpec.Float(3, 5) with { Low = -2, High = 2, AwayFromZero = 0.1 }, InputSpec.Float(1)]),
        GradCheckCase.Op("Celu (float)", "Celu", [InputSpec.Float(3, 5) with { Low = -2, High = 2, AwayFromZero = 0.1 }], Attribute.Float("alpha", 0.7f)),
        GradCheckCase.Op("ThresholdedRelu (float)", "ThresholdedRelu", [InputSpec.Float(3, 5) with { Low = -2, High = 2, AwayFromZero = 0.1 }], Attribute.Float("alpha", 0.5f)),
        GradCheckCase.Op("Mish (float, opset 18)", "Mish", [InputSpec.Float(3, 5) with { Low = -2, High = 2 }]) with { Opset = 18 },
        GradCheckCase.Op("Sin (float)", "Sin", [InputSpec.Float(3, 5) with { Low = -2, High = 2 }]),
        GradCheckCase.Op("Cos (float)", "Cos", [InputSpec.Float(3, 5) with { Low = -2, High = 2 }]),
        GradCheckCase.Op("Tan (float)", "Tan", [InputSpec.Float(3, 5) with { Low = -1, High = 1 }]),
        GradCheckCase.Op("Sinh (float)", "Sinh", [InputSpec.Float(3, 5)]),
        GradCheckCase.Op("Cosh (float)", "Cosh", [InputSpec.Float(3, 5)]),
        GradCheckCase.Op("Asin (float)", "Asin", [InputSpec.Float(3, 5) with { Low = -0.8, High = 0.8 }]),
        GradCheckCase.Op("Acos (float)", "Acos", [InputSpec.Float(3, 5) with { Low = -0.8, High = 0.8 }]),
        GradCheckCase.Op("Atan (float)", "Atan", [InputSpec.Float(3, 5) with { Low = -2, High = 2 }]),
        GradCheckCase.Op("Asinh (float)", "Asinh", [InputSpec.Float(3, 5) with { Low = -2, High = 2 }]),
        GradCheckCase.Op("Acosh (float)", "Acosh", [InputSpec.Float(3, 5) with { Low = 1.5, High = 3 }]),
        GradCheckCase.Op("Atanh (float)", "Atanh", [InputSpec.Float(3, 5) with { Low = -0.8, High = 0.8 }]),
    ];
}
