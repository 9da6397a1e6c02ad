namespace ImplicitRegOnnx.Autodiff.Tests.GradCheck;

public static partial class GradCheckTable
{
    private static readonly string[] ReduceOps =
        ["ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceSumSquare", "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp"];

    public static IEnumerable<GradCheckCase> Reductions()
    {
        var x = InputSpec.Of(2, 3, 5);
        yield return GradCheckCase.Op("ReduceSum axes attribute (opset 11)", "ReduceSum", [x], Attribute.Ints("axes", [0, 2])) with { Opset = 11 };
        yield return ReduceWithConstantAxes("ReduceSum axes input keepdims 0", "ReduceSum", x, [1], keepDims: 0);
        yield return GradCheckCase.Op("ReduceSum all keepdims 0", "ReduceSum", [x], Attribute.Int("keepdims", 0));
        yield return GradCheckCase.Op("ReduceSum axes graph input", "ReduceSum", [x, Ints([1], -1)]);
        foreach (var op in ReduceOps)
        {
            var input = ReduceInput(op);
            // Axes as an attribute (opset 17), one axis and two, keepdims 1 and 0.
            yield return GradCheckCase.Op($"{op} axes attribute", op, [input], Attribute.Ints("axes", [1]));
            yield return GradCheckCase.Op($"{op} axes attribute keepdims 0", op, [input], Attribute.Ints("axes", [0, -1]), Attribute.Int("keepdims", 0));
            yield return GradCheckCase.Op($"{op} all axes keepdims 0", op, [input], Attribute.Int("keepdims", 0));
            // Axes as an input (opset 18): constant, then a graph input (keepdims 1 needs no constant axes).
            yield return ReduceWithConstantAxes($"{op} axes input keepdims 0 (opset 18)", op, input, [-2], keepDims: 0) with { Opset = 18 };
            yield return GradCheckCase.Op($"{op} axes graph input (opset 18)", op, [input, Ints([2], 2, 0)]) with { Opset = 18 };
            yield return GradCheckCase.Op($"{op} no axes (opset 18)", op, [input]) with { Opset = 18 };
        }
        yield return new GradCheckCase("ReduceMean noop with empty axes (opset 18)", "ReduceMean", [x],
            (b, v) => [b.Op("ReduceMean", [v[0], b.Ints()], Attribute.Int("noop_with_empty_axes", 1), Attribute.Int("keepdims", 0))]) { Opset = 18 };
        yield return new GradCheckCase("ReduceMax noop with empty axes (opset 18)", "ReduceMax", [x],
            (b, v) => [b.Op("ReduceMax", [v[0], b.Ints()], Attribute.Int("noop_with_empty_axes", 1))]) { Opset = 18 };
        // Random inputs have no ties (where ReduceMax/Min are not differentiable); the rule shares a tie's gradient evenly.
        yield return GradCheckCase.Op("ReduceMax axes attribute (opset 13)", "ReduceMax", [InputSpec.Of(3, 7)], Attribute.Ints("axes", [1])) with { Opset = 13 };
    }

    private static InputSpec ReduceInput(string op) => op switch
    {
        // Products and logs of sums: positive inputs, away from the zero where y/x breaks down.
        "ReduceProd" or "ReduceLogSum" => InputSpec.Positive(2, 3, 5),
        "ReduceL1" => InputSpec.Of(2, 3, 5) with { AwayFromZero = 0.1 },
        _ => InputSpec.Of(2, 3, 5),
    };

    private static GradCheckCase ReduceWithConstantAxes(string name, string op, InputSpec input, long[] axes, long keepDims) =>
        new(name, op, [input], (b, x) => [b.Op(op, [x[0], b.Ints(axes)], Attribute.Int("keepdims", keepDims))]);
}
