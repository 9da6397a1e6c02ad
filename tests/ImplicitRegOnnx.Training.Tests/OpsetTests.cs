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

public class StaticBatchTests
{
    /// <summary>input [8, 2, 3] → Reshape(shape) → Gemm(W[6, 4]) → logits [8, 4].</summary>
    private static Model Mlp(long[] reshapeTo)
    {
        var graph = new Graph("static");
        var model = new Model(graph) { IrVersion = 8 };
        model.Opsets.Add(new OpsetId("", 17));
        var x = graph.AddInput("input", new TensorType(ElementType.Float, new Shape(8, 2, 3)));
        var shape = graph.AddInitializer(Tensor.FromArray(reshapeTo, [reshapeTo.Length], "shape"));
        var w = graph.AddInitializer(Tensor.FromArray(Enumerable.Range(0, 24).Select(i => (float)Math.Sin(i)).ToArray(), [6, 4], "w"));
        var flat = graph.Append(new Node("", "Reshape", [x, shape], ["flat"]));
        var gemm = graph.Append(new Node("", "Gemm", [flat.Output, w], ["logits"]));
        gemm.Output.Type = new TensorType(ElementType.Float, new Shape(8, 4));
        graph.Outputs.Add(gemm.Output);
        return model;
    }

    [Fact]
    public void ReshapesToTheStaticBatchSizeWorkOnMicrobatches()
    {
        var options = new GradientModelOptions
        {
            Loss = LossKind.CrossEntropy,
            Penalty = new PenaltyOptions { Coefficient = 0.1, Microbatches = 2 },
        };
        var batch = new Dictionary<string, Tensor>
        {
            ["input"] = Tensor.FromArray(Enumerable.Range(0, 48).Select(i => (float)Math.Cos(i)).ToArray(), [8, 2, 3], "input"),
            ["target"] = Tensor.FromArray(new long[] { 0, 1, 2, 3, 3, 2, 1, 0 }, [8], "target"),
        };
        var fixedBatch = Runtime.GradientEvaluator.Evaluate(GradientModelBuilder.Build(Mlp([8, 6]), options), batch, 2);
        var anyBatch = Runtime.GradientEvaluator.Evaluate(GradientModelBuilder.Build(Mlp([-1, 6]), options), batch, 2);
        Assert.Equal(anyBatch["penalty"].ToDoubles()[0], fixedBatch["penalty"].ToDoubles()[0], 6);
        Assert.Equal(anyBatch["objective_grad/w"].ToDoubles(), fixedBatch["objective_grad/w"].ToDoubles());
    }
}
