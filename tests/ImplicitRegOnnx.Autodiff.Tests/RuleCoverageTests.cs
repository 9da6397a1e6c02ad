using ImplicitRegOnnx.Autodiff.Tests.GradCheck;

namespace ImplicitRegOnnx.Autodiff.Tests;

/// <summary>Every operator the autodiff promises (issue 3, item 2) has a rule, and every differentiable rule a GradCheck row.</summary>
public class RuleCoverageTests
{
    private static readonly string[] Promised =
    [
        "Add", "Sub", "Mul", "Div", "Neg", "Abs", "Pow", "Sqrt", "Exp", "Log", "Reciprocal", "Erf", "Tanh", "Sigmoid", "Relu",
        "LeakyRelu", "Elu", "Selu", "Softplus", "Softsign", "HardSigmoid", "HardSwish", "Clip", "Gelu", "Min", "Max", "Sum", "Mean",
        "Where", "Cast", "Identity", "Dropout", "MatMul", "Gemm", "Conv", "ConvTranspose", "MaxPool", "AveragePool",
        "GlobalAveragePool", "GlobalMaxPool", "BatchNormalization", "LayerNormalization", "InstanceNormalization", "Softmax",
        "LogSoftmax", "ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceSumSquare", "ReduceL2",
        "ReduceLogSumExp", "Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze", "Expand", "Tile", "Concat", "Split", "Slice",
        "Pad", "Gather", "GatherElements", "GatherND", "ScatterElements", "ScatterND", "Resize", "Einsum", "CumSum",
        "SoftmaxCrossEntropyLoss", "NegativeLogLikelihoodLoss",
    ];

    private static readonly string[] PromisedNonDifferentiable = ["Shape", "Size", "Equal", "Less", "Greater", "ArgMax", "NonZero"];

    [Fact]
    public void EveryPromisedOperatorHasARule()
    {
        var missing = Promised.Concat(PromisedNonDifferentiable).Where(op => !GradientRules.Has(op)).ToList();
        Assert.True(missing.Count == 0, "no rule for " + string.Join(", ", missing));
        Assert.All(PromisedNonDifferentiable, op => Assert.True(GradientRules.IsNonDifferentiable(op), op));
    }

    [Fact]
    public void EveryDifferentiableRuleHasAGradCheckRow()
    {
        var checkedOps = GradCheckTable.All().Select(c => c.OpType).ToHashSet(StringComparer.Ordinal);
        var withoutRow = GradientRules.OpTypes.Where(op => !GradientRules.IsNonDifferentiable(op) && !checkedOps.Contains(op)).Order(StringComparer.Ordinal).ToList();
        Assert.True(withoutRow.Count == 0, "rules without a GradCheck row: " + string.Join(", ", withoutRow));
    }
}
