using System.Globalization;
using ImplicitRegOnnx.Onnx.Passes;

namespace ImplicitRegOnnx.Training;

/// <summary>Which models a step is built as.</summary>
public enum StepModelForm
{
    /// <summary>One model: forward, backward, penalty and optimizer update.</summary>
    Fused,

    /// <summary>
    /// Two models: the step model outputs the objective gradient "P.grad" per trainable parameter instead
    /// of updating, and an apply-update model takes the gradients in and applies the optimizer. What custom
    /// loops, gradient clipping and the data-parallel all-reduce run.
    /// </summary>
    GradientsOut,
}

/// <summary>How a step model declares <see cref="StepModelBuilder.PenaltyCoefficient"/>, c of objective = C + c·R.</summary>
public enum PenaltyCoefficientInput
{
    /// <summary>
    /// A graph input with an initializer of the same name holding the coefficient the model was built
    /// with (an overridable default, ONNX IR spec "Graphs"): a client that does not feed it gets that value.
    /// </summary>
    Overridable,

    /// <summary>
    /// A plain graph input without a default, which every run must feed. For clients that can feed only
    /// required inputs: onnxruntime-node 1.30 passes on only the feeds named in a session's
    /// <c>inputNames</c>, which leave out inputs with an initializer, and drops the others silently.
    /// </summary>
    Required,
}

/// <summary>How to build a training-step model.</summary>
public sealed record StepModelOptions
{
    /// <summary>Loss, penalty and trainable parameters.</summary>
    public GradientModelOptions Gradient { get; init; } = new();

    /// <summary>The update rule and its hyper-parameters.</summary>
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

    /// <summary>A fused step, or the gradients-out step with its apply-update model.</summary>
    public StepModelForm Form { get; init; } = StepModelForm.Fused;

    /// <summary>
    /// Whether <see cref="StepModelBuilder.PenaltyCoefficient"/> has the built-in coefficient as default
    /// (<see cref="PenaltyCoefficientInput.Overridable"/>) or must be fed (<see cref="PenaltyCoefficientInput.Required"/>);
    /// metadata <see cref="StepModelBuilder.PenaltyCoefficientInputKey"/> records which.
    /// </summary>
    public PenaltyCoefficientInput PenaltyCoefficientInput { get; init; } = PenaltyCoefficientInput.Overridable;

    /// <summary>Checks λ, the optimizer's and the gradient's options; <see cref="StepModelBuilder.Build"/> calls it first.</summary>
    /// <exception cref="ImplicitRegException">Of kind <see cref="ErrorKind.BadInput"/>, naming the first bad property.</exception>
    public void Validate()
    {
        if (Lambda is { } lambda && (!double.IsFinite(lambda) || lambda < 0))
        {
            throw ImplicitRegException.BadParameter("StepModelOptions.Lambda", FormattableString.Invariant($"must be a non-negative number, got {lambda}"));
        }
        if (!Enum.IsDefined(PenaltyCoefficientInput))
        {
            throw ImplicitRegException.BadParameter("StepModelOptions.PenaltyCoefficientInput", FormattableString.Invariant($"must be Overridable or Required, got {(int)PenaltyCoefficientInput}"));
        }
        Optimizer.Validate();
        Gradient.Validate();
    }
}

/// <summary>
/// A model that performs one whole training step (design.md §4): inputs are the original model
/// inputs, "target", "learning_rate", one input per trainable parameter (named as the parameter) and
/// one per optimizer state ("P.state"; Adam also "step"), and the optional "penalty_coefficient" (c of
/// objective = C + c·R; its initializer holds the coefficient the model was built with); outputs "loss",
/// "penalty", "objective", "P.next" and "P.state.next" (and "step.next").
/// In the <see cref="StepModelForm.GradientsOut"/> form <see cref="Model"/> has the same inputs without
/// "learning_rate", the states and "step", and outputs "loss", "penalty", "objective" and "P.grad"
/// (∇(C + c·R) per parameter); <see cref="ApplyUpdate"/> takes "learning_rate", "step", the parameters,
/// the states and the "P.grad" and outputs what the fused model outputs after "objective".
/// </summary>
/// <param name="Model">The step model.</param>
/// <param name="Parameters">Trainable parameter names, in input order.</param>
/// <param name="InitialState">Values for every parameter and state input before the first step (weights from the model, zero states, step 0).</param>
/// <param name="ForwardNodes">Nodes of the inference model's main graph.</param>
/// <param name="StepNodes">Nodes of the step model's main graph.</param>
public sealed record StepModel(Model Model, IReadOnlyList<string> Parameters, IReadOnlyDictionary<string, Tensor> InitialState, int ForwardNodes, int StepNodes)
{
    /// <summary>Whether the update is inside the model or in <see cref="ApplyUpdate"/>.</summary>
    public StepModelForm Form { get; init; } = StepModelForm.Fused;

    /// <summary>The apply-update model of the <see cref="StepModelForm.GradientsOut"/> form; null when fused.</summary>
    public Model? ApplyUpdate { get; init; }
}

/// <summary>Turns an inference model into a <see cref="StepModel"/>: one training step (loss, penalty, gradients and optimizer update) as an ONNX graph.</summary>
public static class StepModelBuilder
{
    /// <summary>Name of the float scalar learning-rate input.</summary>
    public const string LearningRate = "learning_rate";
    /// <summary>Name of the step-counter state (input and output).</summary>
    public const string Step = "step";

    /// <summary>c of objective = C + c·R: an optional float scalar input whose default is the built-in coefficient.</summary>
    public const string PenaltyCoefficient = TrainingGraph.CoefficientInput;

    /// <summary>Metadata key of how <see cref="PenaltyCoefficient"/> is declared: "overridable" (with a default) or "required".</summary>
    public const string PenaltyCoefficientInputKey = "implicitreg.penalty_coefficient_input";

    /// <summary>Suffix of the gradient outputs of the gradients-out form and inputs of the apply-update model.</summary>
    public const string GradientSuffix = ".grad";

    /// <summary>Metadata keys that record the original interface (one name per line), for export.</summary>
    public const string OriginalInputsKey = "implicitreg.original_inputs";
    /// <summary>Metadata key of the original model's output names.</summary>
    public const string OriginalOutputsKey = "implicitreg.original_outputs";
    /// <summary>Metadata key of the trainable parameter names.</summary>
    public const string ParametersKey = "implicitreg.parameters";

    /// <summary>Metadata key of what a model is: <see cref="FusedForm"/>, <see cref="GradientsOutForm"/> or <see cref="ApplyUpdateForm"/>.</summary>
    public const string FormKey = "implicitreg.form";
    /// <summary><see cref="FormKey"/> value: the update is inside the step model.</summary>
    public const string FusedForm = "fused";
    /// <summary><see cref="FormKey"/> value: the step model outputs gradients only.</summary>
    public const string GradientsOutForm = "gradients-out";
    /// <summary><see cref="FormKey"/> value: the model that applies the update to given gradients.</summary>
    public const string ApplyUpdateForm = "apply-update";

    /// <summary>The toolkit version recorded in metadata.</summary>
    internal static string ToolkitVersion =>
        typeof(StepModelBuilder).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    /// <summary>Builds the step model of <paramref name="inference"/>; errors as <see cref="GradientModelBuilder.Build"/>, and <see cref="ErrorKind.BadInput"/> for bad options.</summary>
    public static StepModel Build(Model inference, StepModelOptions options)
    {
        options.Validate();
        var training = TrainingGraph.Build(inference, options.Gradient);
        var b = training.Builder;
        var graph = training.Model.Graph;
        var parameters = training.Parameters;
        var initial = InitialState(parameters, options.Optimizer);
        var fused = options.Form == StepModelForm.Fused;
        if (options.PenaltyCoefficientInput == PenaltyCoefficientInput.Required)
        {
            // Without its initializer the input is a plain one that every run feeds; it stays where it was
            // (the last input so far, after the model inputs and target).
            graph.RemoveInitializer(training.Coefficient);
            graph.AddInput(training.Coefficient);
        }

        training.AddOutput(training.Loss, "loss");
        training.AddOutput(training.Penalty, "penalty");
        training.AddOutput(training.Objective, "objective");
        Value ParameterInput(int i)
        {
            // The parameter becomes a graph input of the same name and type (no longer a constant).
            graph.RemoveInitializer(parameters[i]);
            graph.AddInput(parameters[i]);
            return parameters[i];
        }
        Model? applyUpdate = null;
        if (fused)
        {
            AppendOptimizer(b, options.Optimizer, parameters.Count, ParameterInput, i => training.ObjectiveGradients[i]);
        }
        else
        {
            for (var i = 0; i < parameters.Count; i++)
            {
                ParameterInput(i);
            }
            for (var i = 0; i < parameters.Count; i++)
            {
                training.AddOutput(training.ObjectiveGradients[i], parameters[i].Name + GradientSuffix);
            }
            applyUpdate = BuildApplyUpdate(training.Model, parameters, options);
        }
        WriteMetadata(training.Model, options, fused ? FusedForm : GradientsOutForm);
        training.Model.MetadataProps.Add(new MetadataEntry(OriginalInputsKey, string.Join('\n', training.ModelInputs)));
        training.Model.MetadataProps.Add(new MetadataEntry(OriginalOutputsKey, string.Join('\n', training.OriginalOutputs.Select(o => o.Name))));
        training.Model.MetadataProps.Add(new MetadataEntry(ParametersKey, string.Join('\n', parameters.Select(p => p.Name))));
        if (options.Optimize)
        {
            ModelOptimizer.Optimize(training.Model, options.ConstantEvaluator);
        }
        return new StepModel(training.Model, [.. parameters.Select(p => p.Name)], initial,
            inference.Graph.Nodes.Count, training.Model.Graph.Nodes.Count)
        {
            Form = options.Form,
            ApplyUpdate = applyUpdate,
        };
    }

    /// <summary>Every parameter's weights from the model, zero optimizer states and step 0 (Adam), named as the inputs.</summary>
    private static Dictionary<string, Tensor> InitialState(IReadOnlyList<Value> parameters, OptimizerOptions optimizer)
    {
        var initial = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var parameter in parameters)
        {
            var tensor = parameter.Initializer!;
            initial[parameter.Name] = tensor.WithName(parameter.Name);
            foreach (var state in optimizer.StateNames)
            {
                var name = $"{parameter.Name}.{state}";
                initial[name] = new Tensor(tensor.ElementType, tensor.Dims, new byte[tensor.RawBytes.Length], name);
            }
        }
        if (optimizer.CountsSteps)
        {
            initial[Step] = Tensor.Scalar(0L, Step);
        }
        return initial;
    }

    /// <summary>
    /// The optimizer part of a step, shared by the fused model and the apply-update model: inputs
    /// "learning_rate", "step" (Adam) and per parameter the input <paramref name="parameterInput"/> declares
    /// and "P.state"; outputs "P.next", "P.state.next" and "step.next", with <see cref="OptimizerOptions.Update"/>
    /// applied to the gradient <paramref name="gradientOf"/> gives.
    /// </summary>
    private static void AppendOptimizer(Onnx.Building.GraphBuilder b, OptimizerOptions optimizer, int parameterCount,
        Func<int, Value> parameterInput, Func<int, Value> gradientOf)
    {
        var graph = b.Graph;
        var learningRate = graph.AddInput(Reserve(b, LearningRate), new TensorType(ElementType.Float, Shape.Scalar));
        var step = optimizer.CountsSteps ? graph.AddInput(Reserve(b, Step), new TensorType(ElementType.Int64, Shape.Scalar)) : null;
        var nextOutputs = new List<(Value Value, string Name)>();
        for (var i = 0; i < parameterCount; i++)
        {
            var parameter = parameterInput(i);
            var states = new Dictionary<string, Value>(StringComparer.Ordinal);
            foreach (var state in optimizer.StateNames)
            {
                states[state] = graph.AddInput(Reserve(b, $"{parameter.Name}.{state}"), parameter.Type);
            }
            var (next, nextStates) = optimizer.Update(b, parameter, gradientOf(i), learningRate, states, step);
            nextOutputs.Add((next, parameter.Name + ".next"));
            foreach (var state in optimizer.StateNames)
            {
                nextOutputs.Add((nextStates[state], $"{parameter.Name}.{state}.next"));
            }
        }
        foreach (var (value, name) in nextOutputs)
        {
            TrainingGraph.AddNamedOutput(b, value, name);
        }
        if (step is not null)
        {
            TrainingGraph.AddNamedOutput(b, b.Add(step, b.Scalar(1L)), Step + ".next");
        }
    }

    /// <summary>
    /// The apply-update model of the gradients-out form: the optimizer fragment of the fused step over
    /// inputs "P" and "P.grad" (the types of the parameters), so that feeding it the gradients-out outputs
    /// runs the same update ops on the same values as the fused step.
    /// </summary>
    private static Model BuildApplyUpdate(Model step, IReadOnlyList<Value> parameters, StepModelOptions options)
    {
        var opset = step.OpsetVersion("")!.Value;
        var graph = new Graph("apply_update");
        var model = new Model(graph) { IrVersion = step.IrVersion };
        model.Opsets.Add(new OpsetId("", opset));
        var b = new Onnx.Building.GraphBuilder(graph, opset);
        var declared = new Value[parameters.Count];
        Value ParameterInput(int i) => declared[i] = graph.AddInput(Reserve(b, parameters[i].Name), parameters[i].Type);
        Value GradientInput(int i) => graph.AddInput(Reserve(b, declared[i].Name + GradientSuffix), declared[i].Type);
        AppendOptimizer(b, options.Optimizer, parameters.Count, ParameterInput, GradientInput);
        WriteMetadata(model, options, ApplyUpdateForm);
        model.MetadataProps.Add(new MetadataEntry(ParametersKey, string.Join('\n', parameters.Select(p => p.Name))));
        if (options.Optimize)
        {
            ModelOptimizer.Optimize(model, options.ConstantEvaluator);
        }
        return model;
    }

    private static string Reserve(Onnx.Building.GraphBuilder b, string name)
    {
        var fresh = b.FreshName(name);
        return fresh == name
            ? fresh
            : throw ImplicitRegException.BadInput($"the model already uses the name '{name}'; rename that value (the step model needs it for an input)");
    }

    private static void WriteMetadata(Model model, StepModelOptions options, string form)
    {
        var gradient = options.Gradient;
        var optimizer = options.Optimizer;
        string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        var entries = new List<(string, string)>
        {
            ("implicitreg.version", ToolkitVersion),
            (FormKey, form),
            ("implicitreg.loss", gradient.LossOutput is null ? gradient.Loss.Name() : "output:" + gradient.LossOutput),
            ("implicitreg.penalty", gradient.Penalty.Mode.Name()),
            ("implicitreg.coefficient", F(gradient.Penalty.Coefficient)),
            ("implicitreg.microbatches", gradient.Penalty.Microbatches.ToString(CultureInfo.InvariantCulture)),
            ("implicitreg.optimizer", OptimizerOptions.Names[(int)optimizer.Kind]),
            ("implicitreg.weight_decay", F(optimizer.WeightDecay)),
        };
        if (form != ApplyUpdateForm)
        {
            // The apply-update model has no penalty_coefficient input.
            entries.Add((PenaltyCoefficientInputKey, options.PenaltyCoefficientInput == PenaltyCoefficientInput.Required ? "required" : "overridable"));
        }
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
