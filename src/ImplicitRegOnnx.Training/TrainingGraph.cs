using ImplicitRegOnnx.Autodiff;
using ImplicitRegOnnx.Onnx.Building;
using ImplicitRegOnnx.Onnx.Inference;
using ImplicitRegOnnx.Onnx.Passes;

namespace ImplicitRegOnnx.Training;

/// <summary>
/// The differentiated graph of one batch (design.md §1), before any outputs are chosen: C = mean loss
/// over the batch; C_j = mean loss over microbatch j (consecutive equal slices along axis 0, each a
/// separate forward instance so batch statistics are the slice's own); g_j = ∇C_j;
/// R = (1/n) Σ_j ||g_j||²; objective = C + c·R; ∇R by double backward (exact) or by finite differences
/// of gradients. <see cref="GradientModelBuilder"/> and the step-model builder add their outputs.
/// c is the graph input <see cref="CoefficientInput"/> (float scalar) whose initializer of the same name
/// holds the coefficient of <see cref="PenaltyOptions.Coefficient"/>: a caller that does not feed it gets
/// that value, a trainer may feed c(t) each step. It is an overridable default (ONNX IR spec, "Graphs":
/// an initializer that is also a graph input), so neither our passes nor ONNX Runtime fold it.
/// </summary>
internal sealed class TrainingGraph
{
    private TrainingGraph(Model model, GraphBuilder builder)
    {
        Model = model;
        Builder = builder;
    }

    /// <summary>A copy of the inference model whose graph holds everything below; outputs are cleared.</summary>
    public Model Model { get; }

    public GraphBuilder Builder { get; }

    /// <summary>Trainable parameters (still initializers of <see cref="Model"/>), in graph order.</summary>
    public IReadOnlyList<Value> Parameters { get; private set; } = [];

    /// <summary>The original model inputs the caller feeds (sliced into microbatches inside).</summary>
    public IReadOnlyList<string> ModelInputs { get; private set; } = [];

    /// <summary>The labels input (null when the model computes its own loss).</summary>
    public Value? Target { get; private set; }

    /// <summary>The original model outputs (values of <see cref="Model"/>'s graph).</summary>
    public IReadOnlyList<Value> OriginalOutputs { get; private set; } = [];

    public Value Loss { get; private set; } = null!;

    public Value Penalty { get; private set; } = null!;

    public Value Objective { get; private set; } = null!;

    /// <summary>The name of the float scalar input that holds c in objective = C + c·R.</summary>
    public const string CoefficientInput = "penalty_coefficient";

    /// <summary>The input <see cref="CoefficientInput"/> (with its built-in default as initializer).</summary>
    public Value Coefficient { get; private set; } = null!;

    /// <summary>∇C per parameter.</summary>
    public IReadOnlyList<Value> Gradients { get; private set; } = [];

    /// <summary>∇(C + c·R) per parameter.</summary>
    public IReadOnlyList<Value> ObjectiveGradients { get; private set; } = [];

    /// <summary>Adds a graph output that is a named Identity of <paramref name="value"/>.</summary>
    public Value AddOutput(Value value, string name) => AddNamedOutput(Builder, value, name);

    /// <summary>Adds to the builder's graph an output that is a named Identity of <paramref name="value"/>.</summary>
    internal static Value AddNamedOutput(GraphBuilder b, Value value, string name)
    {
        var output = b.Identity(value);
        output.Name = b.FreshName(name);
        if (output.Name != name)
        {
            throw ImplicitRegException.BadInput($"the model already uses the name '{name}'; rename that value (the training graph needs '{name}' as an output)");
        }
        b.Graph.Outputs.Add(output);
        return output;
    }

    public static TrainingGraph Build(Model inference, GradientModelOptions options)
    {
        options.Validate();
        var model = ModelPreparation.Prepare(inference);
        var opset = model.OpsetVersion("")!.Value;
        var graph = model.Graph;
        ShapeInference.InferModel(model);
        if (options.Penalty.Mode != PenaltyMode.None && options.Penalty.Microbatches > 1)
        {
            ModelPreparation.GeneralizeBatchReshapes(model);
        }
        var b = new GraphBuilder(graph, opset);
        var training = new TrainingGraph(model, b);

        var originalOutputs = graph.Outputs.ToList();
        var lossOutput = options.LossOutput is { } lossName
            ? originalOutputs.FirstOrDefault(o => o.Name == lossName)
                ?? throw ImplicitRegException.BadParameter("GradientModelOptions.LossOutput", $"{lossName}: the model has no output of that name; its outputs are {string.Join(", ", originalOutputs.Select(o => o.Name))}")
            : null;
        var output = lossOutput ?? SelectOutput(graph, options.Output);
        var parameters = TrainableParameters.Select(graph, output, options.Trainable, options.Freeze);
        var inputs = graph.RequiredInputs.ToList();
        foreach (var reserved in ReservedNames)
        {
            if (inputs.Any(v => v.Name == reserved) && !(reserved == GradientModelBuilder.Target && lossOutput is not null))
            {
                throw ImplicitRegException.BadInput($"the model already has an input named '{reserved}'; rename it (the training graph feeds '{reserved}' itself)");
            }
        }
        Value? target = null;
        if (lossOutput is null)
        {
            target = graph.AddInput(b.FreshName(GradientModelBuilder.Target), TargetTypeFor(output, options.Loss));
        }
        graph.Outputs.Clear();
        var coefficient = AddCoefficientInput(b, graph, options.Penalty.Coefficient);

        Value LossOf(Value prediction, Value? labels) => lossOutput is null
            ? Losses.Build(b, prediction, labels!, options.Loss)
            : CheckScalar(prediction);
        var loss = LossOf(output, target);
        var grads = Complete(b, ReverseMode.Vjp(b, [loss], [null], parameters), parameters);

        var penalty = options.Penalty;
        var c = b.CastLike(coefficient, loss);
        Value penaltyValue;
        Value[] objectiveGrads;
        if (penalty.Mode == PenaltyMode.None)
        {
            // R ≡ 0. c still enters objective = C + c·R, so every training graph has the same interface
            // and feeding c is harmless; the update is the plain gradient's.
            penaltyValue = b.ScalarLike(0, loss);
            objectiveGrads = grads;
        }
        else
        {
            // With a loss output every input whose first dim is the batch is sliced; else the model inputs and target.
            var sliced = lossOutput is null ? inputs : [.. inputs.Where(v => BatchAxis(v, inputs))];
            var slices = penalty.Microbatches == 1
                ? [new Microbatch(loss, grads, [], target)]
                : Microbatches(b, graph, output, sliced, target, LossOf, parameters, penalty.Microbatches);
            var r = b.Div(Sum(b, slices.Select(s => SquaredNorm(b, s.Gradients)).ToList()), b.ScalarLike(penalty.Microbatches, loss));
            penaltyValue = r;
            // ∇(c·R) = c·∇R: c is the seed of R's backward pass (exact) or a factor of the difference
            // quotient (finite differences), a scalar either way, never a constant folded into the graph.
            var penaltyGrads = penalty.Mode == PenaltyMode.Exact
                ? Complete(b, ReverseMode.Vjp(b, [r], [c], parameters), parameters)
                : FiniteDifferencePenaltyGradient(b, graph, output, slices, parameters, LossOf, penalty, c);
            objectiveGrads = [.. grads.Select((g, i) => b.Add(g, penaltyGrads[i]))];
        }
        var objective = b.Add(loss, b.Mul(c, penaltyValue));

        // After every gradient: the BatchNormalization rule has the closed-form derivative.
        BatchNormTraining.LowerInPlace(b);

        training.Parameters = parameters;
        training.ModelInputs = [.. inputs.Select(v => v.Name)];
        training.Target = target;
        training.OriginalOutputs = originalOutputs;
        training.Loss = loss;
        training.Penalty = penaltyValue;
        training.Objective = objective;
        training.Coefficient = coefficient;
        training.Gradients = grads;
        training.ObjectiveGradients = objectiveGrads;
        return training;
    }

    /// <summary>Names the training graphs use for inputs of their own.</summary>
    public static readonly IReadOnlyList<string> ReservedNames = [GradientModelBuilder.Target, "learning_rate", CoefficientInput];

    /// <summary>The input <see cref="CoefficientInput"/>: a float scalar whose initializer holds the built-in c.</summary>
    private static Value AddCoefficientInput(GraphBuilder b, Graph graph, double coefficient)
    {
        var name = b.FreshName(CoefficientInput);
        if (name != CoefficientInput)
        {
            throw ImplicitRegException.BadInput($"the model already uses the name '{CoefficientInput}'; rename that value (the training graph needs it for an input)");
        }
        var input = graph.AddInput(name, new TensorType(ElementType.Float, Shape.Scalar));
        graph.AttachInitializer(input, Tensor.Scalar((float)coefficient, name));
        return input;
    }

    private static Value CheckScalar(Value loss) =>
        loss.Shape is { Rank: > 0 } shape && shape.ElementCount() != 1
            ? throw ImplicitRegException.BadParameter("GradientModelOptions.LossOutput", $"{loss.Name}: the output has shape {shape}, not a scalar loss")
            : loss;

    /// <summary>Whether an input's first dimension is the batch: the same symbol (or size) as the first input's.</summary>
    private static bool BatchAxis(Value input, List<Value> inputs)
    {
        var first = inputs[0].Shape;
        return input.Shape is { Rank: > 0 } shape && first is { Rank: > 0 } && (shape[0].SameAs(first[0]) || ReferenceEquals(input, inputs[0]));
    }

    private sealed record Microbatch(Value Loss, Value[] Gradients, Dictionary<Value, Value> Inputs, Value? Target);

    private static Value SelectOutput(Graph graph, string? name)
    {
        if (name is null)
        {
            return graph.Outputs.Count > 0 ? graph.Outputs[0] : throw ImplicitRegException.BadInput("the model has no outputs");
        }
        return graph.Outputs.FirstOrDefault(o => o.Name == name)
            ?? throw ImplicitRegException.BadParameter("GradientModelOptions.Output", $"{name}: the model has no output of that name; its outputs are {string.Join(", ", graph.Outputs.Select(o => o.Name))}");
    }

    /// <summary>Class labels for cross-entropy and nll ([N, d...]: the output shape without axis 1), else the output's own type.</summary>
    public static TensorType TargetTypeFor(Value output, LossKind loss)
    {
        var type = output.TensorType ?? throw ImplicitRegException.BadInput($"the type of output '{output.Name}' is unknown; cannot attach a loss");
        if (!loss.TargetIsClassIndex())
        {
            return type;
        }
        if (type.Shape is { } shape)
        {
            if (shape.Rank < 2)
            {
                throw ImplicitRegException.BadInput($"{loss.Name()} needs an output of shape [N, C] or [N, C, d...], but '{output.Name}' has shape {shape}");
            }
            return new TensorType(ElementType.Int64, new Shape(shape.Where((_, i) => i != 1)));
        }
        return new TensorType(ElementType.Int64, null);
    }

    /// <summary>Forward instances on consecutive equal slices of the batch, each with its loss and gradient.</summary>
    private static Microbatch[] Microbatches(GraphBuilder b, Graph graph, Value output, List<Value> inputs, Value? target,
        Func<Value, Value?, Value> lossOf, IReadOnlyList<Value> parameters, int n)
    {
        var batchSource = inputs.Count > 0 ? inputs[0] : target ?? throw ImplicitRegException.BadInput("the model has no input to split into microbatches");
        var batch = b.Op("Gather", [b.Shape(batchSource), b.Scalar(0L)], Attribute.Int("axis", 0));
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
            var sliceTarget = target is null ? null : Slice(target);
            var sliceLoss = lossOf(sliceOutput, sliceTarget);
            var sliceGrads = Complete(b, ReverseMode.Vjp(b, [sliceLoss], [null], parameters), parameters);
            result[j] = new Microbatch(sliceLoss, sliceGrads, substitutions, sliceTarget);
        }
        return result;
    }

    /// <summary>
    /// c·∇R = (c/n) Σ_j 2·H_j·g_j with H_j·g_j ≈ ||g_j||·(∇C_j(θ + h·ĝ_j) − g_j)/h, ĝ_j = g_j/||g_j|| (design.md §1;
    /// the term is 0 when g_j = 0, since then θ + h·ĝ_j = θ). <paramref name="c"/> joins the scalar factor.
    /// </summary>
    private static Value[] FiniteDifferencePenaltyGradient(GraphBuilder b, Graph graph, Value output, Microbatch[] slices,
        IReadOnlyList<Value> parameters, Func<Value, Value?, Value> lossOf, PenaltyOptions penalty, Value c)
    {
        var total = new Value?[parameters.Count];
        var like = slices[0].Loss;
        var h = b.ScalarLike(penalty.FiniteDifferenceStep, like);
        foreach (var slice in slices)
        {
            var norm = b.Op("Sqrt", [SquaredNorm(b, slice.Gradients)]);
            var inverse = b.Div(b.ScalarLike(1, like), b.Op("Max", [norm, b.ScalarLike(1e-30, like)]));
            var stepScale = b.Mul(h, inverse);
            var perturbed = parameters.Select((p, i) => b.Add(p, b.Mul(slice.Gradients[i], b.CastLike(stepScale, p)))).ToArray();
            var substitutions = new Dictionary<Value, Value>(slice.Inputs);
            for (var i = 0; i < parameters.Count; i++)
            {
                substitutions[parameters[i]] = perturbed[i];
            }
            var perturbedOutput = ForwardCloner.Clone(graph, b, substitutions, [output])[0];
            var perturbedLoss = lossOf(perturbedOutput, slice.Target);
            var perturbedGrads = Complete(b, ReverseMode.Vjp(b, [perturbedLoss], [null], perturbed), parameters);
            var factor = b.Div(b.Mul(b.Mul(b.ScalarLike(2, like), norm), c), b.Mul(h, b.ScalarLike(slices.Length, like)));
            for (var i = 0; i < parameters.Count; i++)
            {
                var term = b.Mul(b.Sub(perturbedGrads[i], slice.Gradients[i]), b.CastLike(factor, parameters[i]));
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
        [.. grads.Select((g, i) => g ?? b.Mul(parameters[i], b.ScalarLike(0, parameters[i])))];
}
