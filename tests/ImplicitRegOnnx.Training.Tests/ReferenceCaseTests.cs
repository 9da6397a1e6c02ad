using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Runtime;
using ImplicitRegOnnx.TestSupport;

namespace ImplicitRegOnnx.Training.Tests;

/// <summary>
/// Reference cases computed by PyTorch in float64 with double backprop: the project's own
/// (tests/ReferenceCases) and, when ../shared is present, ../shared/oracle. Each is checked by its own
/// error formula and tolerances: exact mode for every key, finite-difference mode within 20× the
/// tolerance for penalty and objective_grad, no penalty for loss and grad.
/// </summary>
public class ReferenceCaseTests
{
    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var folder in ReferenceCase.ProjectCaseFolders().Concat(ReferenceCase.OracleCaseFolders()))
        {
            data.Add(folder);
        }
        return data;
    }

    private static (ReferenceCase Case, IReadOnlyDictionary<string, Tensor> Result) Run(string folder, PenaltyMode mode)
    {
        var c = ReferenceCase.Load(folder);
        Assert.True(Losses.TryParse(c.Info.Loss, out var loss), $"unknown loss {c.Info.Loss}");
        var options = new GradientModelOptions
        {
            Loss = loss,
            Output = c.Info.Output,
            Penalty = new PenaltyOptions { Mode = mode, Coefficient = c.Info.Coefficient, Microbatches = c.Info.Microbatches },
        };
        var gradient = GradientModelBuilder.Build(Model.Load(c.ModelPath), options);
        Assert.Equal(c.Info.Trainable.Order(StringComparer.Ordinal), gradient.Parameters.Order(StringComparer.Ordinal));
        return (c, GradientEvaluator.Evaluate(gradient, c.Data, c.Info.Microbatches));
    }

    private static void AssertWithin(ReferenceCase c, IReadOnlyDictionary<string, Tensor> result, Func<string, bool> keys, double factor)
    {
        var errors = c.Compare(result, c.Expected.Keys.Where(keys)).ToList();
        var failures = errors.Where(e => !(e.Error <= e.Tolerance * factor)).ToList();
        Assert.True(failures.Count == 0, $"{c.Name}: " + string.Join("; ", failures.Select(f => f.ToString())));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ExactPenaltyMatchesEveryKey(string folder)
    {
        var (c, result) = Run(folder, PenaltyMode.Exact);
        AssertWithin(c, result, _ => true, 1);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void FiniteDifferencePenaltyIsWithinTwentyTimesTheTolerance(string folder)
    {
        var (c, result) = Run(folder, PenaltyMode.FiniteDifference);
        AssertWithin(c, result, k => k == "penalty" || k.StartsWith("objective_grad/", StringComparison.Ordinal), 20);
        AssertWithin(c, result, k => k == "loss" || k.StartsWith("grad/", StringComparison.Ordinal), 1);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void WithoutPenaltyLossAndGradientMatch(string folder)
    {
        var (c, result) = Run(folder, PenaltyMode.None);
        AssertWithin(c, result, k => k == "loss" || k.StartsWith("grad/", StringComparison.Ordinal), 1);
        Assert.Equal(0, result["penalty"].ToDoubles()[0]);
    }
}
