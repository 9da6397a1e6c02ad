using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.TestSupport;

namespace ImplicitRegOnnx.Training.Tests;

public class OpsetTests
{
    [Fact]
    public void OlderModelsAreUpgradedToOpset17()
    {
        // models/legacy_ir3.onnx: IR 3, opset 8 (Gemm, Relu, Softmax with the old axis semantics).
        var step = StepModelBuilder.Build(Model.Load(TestPaths.Model("legacy_ir3.onnx")), new StepModelOptions
        {
            Gradient = new GradientModelOptions { Loss = LossKind.Nll, Penalty = new PenaltyOptions { Coefficient = 0.1 } },
        });
        Assert.Equal(17, step.Model.OpsetVersion(""));
        Assert.True(step.Model.IrVersion >= 8);
        using var evaluator = new Runtime.StepEvaluator(step);
        var input = Tensor.FromArray(new float[] { 0.1f, -0.2f, 0.3f, 0.4f, 0.5f, 0.6f, -0.7f, 0.8f }, [2, 4], "input");
        var outputs = evaluator.Run(new Dictionary<string, Tensor> { ["input"] = input, ["target"] = Tensor.FromArray(new long[] { 0, 2 }, [2], "target") }, 0.1f);
        Assert.True(double.IsFinite(outputs["loss"].ToDoubles()[0]));
    }
}
