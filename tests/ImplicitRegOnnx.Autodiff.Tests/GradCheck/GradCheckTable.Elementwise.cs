namespace ImplicitRegOnnx.Autodiff.Tests.GradCheck;

public static partial class GradCheckTable
{
    private static readonly InputSpec A = InputSpec.Of(2, 3, 5);

    public static IEnumerable<GradCheckCase> Elementwise() =>
    [
        GradCheckCase.Op("Identity", "Identity", [A]),
        GradCheckCase.Op("Add broadcast", "Add", [InputSpec.Of(2, 3, 5), InputSpec.Of(3, 1)]),
        GradCheckCase.Op("Sub broadcast scalar", "Sub", [InputSpec.Of(4), InputSpec.Of()]),
        GradCheckCase.Op("Mul broadcast", "Mul", [InputSpec.Of(2, 1, 5), InputSpec.Of(3, 1)]),
        GradCheckCase.Op("Div broadcast", "Div", [InputSpec.Of(2, 3), InputSpec.Positive(3)]),
        GradCheckCase.Op("Neg", "Neg", [A]),
        GradCheckCase.Op("Abs", "Abs", [A with { AwayFromZero = 0.1 }]),
        GradCheckCase.Op("Pow", "Pow", [InputSpec.Positive(2, 3), InputSpec.Of(3)]),
        GradCheckCase.Op("Pow scalar exponent", "Pow", [InputSpec.Positive(2, 3), InputSpec.Positive()]),
        GradCheckCase.Op("Sqrt", "Sqrt", [InputSpec.Positive(3, 4)]),
        GradCheckCase.Op("Exp", "Exp", [A]),
        GradCheckCase.Op("Log", "Log", [InputSpec.Positive(3, 4)]),
        GradCheckCase.Op("Reciprocal", "Reciprocal", [InputSpec.Positive(3, 4)]),
        GradCheckCase.Op("Sum three", "Sum", [InputSpec.Of(2, 3), InputSpec.Of(3), InputSpec.Of(2, 1)]),
        GradCheckCase.Op("Mean two (float: no double kernel)", "Mean", [InputSpec.Float(2, 3), InputSpec.Float(1, 3)]),
        GradCheckCase.Op("Min", "Min", [InputSpec.Of(2, 3), InputSpec.Of(3)]),
        GradCheckCase.Op("Max", "Max", [InputSpec.Of(2, 3), InputSpec.Of(2, 3), InputSpec.Of(1)]),
        GradCheckCase.Op("Where", "Where", [Bools([2, 3], true, false, true, false, false, true), InputSpec.Of(2, 3), InputSpec.Of(3)]),
        new GradCheckCase("Cast float to double", "Cast", [InputSpec.Float(2, 3)], (b, x) => [b.Mul(b.Cast(x[0], ElementType.Double), b.Cast(x[0], ElementType.Double))]),
        new GradCheckCase("CastLike", "CastLike", [InputSpec.Float(2, 3), InputSpec.Of(1) with { Differentiable = false }],
            (b, x) => [b.Op("Exp", [b.Op("CastLike", [x[0], x[1]])])]),
    ];
}
