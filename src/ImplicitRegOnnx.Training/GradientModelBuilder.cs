namespace ImplicitRegOnnx.Training;

/// <summary>What to differentiate and how.</summary>
public sealed record GradientModelOptions
{
    /// <summary>The loss attached to the output (ignored with <see cref="LossOutput"/>).</summary>
    public LossKind Loss { get; init; } = LossKind.CrossEntropy;

    /// <summary>The model output the loss is attached to; null: the first output.</summary>
    public string? Output { get; init; }

    /// <summary>The minibatch-gradient penalty; none by default.</summary>
    public PenaltyOptions Penalty { get; init; } = new();

    /// <summary>Globs of the parameters to train; null: every initializer the loss depends on differentiably.</summary>
    public IReadOnlyList<string>? Trainable { get; init; }

    /// <summary>Globs of parameters to leave out of <see cref="Trainable"/>'s set; null: none.</summary>
    public IReadOnlyList<string>? Freeze { get; init; }

    /// <summary>The model already computes its loss: this scalar output is C (no loss is attached, no target input).</summary>
    public string? LossOutput { get; init; }

    /// <summary>
    /// These options with the loss as a tool or a configuration file gives it: a loss to attach, or the name of
    /// the model's own scalar loss output, not both. Null for both keeps <see cref="Loss"/> and <see cref="LossOutput"/>.
    /// </summary>
    /// <param name="loss">The loss to attach (sets <see cref="Loss"/> and clears <see cref="LossOutput"/>), or null.</param>
    /// <param name="lossOutput">The model's loss output (sets <see cref="LossOutput"/>), or null.</param>
    /// <exception cref="ImplicitRegException">Of kind <see cref="ErrorKind.BadInput"/> naming <c>GradientModelOptions.Loss</c>: both were given.</exception>
    public GradientModelOptions WithLoss(LossKind? loss, string? lossOutput) => (loss, lossOutput) switch
    {
        ({ }, { }) => throw ImplicitRegException.BadParameter("GradientModelOptions.Loss",
            "and GradientModelOptions.LossOutput contradict each other: the model either gets a loss attached or has its own"),
        ({ } kind, null) => this with { Loss = kind, LossOutput = null },
        (null, { } name) => this with { LossOutput = name },
        _ => this,
    };

    /// <summary>Checks the options that do not depend on the model (the penalty's); graph builders call it before building.</summary>
    /// <exception cref="ImplicitRegException">Of kind <see cref="ErrorKind.BadInput"/>, naming the bad property.</exception>
    public void Validate()
    {
        Penalty.Validate();
    }
}

/// <summary>A model that computes the loss, the penalty and both gradients of one batch.</summary>
/// <param name="Model">Inputs: the original model inputs and "target"; outputs: "loss", "penalty",
/// "objective", "grad/P" (∇C) and "objective_grad/P" (∇(C + c·R)) for each trainable parameter P.</param>
/// <param name="Parameters">The trainable parameter names, in graph order.</param>
/// <param name="ModelInputs">The original model's inputs (fed by the caller, sliced into microbatches).</param>
public sealed record GradientModel(Model Model, IReadOnlyList<string> Parameters, IReadOnlyList<string> ModelInputs);

/// <summary>
/// Turns an inference model into a <see cref="GradientModel"/>: the <see cref="TrainingGraph"/> of one
/// batch with the loss, penalty, objective and both gradients as outputs (what <c>implicitreg grad</c> runs).
/// </summary>
public static class GradientModelBuilder
{
    /// <summary>Name of the target (label) input of gradient and step models.</summary>
    public const string Target = "target";

    /// <summary>The ai.onnx opset training graphs use at least; older models are upgraded to it first.</summary>
    internal const long MinimumOpset = 17;

    /// <summary>Builds the gradient model of <paramref name="inference"/>; an <see cref="ImplicitRegException"/> (<see cref="ErrorKind.BadInput"/> or <see cref="ErrorKind.Unsupported"/>) names what cannot be differentiated.</summary>
    public static GradientModel Build(Model inference, GradientModelOptions options)
    {
        var training = TrainingGraph.Build(inference, options);
        training.AddOutput(training.Loss, "loss");
        training.AddOutput(training.Penalty, "penalty");
        training.AddOutput(training.Objective, "objective");
        for (var i = 0; i < training.Parameters.Count; i++)
        {
            training.AddOutput(training.Gradients[i], "grad/" + training.Parameters[i].Name);
        }
        for (var i = 0; i < training.Parameters.Count; i++)
        {
            training.AddOutput(training.ObjectiveGradients[i], "objective_grad/" + training.Parameters[i].Name);
        }
        return new GradientModel(training.Model, [.. training.Parameters.Select(p => p.Name)], training.ModelInputs);
    }
}
