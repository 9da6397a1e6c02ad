using ImplicitRegOnnx.Onnx.Passes;

namespace ImplicitRegOnnx.Training;

/// <summary>
/// The evaluation model that goes with a step model: inputs are the model inputs, "target" and the
/// trainable parameters (as inputs, named as the parameters); outputs are "loss" and the original outputs.
/// </summary>
internal static class EvalModelBuilder
{
    /// <summary>Builds the evaluation model of <paramref name="inference"/>.</summary>
    /// <param name="inference">The inference model (not changed).</param>
    /// <param name="options">The loss, output and trainable parameters, as for the step model.</param>
    /// <param name="constantEvaluator">Computes constant subgraphs while optimizing; null folds only what needs no evaluation.</param>
    /// <returns>The evaluation model.</returns>
    public static Model Build(Model inference, GradientModelOptions options, IConstantEvaluator? constantEvaluator = null)
    {
        var model = ModelPreparation.Prepare(inference);
        var graph = model.Graph;
        var opset = model.OpsetVersion("")!.Value;
        Onnx.Inference.ShapeInference.InferModel(model);
        var b = new Onnx.Building.GraphBuilder(graph, opset);
        var outputs = graph.Outputs.ToList();
        ImplicitRegException Missing(string parameter, string name) => ImplicitRegException.BadParameter(parameter,
            $"{name}: the model has no output of that name; its outputs are {string.Join(", ", outputs.Select(v => v.Name))}");
        var lossOutput = options.LossOutput is { } name
            ? outputs.FirstOrDefault(o => o.Name == name) ?? throw Missing("GradientModelOptions.LossOutput", name)
            : null;
        var output = lossOutput ?? (options.Output is { } o
            ? outputs.FirstOrDefault(v => v.Name == o) ?? throw Missing("GradientModelOptions.Output", o)
            : outputs.FirstOrDefault() ?? throw ImplicitRegException.BadInput("the model has no outputs"));
        var parameters = TrainableParameters.Select(graph, output, options.Trainable, options.Freeze);
        Value loss;
        if (lossOutput is null)
        {
            var target = graph.AddInput(b.FreshName(GradientModelBuilder.Target), TrainingGraph.TargetTypeFor(output, options.Loss));
            loss = Losses.Build(b, output, target, options.Loss);
        }
        else
        {
            loss = lossOutput;
        }
        foreach (var parameter in parameters)
        {
            graph.RemoveInitializer(parameter);
            graph.AddInput(parameter);
        }
        var named = b.Identity(loss);
        named.Name = b.FreshName("loss");
        graph.Outputs.Insert(0, named);
        ModelOptimizer.Optimize(model, constantEvaluator);
        return model;
    }
}
