using ImplicitRegOnnx.Autodiff;
using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Runtime;
using ImplicitRegOnnx.TestSupport;

namespace ImplicitRegOnnx.Training.Tests;

/// <summary>
/// A gradient rule registered for a custom op carries through the whole training graph: the unsupported-op
/// report stops listing the op, and the step model with the exact penalty (a gradient of a gradient through
/// the custom op) computes what the same model with the standard op computes.
/// </summary>
public class CustomRuleTrainingTests
{
    private const string Domain = "test.training_rules";

    /// <summary>Rules are process-wide and cannot be replaced: register once.</summary>
    private static readonly Lazy<bool> Registered = new(() =>
    {
        // tanh' = 1 − y² (in terms of the output, as the built-in rule); emitted in ops that have rules.
        GradientRules.Register(Domain, "MyTanh", c => c.SetGrad(0, c.B.Mul(c.Dy, c.B.Sub(c.Scalar(1, c.Y()), c.B.Mul(c.Y(), c.Y())))));
        return true;
    });

    /// <summary>
    /// mlp_tanh with its Tanh replaced by Domain.MyTanh, defined for ONNX Runtime by a model-local function.
    /// Shape inference knows only ai.onnx ops, so the custom op's output keeps the type inferred before the
    /// swap, as an exporter's value_info would declare it.
    /// </summary>
    private static Model CustomTanhModel()
    {
        var model = Model.Load(TestPaths.Model("mlp_tanh.onnx"));
        Onnx.Inference.ShapeInference.InferModel(model);
        var tanh = model.Graph.Nodes.Single(n => n.OpType == "Tanh");
        tanh.Domain = Domain;
        tanh.OpType = "MyTanh";
        model.Graph.ValueInfos.Add(tanh.Output);
        model.SetOpsetVersion(Domain, 1);
        var body = new Graph("MyTanh");
        var x = body.AddInput("x", null);
        body.Outputs.Add(body.Append(new Node("", "Tanh", [x], ["y"])).Output);
        var function = new Function(Domain, "MyTanh", body);
        function.Opsets.Add(new OpsetId("", 17));
        model.Functions.Add(function);
        return model;
    }

    private static StepModelOptions Options => new()
    {
        Gradient = new GradientModelOptions
        {
            Loss = LossKind.CrossEntropy,
            Penalty = new PenaltyOptions { Mode = PenaltyMode.Exact, Coefficient = 0.05, Microbatches = 2 },
        },
        ConstantEvaluator = OrtConstantEvaluator.Instance,
    };

    [Fact]
    public void TheReportNoLongerListsTheOp()
    {
        var model = CustomTanhModel();
        // Without a rule the op would be reported (as com.example.FancyTanh is in ConvertPreparationTests).
        model.Graph.Nodes.Single(n => n.Domain == Domain).OpType = "UnregisteredTanh";
        Assert.Equal([$"{Domain}.UnregisteredTanh"], UnsupportedOperators.Find(model.Graph, model.Graph.Outputs));

        Assert.True(Registered.Value);
        model = CustomTanhModel();
        Assert.Empty(UnsupportedOperators.Find(model.Graph, model.Graph.Outputs));
    }

    [Fact]
    public void AStepWithTheExactPenaltyMatchesTheStandardOp()
    {
        Assert.True(Registered.Value);
        var custom = StepModelBuilder.Build(CustomTanhModel(), Options);
        var standard = StepModelBuilder.Build(Model.Load(TestPaths.Model("mlp_tanh.onnx")), Options);
        Assert.Contains(custom.Model.Graph.Nodes, n => n.Domain == Domain);

        var random = new Random(7);
        var batch = new Dictionary<string, Tensor>(StringComparer.Ordinal)
        {
            ["input"] = Tensor.FromArray(Enumerable.Range(0, 4 * 64).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray(), [4, 64]),
            ["target"] = Tensor.FromArray(new long[] { 1, 3, 5, 7 }, [4]),
        };
        using var customRun = new StepEvaluator(custom);
        using var standardRun = new StepEvaluator(standard);
        var expected = standardRun.Run(batch, 0.1f);
        var actual = customRun.Run(batch, 0.1f);

        Assert.True(expected["penalty"].ToDoubles()[0] > 0);
        foreach (var name in new[] { "loss", "penalty", "objective" }.Concat(standard.Parameters.Select(p => p + ".next")))
        {
            var e = expected[name].ToDoubles();
            var a = actual[name].ToDoubles();
            // The registered rule is the built-in one and ONNX Runtime inlines the function before it
            // optimizes, so both step models run the same float32 kernels in the same order: equal bits.
            Assert.True(e.SequenceEqual(a), $"{name}: {string.Join(", ", a.Take(4))} vs {string.Join(", ", e.Take(4))}");
        }
    }
}
