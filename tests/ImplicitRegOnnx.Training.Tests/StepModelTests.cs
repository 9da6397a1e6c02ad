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

    private static StepModel Build(ReferenceCase c, OptimizerOptions optimizer, PenaltyMode mode = PenaltyMode.Exact)
    {
        Assert.True(Losses.TryParse(c.Info.Loss, out var loss));
        return StepModelBuilder.Build(Model.Load(c.ModelPath), new StepModelOptions
        {
            Gradient = new GradientModelOptions
            {
                Loss = loss,
                Output = c.Info.Output,
                Penalty = new PenaltyOptions { Mode = mode, Coefficient = c.Info.Coefficient, Microbatches = c.Info.Microbatches },
            },
            Optimizer = optimizer,
        });
    }

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
        var c = ReferenceCase.Load(ReferenceCase.ProjectCaseFolders().First(f => f.EndsWith("logsoftmax_nll", StringComparison.Ordinal)));
        Assert.True(OptimizerOptions.TryParse(kind, out var optimizerKind));
        var optimizer = new OptimizerOptions { Kind = optimizerKind, Nesterov = nesterov, WeightDecay = weightDecay, Momentum = 0.8 };
        var step = Build(c, optimizer);
        using var evaluator = new StepEvaluator(step);

        // Direct computation: gradient model for the objective gradient at the current weights, updates in double.
        var weights = step.Parameters.ToDictionary(p => p, p => step.InitialState[p].ToDoubles());
        var buffers = step.Parameters.ToDictionary(p => p, p => new double[weights[p].Length]);
        var second = step.Parameters.ToDictionary(p => p, p => new double[weights[p].Length]);
        const float lr = 0.05f;
        for (var t = 1; t <= 3; t++)
        {
            var model = Model.Load(c.ModelPath);
            foreach (var p in step.Parameters)
            {
                var v = model.Graph.Initializers.Single(i => i.Name == p);
                model.Graph.AttachInitializer(v, Tensor.FromArray(Array.ConvertAll(weights[p], x => (float)x), step.InitialState[p].Dims, p));
            }
            Assert.True(Losses.TryParse(c.Info.Loss, out var loss));
            var gradientModel = GradientModelBuilder.Build(model, new GradientModelOptions
            {
                Loss = loss,
                Output = c.Info.Output,
                Penalty = new PenaltyOptions { Coefficient = c.Info.Coefficient, Microbatches = c.Info.Microbatches },
            });
            var grads = GradientEvaluator.Evaluate(gradientModel, c.Data, c.Info.Microbatches);
            evaluator.Run(c.Data, lr);
            foreach (var p in step.Parameters)
            {
                var w = weights[p];
                var g = grads["objective_grad/" + p].ToDoubles();
                for (var i = 0; i < w.Length; i++)
                {
                    var d = g[i] + (weightDecay * w[i]);
                    if (optimizerKind == OptimizerKind.Momentum)
                    {
                        buffers[p][i] = (0.8 * buffers[p][i]) + d;
                        w[i] -= lr * (nesterov ? d + (0.8 * buffers[p][i]) : buffers[p][i]);
                    }
                    else
                    {
                        buffers[p][i] = (0.9 * buffers[p][i]) + (0.1 * d);
                        second[p][i] = (0.999 * second[p][i]) + (0.001 * d * d);
                        var mHat = buffers[p][i] / (1 - Math.Pow(0.9, t));
                        var vHat = second[p][i] / (1 - Math.Pow(0.999, t));
                        w[i] -= lr * mHat / (Math.Sqrt(vHat) + 1e-8);
                    }
                }
                var actual = evaluator.State[p].ToDoubles();
                var scale = w.Max(Math.Abs);
                var worst = w.Select((x, i) => Math.Abs(x - actual[i])).Max();
                Assert.True(worst <= 1e-4 * scale, $"{kind} step {t}, {p}: worst difference {worst:g3} (scale {scale:g3})");
            }
        }
        if (optimizerKind == OptimizerKind.Adam)
        {
            Assert.Equal([3L], evaluator.State["step"].ToArray<long>());
        }
    }
}
