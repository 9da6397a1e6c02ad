using ImplicitRegOnnx.Onnx;
using Microsoft.ML.OnnxRuntime;

namespace ImplicitRegOnnx.Training.Tests;

/// <summary>
/// The gradients-out form (<see cref="StepModelForm.GradientsOut"/>): a step model that outputs ∇(C + c·R) per
/// parameter and an apply-update model that takes it in. Both halves run the fused step's ops on the same
/// values in the same order, so on the CPU their results are the fused step's bit for bit.
/// </summary>
public class GradientsOutFormTests
{
    private const float LearningRate = 0.05f;

    [Theory]
    [InlineData("logsoftmax_nll", "sgd", false, 0.0, PenaltyMode.Exact, false)]
    [InlineData("logsoftmax_nll", "momentum", true, 0.01, PenaltyMode.FiniteDifference, false)]
    [InlineData("logsoftmax_nll", "adam", false, 0.05, PenaltyMode.Exact, false)]
    [InlineData("logsoftmax_nll", "adam", false, 0.05, PenaltyMode.Exact, true)]
    [InlineData("batchnorm_training_microbatches", "adam", false, 0.0, PenaltyMode.Exact, false)]
    [InlineData("batchnorm_training_microbatches", "momentum", false, 0.01, PenaltyMode.None, true)]
    public void GradientsOutThenApplyUpdateIsTheFusedStepBitForBit(string name, string kind, bool nesterov, double weightDecay, PenaltyMode mode, bool ortOptimizations)
    {
        var c = StepRuns.Case(name);
        var optimizer = StepRuns.Optimizer(kind, nesterov, weightDecay);
        var fused = StepRuns.Build(c, optimizer, mode);
        var split = StepRuns.Build(c, optimizer, mode, form: StepModelForm.GradientsOut);
        Assert.Equal(StepModelForm.GradientsOut, split.Form);
        Assert.NotNull(split.ApplyUpdate);
        Assert.Equal(fused.InitialState.Keys, split.InitialState.Keys);
        var level = ortOptimizations ? GraphOptimizationLevel.ORT_ENABLE_ALL : GraphOptimizationLevel.ORT_DISABLE_ALL;
        using var fusedSession = new StepRuns.Session(fused.Model, level);
        using var gradientSession = new StepRuns.Session(split.Model, level);
        using var applySession = new StepRuns.Session(split.ApplyUpdate, level);

        var fusedState = StepRuns.RandomState(fused, seed: 11);
        var splitState = new Dictionary<string, Tensor>(fusedState, StringComparer.Ordinal);
        for (var t = 0; t < 3; t++)
        {
            // The second step feeds c, the others leave the built-in one.
            var scalars = StepRuns.Scalars(LearningRate, t == 1 ? 0.07f : null);
            var fusedOut = fusedSession.Run(StepRuns.Feeds(fused.Model, c.Data, fusedState, scalars));
            var gradients = gradientSession.Run(StepRuns.Feeds(split.Model, c.Data, splitState, scalars));
            var applied = applySession.Run(StepRuns.Feeds(split.ApplyUpdate, splitState, gradients, scalars));
            foreach (var scalar in new[] { "loss", "penalty", "objective" })
            {
                Assert.True(StepRuns.BitEqual(fusedOut[scalar], gradients[scalar]), $"step {t}: {scalar} {fusedOut[scalar].ToDoubles()[0]} vs {gradients[scalar].ToDoubles()[0]}");
            }
            foreach (var key in fusedState.Keys)
            {
                var expected = fusedOut[key + ".next"];
                var actual = applied[key + ".next"];
                var worst = expected.ToDoubles().Zip(actual.ToDoubles(), (a, b) => Math.Abs(a - b)).Max();
                Assert.True(StepRuns.BitEqual(expected, actual), $"step {t}: {key}.next differs from the fused step's by up to {worst:g3}");
                fusedState[key] = expected.WithName(key);
                splitState[key] = actual.WithName(key);
            }
        }
    }

    [Fact]
    public void BothModelsFollowTheContract()
    {
        var c = StepRuns.Case("logsoftmax_nll");
        var split = StepRuns.Build(c, StepRuns.Optimizer("adam"), form: StepModelForm.GradientsOut);
        var graph = split.Model.Graph;
        Assert.Equal([.. c.Info.Inputs, "target", .. split.Parameters], graph.RequiredInputs.Select(v => v.Name));
        Assert.Contains(graph.Inputs, v => v.Name == StepModelBuilder.PenaltyCoefficient && v.IsInitializer);
        Assert.Equal(["loss", "penalty", "objective", .. split.Parameters.Select(p => p + ".grad")], graph.Outputs.Select(v => v.Name));
        foreach (var p in split.Parameters)
        {
            Assert.Equal(graph.Inputs.Single(v => v.Name == p).Type, graph.Outputs.Single(v => v.Name == p + ".grad").Type);
        }
        Assert.Contains(split.Model.MetadataProps, m => m.Key == StepModelBuilder.FormKey && m.Value == StepModelBuilder.GradientsOutForm);
        Assert.True(ModelExport.IsStepModel(split.Model));

        var apply = split.ApplyUpdate!.Graph;
        var applyInputs = apply.Inputs.Select(v => v.Name).ToList();
        Assert.Equal(applyInputs, apply.RequiredInputs.Select(v => v.Name));
        Assert.Equal(["learning_rate", "step"], applyInputs.Take(2));
        Assert.Equal(split.InitialState.Keys.Order(), applyInputs.Where(n => !n.EndsWith(".grad", StringComparison.Ordinal) && n != "learning_rate").Order());
        Assert.Equal(split.Parameters.Select(p => p + ".grad"), applyInputs.Where(n => n.EndsWith(".grad", StringComparison.Ordinal)));
        Assert.Equal(split.InitialState.Keys.Select(k => k + ".next").Order(), apply.Outputs.Select(v => v.Name).Order());
        Assert.Contains(split.ApplyUpdate.MetadataProps, m => m.Key == StepModelBuilder.FormKey && m.Value == StepModelBuilder.ApplyUpdateForm);
        Assert.Contains(split.ApplyUpdate.MetadataProps, m => m.Key == "implicitreg.optimizer" && m.Value == "adam");
        Assert.False(ModelExport.IsStepModel(split.ApplyUpdate));

        var fused = StepRuns.Build(c, StepRuns.Optimizer("adam"));
        Assert.Equal(StepModelForm.Fused, fused.Form);
        Assert.Null(fused.ApplyUpdate);
        Assert.Contains(fused.Model.MetadataProps, m => m.Key == StepModelBuilder.FormKey && m.Value == StepModelBuilder.FusedForm);
    }

    /// <summary>Export from either form gives the inference model with the weights, and no training input (penalty_coefficient included).</summary>
    [Theory]
    [InlineData(StepModelForm.Fused)]
    [InlineData(StepModelForm.GradientsOut)]
    public void ExportDropsTheTrainingInputs(StepModelForm form)
    {
        var c = StepRuns.Case("logsoftmax_nll");
        var step = StepRuns.Build(c, StepRuns.Optimizer("momentum"), form: form);
        var exported = ModelExport.FromStepModel(step.Model, step.InitialState, "test");
        Assert.Equal(c.Info.Inputs, exported.Graph.Inputs.Select(v => v.Name));
        Assert.DoesNotContain(exported.Graph.Initializers, v => v.Name == StepModelBuilder.PenaltyCoefficient);
        var original = Model.Load(c.ModelPath);
        Assert.Equal(original.Graph.Outputs.Select(v => v.Name), exported.Graph.Outputs.Select(v => v.Name));
        using var a = new StepRuns.Session(original);
        using var b = new StepRuns.Session(exported);
        var inputs = c.Info.Inputs.ToDictionary(n => n, n => c.Data[n], StringComparer.Ordinal);
        var expected = a.Run(inputs);
        var actual = b.Run(inputs);
        foreach (var (name, tensor) in expected)
        {
            var worst = tensor.ToDoubles().Zip(actual[name].ToDoubles(), (x, y) => Math.Abs(x - y)).Max();
            Assert.True(worst <= 1e-5 * Math.Max(1, tensor.ToDoubles().Max(Math.Abs)), $"{name}: exported model differs by {worst:g3}");
        }
    }
}
