using System.Text.Json.Nodes;
using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Onnx.Numpy;
using ImplicitRegOnnx.Runtime.Verification;
using ImplicitRegOnnx.TestSupport;
using Microsoft.ML.OnnxRuntime;
using Attribute = ImplicitRegOnnx.Onnx.Attribute;

namespace ImplicitRegOnnx.Cli.Tests;

public sealed class RewriteCommandTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private static ReferenceCase Case() => ReferenceCase.Load(Path.Combine(TestPaths.RepositoryRoot, "tests", "ReferenceCases", "logsoftmax_nll"));

    private static string F(double v) => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture);

    private CliResult Rewrite(ReferenceCase c, params string[] extra) => CliRunner.Run(
        ["rewrite", c.ModelPath, "-o", _temp.File("train.onnx"), "--loss", c.Info.Loss, "--coefficient", F(c.Info.Coefficient),
         "--microbatches", c.Info.Microbatches.ToString(System.Globalization.CultureInfo.InvariantCulture), "--output", c.Info.Output, .. extra]);

    private static Dictionary<string, Tensor> RunAll(string model, IEnumerable<Tensor> feeds, GraphOptimizationLevel level = GraphOptimizationLevel.ORT_ENABLE_ALL)
    {
        using var runner = ModelRunner.FromFile(model, level);
        var names = runner.InputNames.ToHashSet(StringComparer.Ordinal);
        return runner.Run([.. feeds.Where(f => names.Contains(f.Name))]).ToDictionary(o => o.Name, o => o.Tensor!, StringComparer.Ordinal);
    }

    [Fact]
    public void StepModelRunsWithAllOptimizationsAndMovesParametersByTheObjectiveGradient()
    {
        var c = Case();
        var run = Rewrite(c, "--json", "--eval-out", _temp.File("eval.onnx"));
        Assert.True(run.ExitCode == 0, run.Stderr);
        var report = JsonNode.Parse(run.Stdout)!;
        Assert.True((int)report["step_nodes"]! > (int)report["forward_nodes"]!);
        Assert.True(File.Exists(_temp.File("train.init.onnx")));

        var initial = RunAll(_temp.File("train.init.onnx"), []);
        var feeds = c.Data.Values.Concat(initial.Select(p => p.Value.WithName(p.Key))).Append(Tensor.Scalar(0.1f, "learning_rate")).ToList();
        var optimized = RunAll(_temp.File("train.onnx"), feeds);
        var plain = RunAll(_temp.File("train.onnx"), feeds, GraphOptimizationLevel.ORT_DISABLE_ALL);

        var model = Model.Load(_temp.File("train.onnx"));
        var parameters = model.MetadataProps.Single(m => m.Key == "implicitreg.parameters").Value.Split('\n');
        Assert.Equal(c.Info.Trainable.Order(StringComparer.Ordinal), parameters.Order(StringComparer.Ordinal));
        var implied = new Dictionary<string, Tensor>(StringComparer.Ordinal)
        {
            ["loss"] = optimized["loss"],
            ["penalty"] = optimized["penalty"],
            ["objective"] = optimized["objective"],
        };
        foreach (var p in parameters)
        {
            var before = initial[p].ToDoubles();
            var after = optimized[p + ".next"].ToDoubles();
            implied["objective_grad/" + p] = Tensor.FromArray(before.Select((v, i) => (v - after[i]) / 0.1).ToArray(), initial[p].Dims);
            var unoptimized = plain[p + ".next"].ToDoubles();
            Assert.True(after.Zip(unoptimized).All(z => Math.Abs(z.First - z.Second) <= 1e-5 * (1 + Math.Abs(z.Second))), p);
        }
        Assert.All(c.Compare(implied, implied.Keys), e => Assert.True(e.Passes, e.ToString()));

        // The evaluation model gives the same loss as the reference.
        var eval = RunAll(_temp.File("eval.onnx"), c.Data.Values.Concat(initial.Where(p => parameters.Contains(p.Key)).Select(p => p.Value.WithName(p.Key))));
        Assert.True(c.Error("loss", eval["loss"]).Passes);
        Assert.Contains(c.Info.Output, eval.Keys);
    }

    /// <summary>
    /// --gradients-out writes TRAIN.onnx (gradients out) and TRAIN.apply.onnx; one step through both equals the
    /// fused model's step bit for bit, and the written files take penalty_coefficient (0: objective = loss).
    /// </summary>
    [Fact]
    public void GradientsOutWritesTheApplyUpdateModelAndTogetherTheyAreTheFusedStep()
    {
        var c = Case();
        var run = CliRunner.Run(["rewrite", c.ModelPath, "-o", _temp.File("fused.onnx"), "--loss", c.Info.Loss, "--coefficient", F(c.Info.Coefficient),
            "--microbatches", c.Info.Microbatches.ToString(System.Globalization.CultureInfo.InvariantCulture), "--output", c.Info.Output, "--optimizer", "momentum"]);
        Assert.True(run.ExitCode == 0, run.Stderr);
        run = Rewrite(c, "--optimizer", "momentum", "--gradients-out", "--json");
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Equal(_temp.File("train.apply.onnx"), (string)JsonNode.Parse(run.Stdout)!["apply"]!);
        Assert.Contains(Model.Load(_temp.File("train.onnx")).MetadataProps, m => m.Key == "implicitreg.form" && m.Value == "gradients-out");

        var initial = RunAll(_temp.File("train.init.onnx"), []);
        var lr = Tensor.Scalar(0.1f, "learning_rate");
        var feeds = c.Data.Values.Concat(initial.Select(p => p.Value.WithName(p.Key))).Append(lr).ToList();
        var fused = RunAll(_temp.File("fused.onnx"), feeds);
        var gradients = RunAll(_temp.File("train.onnx"), feeds);
        var applied = RunAll(_temp.File("train.apply.onnx"), feeds.Concat(gradients.Select(p => p.Value.WithName(p.Key))));
        Assert.Equal(fused["objective"].ToArray<float>(), gradients["objective"].ToArray<float>());
        foreach (var name in initial.Keys)
        {
            Assert.Equal(fused[name + ".next"].ToArray<float>(), applied[name + ".next"].ToArray<float>());
        }

        // penalty_coefficient is an input with a default: ONNX Runtime takes it when fed.
        using var runner = ModelRunner.FromFile(_temp.File("fused.onnx"));
        var outputs = runner.Run([.. feeds, Tensor.Scalar(0f, "penalty_coefficient")]).ToDictionary(o => o.Name, o => o.Tensor!);
        Assert.Equal(outputs["loss"].ToArray<float>(), outputs["objective"].ToArray<float>());
        Assert.True(outputs["penalty"].ToArray<float>()[0] > 0);
        Assert.NotEqual(fused["objective"].ToArray<float>(), outputs["objective"].ToArray<float>());
    }

    [Fact]
    public void ExportWritesTrainedWeightsIntoTheOriginalOrFromTheStepModel()
    {
        var c = Case();
        Assert.Equal(0, Rewrite(c).ExitCode);
        var initial = RunAll(_temp.File("train.init.onnx"), []);
        var feeds = c.Data.Values.Concat(initial.Select(p => p.Value.WithName(p.Key))).Append(Tensor.Scalar(0.1f, "learning_rate")).ToList();
        var stepped = RunAll(_temp.File("train.onnx"), feeds);
        var weights = c.Info.Trainable.Select(p => new KeyValuePair<string, Tensor>(p, stepped[p + ".next"].WithName(p))).ToList();
        NpzArchive.Write(_temp.File("w.npz"), weights);

        Assert.Equal(0, CliRunner.Run("export", c.ModelPath, "--weights", _temp.File("w.npz"), "-o", _temp.File("from_original.onnx")).ExitCode);
        var fromStep = CliRunner.Run("export", _temp.File("train.onnx"), "--weights", _temp.File("w.npz"), "-o", _temp.File("from_step.onnx"));
        Assert.True(fromStep.ExitCode == 0, fromStep.Stderr);

        var inputs = c.Data.Where(p => p.Key != "target").Select(p => p.Value).ToList();
        var a = RunAll(_temp.File("from_original.onnx"), inputs)[c.Info.Output].ToDoubles();
        var b = RunAll(_temp.File("from_step.onnx"), inputs)[c.Info.Output].ToDoubles();
        var before = RunAll(c.ModelPath, inputs)[c.Info.Output].ToDoubles();
        Assert.True(a.Zip(b).All(z => Math.Abs(z.First - z.Second) <= 1e-5 * (1 + Math.Abs(z.First))));
        Assert.False(a.Zip(before).All(z => z.First == z.Second), "the weights did not change the outputs");
        var exported = Model.Load(_temp.File("from_step.onnx"));
        Assert.Equal(c.Info.Inputs, exported.Graph.RequiredInputs.Select(v => v.Name));
        Assert.DoesNotContain(exported.MetadataProps, m => m.Key.StartsWith("implicitreg.", StringComparison.Ordinal));
    }

    [Fact]
    public void BadInputsAreOneLineUsageErrorsAndWriteNothing()
    {
        var c = Case();
        void ExpectUsage(CliResult result, string words)
        {
            Assert.Equal(2, result.ExitCode);
            Assert.Contains(words, Assert.Single(result.StderrLines), StringComparison.Ordinal);
        }
        ExpectUsage(CliRunner.Run("rewrite", c.ModelPath, "-o", _temp.File("t.onnx"), "--loss", "nll", "--lambda", "-0.5"), "--lambda");
        ExpectUsage(CliRunner.Run("rewrite", c.ModelPath, "-o", _temp.File("missing/t.onnx"), "--loss", "nll", "--coefficient", "0.1"), "does not exist");
        ExpectUsage(CliRunner.Run("rewrite", c.ModelPath, "-o", c.ModelPath, "--loss", "nll", "--coefficient", "0.1"), "is the input model");
        ExpectUsage(CliRunner.Run("rewrite", c.ModelPath, "-o", _temp.File("t.onnx"), "--loss", "hinge", "--coefficient", "0.1"), "--loss hinge");
        ExpectUsage(CliRunner.Run("rewrite", c.ModelPath, "-o", _temp.File("t.onnx"), "--loss", "nll", "--coefficient", "0.1", "--optimizer", "lbfgs"), "--optimizer");
        ExpectUsage(CliRunner.Run("rewrite", c.ModelPath, "-o", _temp.File("t.onnx"), "--loss", "nll", "--coefficient", "0.1", "--nesterov"), "--nesterov");

        // A model with an input named like one the step model adds.
        var model = Model.Load(c.ModelPath);
        model.Graph.RequiredInputs.First().Name = "learning_rate";
        model.Save(_temp.File("clash.onnx"));
        ExpectUsage(CliRunner.Run("rewrite", _temp.File("clash.onnx"), "-o", _temp.File("t.onnx"), "--loss", "nll", "--coefficient", "0.1"), "learning_rate");

        // Cross-entropy needs [N, C] logits; a scalar output cannot take it.
        var scalar = Model.Load(TestPaths.Model("mlp_tanh.onnx"));
        var graph = scalar.Graph;
        var reduce = graph.Append(new Node("", "ReduceSum", [graph.Outputs[0]], ["total"], [Attribute.Int("keepdims", 0)]));
        reduce.Output.Type = new TensorType(ElementType.Float, Shape.Scalar);
        graph.Outputs[0] = reduce.Output;
        scalar.Save(_temp.File("scalar.onnx"));
        ExpectUsage(CliRunner.Run("rewrite", _temp.File("scalar.onnx"), "-o", _temp.File("t.onnx"), "--loss", "cross-entropy", "--coefficient", "0.1"), "cross-entropy needs");

        Assert.False(File.Exists(_temp.File("t.onnx")));
    }

    [Fact]
    public void LossOutputUsesTheModelsOwnScalarLoss()
    {
        // mlp_tanh plus an MSE-against-zero loss inside the model: C = mean(logits²).
        var model = Model.Load(TestPaths.Model("mlp_tanh.onnx"));
        var graph = model.Graph;
        var logits = graph.Outputs[0];
        var square = graph.Append(new Node("", "Mul", [logits, logits], ["sq"]));
        var mean = graph.Append(new Node("", "ReduceMean", [square.Output], ["my_loss"], [Attribute.Int("keepdims", 0)]));
        mean.Output.Type = new TensorType(ElementType.Float, Shape.Scalar);
        graph.Outputs.Add(mean.Output);
        model.Save(_temp.File("with_loss.onnx"));

        var run = CliRunner.Run("rewrite", _temp.File("with_loss.onnx"), "-o", _temp.File("t.onnx"), "--loss-output", "my_loss", "--coefficient", "0.1", "--microbatches", "2");
        Assert.True(run.ExitCode == 0, run.Stderr);
        var step = Model.Load(_temp.File("t.onnx"));
        Assert.DoesNotContain(step.Graph.Inputs, v => v.Name == "target");

        var initial = RunAll(_temp.File("t.init.onnx"), []);
        var input = Tensor.FromArray(Enumerable.Range(0, 4 * 64).Select(i => (float)Math.Sin(i)).ToArray(), [4, 64], "input");
        var outputs = RunAll(_temp.File("t.onnx"), initial.Select(p => p.Value.WithName(p.Key)).Append(input).Append(Tensor.Scalar(0.01f, "learning_rate")));
        var forward = RunAll(_temp.File("with_loss.onnx"), [input]);
        Assert.Equal(forward["my_loss"].ToDoubles()[0], outputs["loss"].ToDoubles()[0], 5);
        Assert.True(outputs["penalty"].ToDoubles()[0] > 0);
    }
}
