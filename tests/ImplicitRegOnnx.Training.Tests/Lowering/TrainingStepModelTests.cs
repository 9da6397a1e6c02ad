using System.Text.Json;
using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Onnx.Serialization;
using ImplicitRegOnnx.Runtime.Verification;
using ImplicitRegOnnx.TestSupport;
using ImplicitRegOnnx.Training.Lowering;

namespace ImplicitRegOnnx.Training.Tests.Lowering;

/// <summary>
/// A model carrying a TrainingInfoProto (Gradient + Momentum in its algorithm; tests/LoweringCases,
/// written with reference values by tools/make_training_info_case.py): its training step becomes a
/// standard model that ONNX Runtime runs, and two steps with the update binding fed back give the
/// reference values (numpy, analytic gradient).
/// </summary>
public class TrainingStepModelTests
{
    private static string Case => Path.Combine(TestPaths.RepositoryRoot, "tests", "LoweringCases", "training_info_momentum");

    /// <summary>As in <see cref="BackendTrainingOpTests"/>: float32 roundoff times a bound on the operation count (the loss sums 4 squares of 3-term dot products) times the largest magnitude.</summary>
    private const double UnitRoundoff = 1.0 / (1 << 24);

    [Fact]
    public void TrainingInfoBecomesAStandardStepModelWhoseInputsAreTheMutableVariables()
    {
        var model = Model.Load(Path.Combine(Case, "model.onnx"));
        Assert.Equal(1, TrainingInfos.Count(model));

        var step = TrainingStepModel.Build(model, 0);

        Assert.Equal(new Dictionary<string, int> { ["Gradient"] = 1, ["Momentum"] = 1 }, step.Lowering.Lowered);
        Assert.DoesNotContain(step.Model.Graph.Nodes, n => !n.IsStandard);
        Assert.DoesNotContain(step.Model.Opsets, o => o.Domain == TrainingOpLowering.Domain);
        Assert.Equal(0, TrainingInfos.Count(step.Model));
        Assert.Equal(["X", "target", "R", "W", "V", "T"], step.Model.Graph.Inputs.Select(v => v.Name));
        Assert.Equal(["Y", "L", "W_new", "V_new", "T_new"], step.Model.Graph.Outputs.Select(v => v.Name));
        var binding = JsonSerializer.Deserialize<Dictionary<string, string>>(
            step.Model.MetadataProps.Single(m => m.Key == TrainingStepModel.UpdateBindingKey).Value);
        Assert.Equal(new Dictionary<string, string> { ["W"] = "W_new", ["V"] = "V_new", ["T"] = "T_new" }, binding);
        Assert.False(step.InitializationIgnored);
        // The source model still carries its training_info: Build does not change it.
        Assert.Equal(1, TrainingInfos.Count(model));
    }

    [Theory]
    [InlineData("test_data_set_0")]
    [InlineData("test_data_set_1")]
    public void StepModelReproducesTheReferenceSteps(string dataSet)
    {
        var step = TrainingStepModel.Build(Model.Load(Path.Combine(Case, "model.onnx")), 0);
        var folder = Path.Combine(Case, dataSet);
        var inputs = Directory.EnumerateFiles(folder, "input_*.pb").Select(TensorFile.Load).ToList();
        var expected = Directory.EnumerateFiles(folder, "output_*.pb").Select(TensorFile.Load).ToList();

        using var runner = ModelRunner.FromBytes(step.Model.ToBytes());
        var outputs = runner.Run(inputs).ToDictionary(o => o.Name, o => o.Tensor!, StringComparer.Ordinal);

        var magnitude = inputs.Concat(expected).Where(t => t.ElementType.IsFloatingPoint())
            .SelectMany(t => t.ToDoubles()).Select(Math.Abs).Append(1.0).Max();
        var tolerance = 32 * UnitRoundoff * magnitude;
        foreach (var want in expected)
        {
            var got = outputs[want.Name];
            Assert.Equal(want.Dims, got.Dims);
            var a = got.ToDoubles();
            var b = want.ToDoubles();
            for (var i = 0; i < b.Length; i++)
            {
                Assert.True(Math.Abs(a[i] - b[i]) <= tolerance, $"{dataSet} {want.Name}[{i}]: {a[i]:R} vs {b[i]:R} (tolerance {tolerance:G3})");
            }
        }
    }

    [Fact]
    public void AMissingEntryIsAnErrorThatSaysHowManyThereAre()
    {
        var error = Assert.Throws<ImplicitRegException>(() => TrainingStepModel.Build(Model.Load(Path.Combine(Case, "model.onnx")), 1));
        Assert.Contains("carries 1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoweringTheMainGraphKeepsTheTrainingImportWhileTrainingInfoRemains()
    {
        var model = Model.Load(Path.Combine(Case, "model.onnx"));
        TrainingOpLowering.Lower(model);
        Assert.Contains(model.Opsets, o => o.Domain == TrainingOpLowering.Domain);

        Assert.Equal(1, TrainingInfos.Remove(model));
        TrainingOpLowering.Lower(model);
        Assert.DoesNotContain(model.Opsets, o => o.Domain == TrainingOpLowering.Domain);
        Assert.Equal(0, TrainingInfos.Count(Model.Load(model.ToBytes())));
    }
}
