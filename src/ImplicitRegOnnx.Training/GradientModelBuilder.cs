using ImplicitRegOnnx.Autodiff;
using ImplicitRegOnnx.Onnx.Building;
using ImplicitRegOnnx.Onnx.Inference;

namespace ImplicitRegOnnx.Training;

/// <summary>What to differentiate and how.</summary>
public sealed record GradientModelOptions
{
    public LossKind Loss { get; init; } = LossKind.CrossEntropy;

    /// <summary>The model output the loss is attached to; null: the first output.</summary>
    public string? Output { get; init; }

    public PenaltyOptions Penalty { get; init; } = new();

    public IReadOnlyList<string>? Trainable { get; init; }

    public IReadOnlyList<string>? Freeze { get; init; }
}

/// <summary>A model that computes the loss, the penalty and both gradients of one batch.</summary>
/// <param name="Model">Inputs: the original model inputs and "target"; outputs: "loss", "penalty",
/// "objective", "grad/P" (∇C) and "objective_grad/P" (∇(C + c·R)) for each trainable parameter P.</param>
/// <param name="Parameters">The trainable parameter names, in graph order.</param>
/// <param name="ModelInputs">The original model's inputs (fed by the caller, sliced into microbatches).</param>
public sealed record GradientModel(Model Model, IReadOnlyList<string> Parameters, IReadOnlyList<string> ModelInputs);

/// <summary>
/// Turns an inference model into a <see cref="GradientModel"/> (design.md §1): C = mean loss over the
/// batch; C_j = mean loss over microbatch j (consecutive equal slices along axis 0, each a separate
/// forward instance so batch statistics are the slice's own); g_j = ∇C_j; R = (1/n) Σ_j ||g_j||²;
/// objective = C + c·R; ∇R by double backward (exact) or by finite differences of gradients.
/// </summary>
public static class GradientModelBuilder
{
    public const string Target = "target";

    /// <summary>Oldest ai.onnx opset whose op forms (axes as inputs of ReduceSum, Squeeze, ...) the builder emits.</summary>
    public const long MinimumOpset = 13;

    public static GradientModel Build(Model inference, GradientModelOptions options)
    {
        options.Penalty.Validate();
        var model = Model.Load(inference.ToBytes());
        var opset = model.OpsetVersion("") ?? throw new TrainingSetupException("the model imports no ai.onnx opset");
        if (opset < MinimumOpset)
        {
            throw new TrainingSetupException($"the model uses ai.onnx opset {opset}; training graphs need opset {MinimumOpset} or newer (re-export the model with a newer opset)");
        }
        var graph = model.Graph;
        ShapeInference.InferModel(model);
        var b = new GraphBuilder(graph, opset);
        BatchNormTraining.LowerInPlace(b);

        var output = SelectOutput(graph, options.Output);
        var parameters = TrainableParameters.Select(graph, output, options.Trainable, options.Freeze);
        var inputs = graph.RequiredInputs.ToList();
        if (inputs.Any(v => v.Name == Target))
        {
            throw new TrainingSetupException($"the model already has an input named '{Target}'; rename it (the training graph feeds the labels as '{Target}')");
        }
        var target = graph.AddInput(b.FreshName(Target), TargetType(output, options.Loss));
        graph.Outputs.Clear();

        var loss = Losses.Build(b, output, target, options.Loss);
        var grads = Complete(b, ReverseMode.Vjp(b, [loss], [null], parameters), parameters);

        var penalty = options.Penalty;
        Value penaltyValue;
        Value[] objectiveGrads;
        if (penalty.Mode == PenaltyMode.None)
        {
            penaltyValue = Constants(b, 0, loss);
            objectiveGrads = grads;
        }
        else
        {
            var slices = penalty.Microbatches == 1
                ? [new Microbatch(loss, grads, [], target)]
                : Microbatches(b, graph, output, inputs, target, options.Loss, parameters, penalty.Microbatches);
            var r = b.Div(Sum(b, slices.Select(s => SquaredNorm(b, s.Gradients)).ToList()), Constants(b, penalty.Microbatches, loss));
            penaltyValue = r;
            var penaltyGrads = penalty.Mode == PenaltyMode.Exact
                ? Complete(b, ReverseMode.Vjp(b, [r], [null], parameters), parameters)
                : FiniteDifferencePenaltyGradient(b, graph, output, slices, parameters, options.Loss, penalty);
            var c = Constants(b, penalty.Coefficient, loss);
            objectiveGrads = [.. grads.Select((g, i) => b.Add(g, b.Mul(penaltyGrads[i], CastLike(b, c, g))))];
        }
        var objective = b.Add(loss, b.Mul(Constants(b, penalty.Coefficient, loss), penaltyValue));

        AddOutput(b, loss, "loss");
        AddOutput(b, penaltyValue, "penalty");
        AddOutput(b, objective, "objective");
        for (var i = 0; i < parameters.Count; i++)
        {
            AddOutput(b, grads[i], "grad/" + parameters[i].Name);
        }
        for (var i = 0; i < parameters.Count; i++)
        {
            AddOutput(b, objectiveGrads[i], "objective_grad/" + parameters[i].Name);
        }
        return new GradientModel(model, [.. parameters.Select(p => p.Name)], [.. inputs.Select(v => v.Name)]);
    }

    private sealed record Microbatch(Value Loss, Value[] Gradients, Dictionary<Value, Value> Inputs, Value Target);

    private static Value SelectOutput(Graph graph, string? name)
    {
        if (name is null)
        {
            return graph.Outputs.Count > 0 ? graph.Outputs[0] : throw new TrainingSetupException("the model has no outputs");
        }
        return graph.Outputs.FirstOrDefault(o => o.Name == name)
            ?? throw new TrainingSetupException($"--output {name}: the model has no output of that name; its outputs are {string.Join(", ", graph.Outputs.Select(o => o.Name))}");
    }

    /// <summary>Class labels for cross-entropy and nll ([N, d...]: the output shape without axis 1), else the output's own type.</summary>
    private static TensorType TargetType(Value output, LossKind loss)
    {
        var type = output.TensorType ?? throw new TrainingSetupException($"the type of output '{output.Name}' is unknown; cannot attach a loss");
        if (!loss.TargetIsClassIndex())
        {
            return type;
        }
        if (type.Shape is { } shape)
        {
            if (shape.Rank < 2)
            {
                throw new TrainingSetupException($"{loss.Name()} needs an output of shape [N, C] or [N, C, d...], but '{output.Name}' has shape {shape}");
            }
            return new TensorType(ElementType.Int64, new Shape(shape.Where((_, i) => i != 1)));
        }
        return new TensorType(ElementType.Int64, null);
    }

    /// <summary>Forward instances on consecutive equal slices of the batch, each with its loss and gradient.</summary>
    private static Microbatch[] Microbatches(GraphBuilder b, Graph graph, Value output, List<Value> inputs, Value target,
        LossKind loss, IReadOnlyList<Value> parameters, int n)
    {
        var batch = b.Op("Gather", [b.Shape(inputs.Count > 0 ? inputs[0] : target), b.Scalar(0L)], Attribute.Int("axis", 0));
        var size = b.Div(batch, b.Scalar((long)n));
        var result = new Microbatch[n];
        for (var j = 0; j < n; j++)
        {
            var start = b.Unsqueeze(b.Mul(size, b.Scalar((long)j)), 0);
            var end = b.Unsqueeze(b.Mul(size, b.Scalar((long)(j + 1))), 0);
            var axes = b.Ints(0);
            Value Slice(Value x) => b.Op("Slice", [x, start, end, axes]);
            var substitutions = inputs.ToDictionary(v => v, Slice);
            var sliceOutput = ForwardCloner.Clone(graph, b, substitutions, [output])[0];
            var sliceTarget = Slice(target);
            var sliceLoss = Losses.Build(b, sliceOutput, sliceTarget, loss);
            var sliceGrads = Complete(b, ReverseMode.Vjp(b, [sliceLoss], [null], parameters), parameters);
            result[j] = new Microbatch(sliceLoss, sliceGrads, substitutions, sliceTarget);
        }
        return result;
    }

    /// <summary>
    /// ∇R = (1/n) Σ_j 2·H_j·g_j with H_j·g_j ≈ ||g_j||·(∇C_j(θ + h·ĝ_j) − g_j)/h, ĝ_j = g_j/||g_j|| (design.md §1;
    /// the term is 0 when g_j = 0, since then θ + h·ĝ_j = θ).
    /// </summary>
    private static Value[] FiniteDifferencePenaltyGradient(GraphBuilder b, Graph graph, Value output, Microbatch[] slices,
        IReadOnlyList<Value> parameters, LossKind loss, PenaltyOptions penalty)
    {
        var total = new Value?[parameters.Count];
        var like = slices[0].Loss;
        var h = Constants(b, penalty.FiniteDifferenceStep, like);
        foreach (var slice in slices)
        {
            var norm = b.Op("Sqrt", [SquaredNorm(b, slice.Gradients)]);
            var inverse = b.Div(Constants(b, 1, like), b.Op("Max", [norm, Constants(b, 1e-30, like)]));
            var stepScale = b.Mul(h, inverse);
            var perturbed = parameters.Select((p, i) => b.Add(p, b.Mul(slice.Gradients[i], CastLike(b, stepScale, p)))).ToArray();
            var substitutions = new Dictionary<Value, Value>(slice.Inputs);
            for (var i = 0; i < parameters.Count; i++)
            {
                substitutions[parameters[i]] = perturbed[i];
            }
            var perturbedOutput = ForwardCloner.Clone(graph, b, substitutions, [output])[0];
            var perturbedLoss = Losses.Build(b, perturbedOutput, slice.Target, loss);
            var perturbedGrads = Complete(b, ReverseMode.Vjp(b, [perturbedLoss], [null], perturbed), parameters);
            var factor = b.Div(b.Mul(Constants(b, 2, like), norm), b.Mul(h, Constants(b, slices.Length, like)));
            for (var i = 0; i < parameters.Count; i++)
            {
                var term = b.Mul(b.Sub(perturbedGrads[i], slice.Gradients[i]), CastLike(b, factor, parameters[i]));
                total[i] = total[i] is { } previous ? b.Add(previous, term) : term;
            }
        }
        return [.. total.Select(t => t!)];
    }

    private static Value SquaredNorm(GraphBuilder b, IReadOnlyList<Value> gradients) =>
        Sum(b, [.. gradients.Select(g => b.Op("ReduceSumSquare", [g], Attribute.Int("keepdims", 0)))]);

    private static Value Sum(GraphBuilder b, List<Value> values) => values.Count == 1 ? values[0] : b.Op("Sum", values);

    /// <summary>Zero gradients (parameters that do not influence the loss) as explicit zeros.</summary>
    private static Value[] Complete(GraphBuilder b, IReadOnlyList<Value?> grads, IReadOnlyList<Value> parameters) =>
        [.. grads.Select((g, i) => g ?? b.Mul(parameters[i], Constants(b, 0, parameters[i])))];

    private static Value Constants(GraphBuilder b, double value, Value like) => like.ElementType == ElementType.Double
        ? b.Constant(Tensor.Scalar(value))
        : b.Constant(Tensor.Scalar((float)value));

    private static Value CastLike(GraphBuilder b, Value value, Value like) =>
        value.ElementType == like.ElementType ? value : b.Op("CastLike", [value, like]);

    private static void AddOutput(GraphBuilder b, Value value, string name)
    {
        var output = b.Identity(value);
        output.Name = b.FreshName(name);
        b.Graph.Outputs.Add(output);
    }
}
