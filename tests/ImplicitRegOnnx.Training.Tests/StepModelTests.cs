using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Runtime;
using ImplicitRegOnnx.TestSupport;

namespace ImplicitRegOnnx.Training.Tests;

/// <summary>
/// One SGD step of a rewritten model (learning rate 0.1, exact penalty) gives param − 0.1·objective_grad
/// of the reference, with loss, penalty and objective as the reference has them.
/// </summary>
public class StepModelTests
{
    public static TheoryData<string> Cases() => ReferenceCaseTests.Cases();

    private static StepModel Build(ReferenceCase c, OptimizerOptions optimizer, PenaltyMode mode = PenaltyMode.Exact) =>
        StepRuns.Build(c, optimizer, mode);

    [Theory]
    [MemberData(nameof(Cases))]
    public void OneSgdStepMovesEachParameterByTheObjectiveGradient(string folder)
    {
        var c = ReferenceCase.Load(folder);
        var step = Build(c, new OptimizerOptions { Kind = OptimizerKind.Sgd });
        using var evaluator = new StepEvaluator(step);
        var before = step.InitialState;

        var outputs = evaluator.Run(c.Data, 0.1f);

        var implied = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var p in step.Parameters)
        {
            var old = before[p].ToDoubles();
            var next = outputs[p + ".next"].ToDoubles();
            implied["objective_grad/" + p] = Tensor.FromArray(old.Select((v, i) => (v - next[i]) / 0.1).ToArray(), before[p].Dims);
        }
        foreach (var key in new[] { "loss", "penalty", "objective" })
        {
            implied[key] = outputs[key];
        }
        var failures = c.Compare(implied, implied.Keys).Where(e => !e.Passes).ToList();
        Assert.True(failures.Count == 0, string.Join("; ", failures));
        Assert.Contains(step.Model.MetadataProps, m => m.Key == "implicitreg.optimizer" && m.Value == "sgd");
    }

    [Fact]
    public void StepModelFollowsTheContract()
    {
        var c = ReferenceCase.Load(ReferenceCase.ProjectCaseFolders().First(f => f.EndsWith("logsoftmax_nll", StringComparison.Ordinal)));
        var step = Build(c, new OptimizerOptions { Kind = OptimizerKind.Adam });
        var graph = step.Model.Graph;
        var inputs = graph.RequiredInputs.Select(v => v.Name).ToList();
        var outputs = graph.Outputs.Select(v => v.Name).ToList();
        Assert.Equal([.. c.Info.Inputs, "target", "learning_rate", "step"], inputs.Take(c.Info.Inputs.Count + 3));
        foreach (var p in step.Parameters)
        {
            Assert.Contains(p, inputs);
            Assert.Contains(p + ".exp_avg", inputs);
            Assert.Contains(p + ".exp_avg_sq", inputs);
            Assert.Contains(p + ".next", outputs);
            Assert.Contains(p + ".exp_avg.next", outputs);
            Assert.DoesNotContain(graph.Initializers, v => v.Name == p);
        }
        Assert.Equal(["loss", "penalty", "objective"], outputs.Take(3));
        Assert.Contains("step.next", outputs);
        var coefficient = graph.Inputs.Single(v => v.Name == "penalty_coefficient");
        Assert.Equal(new TensorType(ElementType.Float, Shape.Scalar), coefficient.Type);
        Assert.Equal([(float)c.Info.Coefficient], coefficient.Initializer!.ToArray<float>());
        Assert.Contains(step.Model.MetadataProps, m => m.Key == "implicitreg.form" && m.Value == "fused");
        Assert.Equal(ElementType.Float, graph.Inputs.Single(v => v.Name == "learning_rate").ElementType);
        Assert.Equal(0, graph.Inputs.Single(v => v.Name == "learning_rate").Shape!.Rank);
    }

    /// <summary>Several momentum, Nesterov and Adam steps against the same updates computed directly from the gradient model's objective_grad.</summary>
    [Theory]
    [InlineData("momentum", false, 0.0)]
    [InlineData("momentum", true, 0.01)]
    [InlineData("adam", false, 0.0)]
    [InlineData("adam", false, 0.05)]
    public void SeveralStepsMatchADirectComputation(string kind, bool nesterov, double weightDecay)
    {
        var c = StepRuns.Case("logsoftmax_nll");
        var optimizer = StepRuns.Optimizer(kind, nesterov, weightDecay);
        var step = Build(c, optimizer);
        using var evaluator = new StepEvaluator(step);

        // Direct computation: gradient model for the objective gradient at the current weights, updates in double.
        var weights = step.Parameters.ToDictionary(p => p, p => step.InitialState[p].ToDoubles());
        var states = step.Parameters.ToDictionary(p => p,
            p => (IReadOnlyDictionary<string, double[]>)optimizer.StateNames.ToDictionary(n => n, _ => new double[weights[p].Length], StringComparer.Ordinal));
        const float lr = 0.05f;
        for (var t = 1; t <= 3; t++)
        {
            var model = Model.Load(c.ModelPath);
            foreach (var p in step.Parameters)
            {
                var v = model.Graph.Initializers.Single(i => i.Name == p);
                model.Graph.AttachInitializer(v, Tensor.FromArray(Array.ConvertAll(weights[p], x => (float)x), step.InitialState[p].Dims, p));
            }
            var gradientModel = GradientModelBuilder.Build(model, StepRuns.GradientOptions(c, PenaltyMode.Exact));
            var grads = GradientEvaluator.Evaluate(gradientModel, c.Data, c.Info.Microbatches);
            evaluator.Run(c.Data, lr);
            foreach (var p in step.Parameters)
            {
                var (next, nextStates) = DirectOptimizer.Step(optimizer, weights[p], states[p], grads["objective_grad/" + p].ToDoubles(), lr, t - 1);
                weights[p] = next;
                states[p] = nextStates;
                var actual = evaluator.State[p].ToDoubles();
                var scale = next.Max(Math.Abs);
                var worst = next.Select((x, i) => Math.Abs(x - actual[i])).Max();
                Assert.True(worst <= 1e-4 * scale, $"{kind} step {t}, {p}: worst difference {worst:g3} (scale {scale:g3})");
            }
        }
        if (optimizer.Kind == OptimizerKind.Adam)
        {
            Assert.Equal([3L], evaluator.State["step"].ToArray<long>());
        }
    }
}
