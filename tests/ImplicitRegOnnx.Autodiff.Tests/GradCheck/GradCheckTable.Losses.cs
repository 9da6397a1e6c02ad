namespace ImplicitRegOnnx.Autodiff.Tests.GradCheck;

public static partial class GradCheckTable
{
    /// <summary>Labels for [4, 3] scores, and for [2, 3, 4] scores (labels [2, 4]).</summary>
    private static readonly InputSpec Labels4 = Ints([4], 2, 0, 1, 2);
    private static readonly InputSpec Labels2x4 = Ints([2, 4], 0, 2, 1, 1, 2, 0, 0, 1);

    public static IEnumerable<GradCheckCase> Losses()
    {
        foreach (var op in new[] { "NegativeLogLikelihoodLoss", "SoftmaxCrossEntropyLoss" })
        {
            // NLL takes log-probabilities; any real input checks its (linear) gradient just as well.
            yield return GradCheckCase.Op($"{op} mean", op, [InputSpec.Of(4, 3), Labels4]);
            yield return GradCheckCase.Op($"{op} sum", op, [InputSpec.Of(4, 3), Labels4], Attribute.String("reduction", "sum"));
            yield return GradCheckCase.Op($"{op} none", op, [InputSpec.Of(4, 3), Labels4], Attribute.String("reduction", "none"));
            yield return GradCheckCase.Op($"{op} weights mean", op, [InputSpec.Of(4, 3), Labels4, InputSpec.Positive(3)]);
            yield return GradCheckCase.Op($"{op} weights sum", op, [InputSpec.Of(4, 3), Labels4, InputSpec.Positive(3)], Attribute.String("reduction", "sum"));
            yield return GradCheckCase.Op($"{op} weights none", op, [InputSpec.Of(4, 3), Labels4, InputSpec.Positive(3)], Attribute.String("reduction", "none"));
            yield return GradCheckCase.Op($"{op} ignore_index in range", op, [InputSpec.Of(4, 3), Labels4, InputSpec.Positive(3)],
                Attribute.Int("ignore_index", 1));
            yield return GradCheckCase.Op($"{op} ignore_index -1", op, [InputSpec.Of(4, 3), Ints([4], 2, -1, 1, 0)], Attribute.Int("ignore_index", -1));
            yield return GradCheckCase.Op($"{op} spatial mean", op, [InputSpec.Of(2, 3, 4), Labels2x4]);
            yield return GradCheckCase.Op($"{op} spatial weights none", op, [InputSpec.Of(2, 3, 4), Labels2x4, InputSpec.Positive(3)],
                Attribute.String("reduction", "none"));
            yield return GradCheckCase.Op($"{op} spatial ignore_index sum", op, [InputSpec.Of(2, 3, 4), Labels2x4], Attribute.Int("ignore_index", 2),
                Attribute.String("reduction", "sum"));
        }
        yield return GradCheckCase.MultiOutput("SoftmaxCrossEntropyLoss with log_prob output", "SoftmaxCrossEntropyLoss", 2,
            [InputSpec.Of(4, 3), Labels4]);
        yield return GradCheckCase.MultiOutput("SoftmaxCrossEntropyLoss spatial with log_prob output and weights", "SoftmaxCrossEntropyLoss", 2,
            [InputSpec.Of(2, 3, 4), Labels2x4, InputSpec.Positive(3)]);
        yield return new GradCheckCase("SoftmaxCrossEntropyLoss log_prob output only", "SoftmaxCrossEntropyLoss", [InputSpec.Of(2, 3, 4), Labels2x4],
            (b, x) => [b.Op("SoftmaxCrossEntropyLoss", 2, x)[1]]);
    }
}
