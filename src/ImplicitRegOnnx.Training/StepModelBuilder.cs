using System.Globalization;
using ImplicitRegOnnx.Onnx.Passes;

namespace ImplicitRegOnnx.Training;

/// <summary>How to build a training-step model.</summary>
public sealed record StepModelOptions
{
    public GradientModelOptions Gradient { get; init; } = new();

    public OptimizerOptions Optimizer { get; init; } = new();

    /// <summary>λ when the coefficient was given as λ (recorded in the metadata).</summary>
    public double? Lambda { get; init; }

    /// <summary>Run CSE, dead-code removal and constant folding on the result.</summary>
    public bool Optimize { get; init; } = true;

    /// <summary>
    /// Computes constant subgraphs while optimizing (<see cref="IConstantEvaluator"/>); Runtime's
    /// <c>OrtConstantEvaluator.Instance</c> folds them, which <c>Trainer</c> and the CLI use.
    /// Null folds only what needs no evaluation (Constant nodes, Shape/Size of static inputs).
    /// </summary>
    public IConstantEvaluator? ConstantEvaluator { get; init; }
}

/// <summary>
/// A model that performs one whole training step (design.md §4): inputs are the original model
/// inputs, "target", "learning_rate", one input per trainable parameter (named as the parameter) and
/// one per optimizer state ("P.state"; Adam also "step"); outputs "loss", "penalty", "objective",
/// "P.next" and "P.state.next" (and "step.next").
/// </summary>
/// <param name="Model">The step model.</param>
/// <param name="Parameters">Trainable parameter names, in input order.</param>
/// <param name="InitialState">Values for every parameter and state input before the first step (weights from the model, zero states, step 0).</param>
/// <param name="ForwardNodes">Nodes of the inference model's main graph.</param>
/// <param name="StepNodes">Nodes of the step model's main graph.</param>
public sealed record StepModel(Model Model, IReadOnlyList<string> Parameters, IReadOnlyDictionary<string, Tensor> InitialState, int ForwardNodes, int StepNodes);

public static class StepModelBuilder
{
    public const string LearningRate = "learning_rate";
    public const string Step = "step";

    /// <summary>Metadata keys that record the original interface (one name per line), for export.</summary>
    public const string OriginalInputsKey = "implicitreg.original_inputs";
    public const string OriginalOutputsKey = "implicitreg.original_outputs";
    public const string ParametersKey = "implicitreg.parameters";

    /// <summary>The toolkit version recorded in metadata.</summary>
    public static string ToolkitVersion =>
        typeof(StepModelBuilder).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    public static StepModel Build(Model inference, StepModelOptions options)
    {
        options.Optimizer.Validate();
        var training = TrainingGraph.Build(inference, options.Gradient);
        var b = training.Builder;
        var graph = training.Model.Graph;
        var optimizer = options.Optimizer;

        var learningRate = graph.AddInput(Reserve(b, LearningRate), new TensorType(ElementType.Float, Shape.Scalar));
        var step = optimizer.CountsSteps ? graph.AddInput(Reserve(b, Step), new TensorType(ElementType.Int64, Shape.Scalar)) : null;
        var initial = new Dictionary<string, Tensor>(StringComparer.Ordinal);

        training.AddOutput(training.Loss, "loss");
        training.AddOutput(training.Penalty, "penalty");
        training.AddOutput(training.Objective, "objective");
        var nextOutputs = new List<(Value Value, string Name)>();
        for (var i = 0; i < training.Parameters.Count; i++)
        {
            var parameter = training.Parameters[i];
            var tensor = parameter.Initializer!;
            initial[parameter.Name] = tensor.WithName(parameter.Name);
            // The parameter becomes a graph input of the same name and type (no longer a constant).
            graph.RemoveInitializer(parameter);
            graph.AddInput(parameter);
            var states = new Dictionary<string, Value>(StringComparer.Ordinal);
            foreach (var state in optimizer.StateNames)
            {
                var name = Reserve(b, $"{parameter.Name}.{state}");
                states[state] = graph.AddInput(name, parameter.Type);
                initial[name] = new Tensor(tensor.ElementType, tensor.Dims, new byte[tensor.RawBytes.Length], name);
            }
            var (next, nextStates) = optimizer.Update(b, parameter, training.ObjectiveGradients[i], learningRate, states, step);
            nextOutputs.Add((next, parameter.Name + ".next"));
            foreach (var state in optimizer.StateNames)
            {
                nextOutputs.Add((nextStates[state], $"{parameter.Name}.{state}.next"));
            }
        }
        foreach (var (value, name) in nextOutputs)
        {
            training.AddOutput(value, name);
        }
        if (step is not null)
        {
            initial[Step] = Tensor.Scalar(0L, Step);
            training.AddOutput(b.Add(step, b.Scalar(1L)), Step + ".next");
        }
        WriteMetadata(training.Model, options);
        training.Model.MetadataProps.Add(new MetadataEntry(OriginalInputsKey, string.Join('\n', training.ModelInputs)));
        training.Model.MetadataProps.Add(new MetadataEntry(OriginalOutputsKey, string.Join('\n', training.OriginalOutputs.Select(o => o.Name))));
        training.Model.MetadataProps.Add(new MetadataEntry(ParametersKey, string.Join('\n', training.Parameters.Select(p => p.Name))));
        if (options.Optimize)
        {
            ModelOptimizer.Optimize(training.Model, options.ConstantEvaluator);
        }
        return new StepModel(training.Model, [.. training.Parameters.Select(p => p.Name)], initial,
            inference.Graph.Nodes.Count, training.Model.Graph.Nodes.Count);
    }

    private static string Reserve(Onnx.Building.GraphBuilder b, string name)
    {
        var fresh = b.FreshName(name);
        return fresh == name
            ? fresh
            : throw new TrainingSetupException($"the model already uses the name '{name}'; rename that value (the step model needs it for an input)");
    }

    private static void WriteMetadata(Model model, StepModelOptions options)
    {
        var gradient = options.Gradient;
        var optimizer = options.Optimizer;
        string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        var entries = new List<(string, string)>
        {
            ("implicitreg.version", ToolkitVersion),
            ("implicitreg.loss", gradient.LossOutput is null ? gradient.Loss.Name() : "output:" + gradient.LossOutput),
            ("implicitreg.penalty", gradient.Penalty.Mode.Name()),
            ("implicitreg.coefficient", F(gradient.Penalty.Coefficient)),
            ("implicitreg.microbatches", gradient.Penalty.Microbatches.ToString(CultureInfo.InvariantCulture)),
            ("implicitreg.optimizer", OptimizerOptions.Names[(int)optimizer.Kind]),
            ("implicitreg.weight_decay", F(optimizer.WeightDecay)),
        };
        if (options.Lambda is { } lambda)
        {
            entries.Add(("implicitreg.lambda", F(lambda)));
        }
        if (gradient.Penalty.Mode == PenaltyMode.FiniteDifference)
        {
            entries.Add(("implicitreg.fd_step", F(gradient.Penalty.FiniteDifferenceStep)));
        }
        if (optimizer.Kind == OptimizerKind.Momentum)
        {
            entries.Add(("implicitreg.momentum", F(optimizer.Momentum)));
            entries.Add(("implicitreg.nesterov", optimizer.Nesterov ? "true" : "false"));
        }
        if (optimizer.Kind == OptimizerKind.Adam)
        {
            entries.Add(("implicitreg.beta1", F(optimizer.Beta1)));
            entries.Add(("implicitreg.beta2", F(optimizer.Beta2)));
            entries.Add(("implicitreg.epsilon", F(optimizer.Epsilon)));
        }
        model.MetadataProps.RemoveAll(e => e.Key.StartsWith("implicitreg.", StringComparison.Ordinal));
        model.MetadataProps.AddRange(entries.Select(e => new MetadataEntry(e.Item1, e.Item2)));
        model.ProducerName = "implicitreg";
        model.ProducerVersion = ToolkitVersion;
    }
}
