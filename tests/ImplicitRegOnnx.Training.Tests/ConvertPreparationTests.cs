using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Onnx.Building;
using ImplicitRegOnnx.Runtime.Verification;
using ImplicitRegOnnx.TestSupport;
using Attribute = ImplicitRegOnnx.Onnx.Attribute;

namespace ImplicitRegOnnx.Training.Tests;

/// <summary>What <c>convert</c> does to a model before the rewrite: constant promotion, unsupported-op detection, input fixes.</summary>
public class ConvertPreparationTests
{
    /// <summary>x [N, 3] · W (Constant [3, 2]) + b (Constant [2]) scaled by a Constant scalar, reshaped by a Constant int64 shape.</summary>
    private static Model ConstantWeightModel()
    {
        var graph = new Graph("constants");
        var model = new Model(graph) { IrVersion = 8 };
        model.Opsets.Add(new OpsetId("", 17));
        var b = new GraphBuilder(graph, 17);
        var x = graph.AddInput("x", new TensorType(ElementType.Float, new Shape([Dim.Named("N"), Dim.Of(3)])));
        Value Constant(string name, Tensor value)
        {
            var node = new Node("", "Constant", [], [name]);
            node.SetAttribute(Attribute.FromTensor("value", value));
            graph.Append(node);
            return node.Output;
        }
        var w = Constant("w", Tensor.FromArray(new[] { 0.5f, -1f, 2f, 0.25f, -0.75f, 1.5f }, [3, 2]));
        var bias = Constant("bias", Tensor.FromArray(new[] { 0.1f, -0.2f }, [2]));
        var scale = Constant("scale", Tensor.Scalar(3f));
        var shape = Constant("shape", Tensor.FromArray(new[] { -1L, 2L }, [2]));
        var y = b.Op("Reshape", [b.Mul(b.Add(b.Op("MatMul", [x, w]), bias), scale), shape]);
        y.Name = "y";
        graph.Outputs.Add(y);
        return model;
    }

    [Fact]
    public void FloatConstantsWithTwoOrMoreElementsBecomeTrainableInitializersAndTheOutputsStayTheSame()
    {
        var model = ConstantWeightModel();
        var feeds = RandomFeeds.Create(model, new FeedOptions { DefaultDim = 4 });
        using var before = ModelRunner.FromBytes(model.ToBytes());
        var expected = before.Run(feeds)[0].Tensor!.ToDoubles();

        Assert.Throws<ImplicitRegException>(() => TrainableParameters.Select(model.Graph, model.Graph.Outputs[0]));
        Assert.Equal(2, ConstantPromotion.Promote(model));

        Assert.Equal(["w", "bias"], model.Graph.Initializers.Select(v => v.Name));
        Assert.Equal(2, model.Graph.Nodes.Count(n => n.OpType == "Constant"));   // the scalar and the int64 shape stay
        Assert.Equal(["w", "bias"], TrainableParameters.Select(model.Graph, model.Graph.Outputs[0]).Select(v => v.Name));
        using var after = ModelRunner.FromBytes(model.ToBytes());
        Assert.Equal(expected, after.Run(feeds)[0].Tensor!.ToDoubles());
    }

    [Fact]
    public void PromotedPaddleWeightsAreTrainable()
    {
        var model = Model.Load(TestPaths.RealModel("ppocr-mobile-cls.onnx"));
        Assert.Empty(model.Graph.Initializers);
        var promoted = ConstantPromotion.Promote(model);
        Assert.True(promoted > 200, $"{promoted} promoted");
        var parameters = TrainableParameters.Select(model.Graph, model.Graph.Outputs[0]).Select(v => v.Name).ToList();
        Assert.Contains("conv2d_0.w_0", parameters);
        Assert.DoesNotContain(parameters, p => p.StartsWith("batch_norm_0.w_1", StringComparison.Ordinal));   // running mean stays frozen
    }

    [Fact]
    public void MlNetClassifierOpsAreFoundWithTheirDomain()
    {
        var model = Model.Load(TestPaths.RealModel("mlnet_linear_classifier.onnx"));
        var ops = UnsupportedOperators.Find(model.Graph, UnsupportedOperators.TrainableOutputs(model.Graph));
        Assert.Equal(["ai.onnx.ml.LabelEncoder", "ai.onnx.ml.LinearClassifier", "ai.onnx.ml.Scaler"], ops);
        // Only the path to the chosen output counts: the normalized features pass through Scaler alone.
        Assert.Equal(["ai.onnx.ml.Scaler"], UnsupportedOperators.Find(model.Graph, [model.Graph.Outputs.Single(o => o.Name == "Features.output")]));
    }

    [Theory]
    [InlineData("mlp_tanh.onnx")]
    [InlineData("resnet8_small.onnx")]
    [InlineData("attention_gelu.onnx")]
    public void DifferentiableModelsHaveNoUnsupportedOps(string name)
    {
        var model = Model.Load(TestPaths.Model(name));
        Assert.Empty(UnsupportedOperators.Find(model.Graph, UnsupportedOperators.TrainableOutputs(model.Graph)));
    }

    [Fact]
    public void OpsWithoutRulesOnThePathAreFoundButNotThoseOffIt()
    {
        var model = Model.Load(TestPaths.Model("lstm_tiny.onnx"));
        Assert.Equal(["GRU", "LSTM"], UnsupportedOperators.Find(model.Graph, model.Graph.Outputs));

        // An op of another domain between the weights and the output is reported as domain.Op.
        var mlp = Model.Load(TestPaths.Model("mlp_tanh.onnx"));
        var tanh = mlp.Graph.Nodes.Single(n => n.OpType == "Tanh");
        tanh.Domain = "com.example";
        tanh.OpType = "FancyTanh";
        Assert.Equal(["com.example.FancyTanh"], UnsupportedOperators.Find(mlp.Graph, mlp.Graph.Outputs));
    }

    [Fact]
    public void ControlFlowWhoseBodiesHoldTheWeightsIsUnsupported()
    {
        var model = Model.Load(TestPaths.RealModel("silero-vad-op15.onnx"));
        Assert.Equal(["If"], UnsupportedOperators.Find(model.Graph, UnsupportedOperators.TrainableOutputs(model.Graph)));
    }

    [Fact]
    public void InitializersListedAsInputsBecomeWeights()
    {
        var model = Model.Load(TestPaths.RealModel("torch_cnn_opset9.onnx"));
        Assert.Throws<ImplicitRegException>(() => TrainableParameters.Select(model.Graph, model.Graph.Outputs[0]));
        Assert.Equal(8, ModelPreparation.InitializerInputsAsWeights(model));
        Assert.Equal(["image"], model.Graph.RequiredInputs.Select(v => v.Name));
        Assert.Equal(8, TrainableParameters.Select(model.Graph, model.Graph.Outputs[0]).Count);
    }

    [Fact]
    public void NamedSymbolicDimsAreFixedExceptTheBatch()
    {
        var model = Model.Load(TestPaths.RealModel("ppocr-mobile-cls.onnx"));
        var sizes = new Dictionary<string, long> { ["p2o.DynamicDimension.0"] = 7, ["p2o.DynamicDimension.1"] = 48, ["p2o.DynamicDimension.2"] = 192 };
        Assert.Equal(2, ModelPreparation.FixSymbolicDims(model, sizes));
        var shape = model.Graph.Inputs[0].Shape!;
        Assert.Equal("p2o.DynamicDimension.0", shape[0].Symbol);
        Assert.Equal([3L, 48L, 192L], shape.Skip(1).Select(d => d.Value!.Value));
    }

    [Fact]
    public void A_step_model_given_as_the_inference_model_is_refused_saying_what_it_is()
    {
        var options = new StepModelOptions { Gradient = new GradientModelOptions { Loss = LossKind.CrossEntropy, Penalty = new PenaltyOptions { Mode = PenaltyMode.None } } };
        var step = StepModelBuilder.Build(Model.Load(TestPaths.Model("mlp_tanh.onnx")), options);
        var error = Assert.Throws<ImplicitRegException>(() => StepModelBuilder.Build(step.Model, options));
        Assert.Equal(ErrorKind.BadInput, error.Kind);
        Assert.Contains("is a training-step model written by implicitreg (implicitreg.form = fused), not an inference model", error.Message, StringComparison.Ordinal);
        // Its exported inference model (no implicitreg.* metadata) is an inference model again.
        var exported = ModelExport.FromStepModel(step.Model, step.InitialState, "step");
        StepModelBuilder.Build(exported, options);
    }
}
