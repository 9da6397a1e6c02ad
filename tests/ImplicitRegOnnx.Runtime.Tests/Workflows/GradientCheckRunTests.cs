using ImplicitRegOnnx.Autodiff;
using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Runtime.Verification;
using ImplicitRegOnnx.Runtime.Workflows;
using ImplicitRegOnnx.TestSupport;
using ImplicitRegOnnx.Training;

namespace ImplicitRegOnnx.Runtime.Tests.Workflows;

/// <summary>The gradient check of a model file as a C# app calls it.</summary>
public sealed class GradientCheckRunTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void AModelFileIsPreparedAndCheckedWithTheLossOnItsFirstFloatingPointOutput()
    {
        var options = new GradientCheckOptions { Gradient = new GradientModelOptions { Loss = LossKind.Mse, Penalty = new PenaltyOptions { Coefficient = 0.1 } }, Directions = 2 };

        var run = GradientCheckRun.Run(TestPaths.Model("mlp_tanh.onnx"), options);

        Assert.True(run.Passed, string.Join("; ", run.Check.Derivatives));
        Assert.Equal(Model.Load(TestPaths.Model("mlp_tanh.onnx")).Graph.Outputs[0].Name, run.Options.Gradient.Output);
        Assert.Equal(4, run.Check.Parameters);
        Assert.Equal(["loss", "penalty", "objective"], run.Check.Derivatives.Select(d => d.Quantity).Distinct());
        Assert.Empty(run.Warnings);
        Assert.Equal(0, run.PromotedConstants);
    }

    [Fact]
    public void InitializersListedAsInputsAreTrainedAndOutOfOrderNodesSorted()
    {
        // An IR-3-style model: every weight also a graph input, nodes written in reverse.
        var model = Model.Load(TestPaths.Model("mlp_tanh.onnx"));
        foreach (var weight in model.Graph.Initializers.ToList())
        {
            model.Graph.AddInput(weight);
        }
        model.Graph.Reorder([.. model.Graph.Nodes.Reverse()]);
        model.Save(_temp.File("legacy.onnx"));

        var run = GradientCheckRun.Run(_temp.File("legacy.onnx"), new GradientCheckOptions { Gradient = new GradientModelOptions { Loss = LossKind.Mse }, Directions = 1 });

        Assert.Equal(4, run.Check.Parameters);
        Assert.True(run.Passed, string.Join("; ", run.Check.Derivatives));
    }

    [Fact]
    public void BadOptionsNameTheApiParameterAndModelErrorsTheFile()
    {
        var batch = Assert.Throws<ImplicitRegException>(() => GradientCheckRun.Run(TestPaths.Model("mlp_tanh.onnx"), new GradientCheckOptions { Batch = 0 }));
        Assert.Equal("GradientCheckOptions.Batch", batch.Parameter);

        var missing = Assert.Throws<ImplicitRegException>(() => GradientCheckRun.Run(_temp.File("missing.onnx"), new GradientCheckOptions()));
        Assert.Equal(ErrorKind.BadInput, missing.Kind);
        Assert.Contains("missing.onnx", missing.Message, StringComparison.Ordinal);

        var lstm = Assert.Throws<MissingGradientRuleException>(() =>
        {
            try
            {
                GradientCheckRun.Run(TestPaths.Model("lstm_tiny.onnx"), new GradientCheckOptions { Gradient = new GradientModelOptions { Loss = LossKind.CrossEntropy } });
            }
            catch (ImplicitRegException e) when (e.InnerException is MissingGradientRuleException inner)
            {
                Assert.StartsWith(TestPaths.Model("lstm_tiny.onnx"), e.Message, StringComparison.Ordinal);
                Assert.Equal(ErrorKind.Unsupported, e.Kind);
                throw inner;
            }
        });
        Assert.Contains("LSTM", lstm.OpTypes);
    }
}
