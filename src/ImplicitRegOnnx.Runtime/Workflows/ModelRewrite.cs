using System.Diagnostics;
using ImplicitRegOnnx.Training;

namespace ImplicitRegOnnx.Runtime.Workflows;

/// <summary>What <see cref="ModelRewrite.Rewrite"/> rewrites, how, and where it writes.</summary>
public sealed record RewriteOptions
{
    /// <summary>The .onnx inference model.</summary>
    public string Input { get; init; } = "";

    /// <summary>Where the training-step model is written.</summary>
    public string Output { get; init; } = "";

    /// <summary>Where the initial-state model is written; null: TRAIN.init.onnx beside <see cref="Output"/>.</summary>
    public string? InitOutput { get; init; }

    /// <summary>Where the evaluation model is written (inputs: model inputs, target, parameters; outputs: loss and the original outputs); null: none.</summary>
    public string? EvalOutput { get; init; }

    /// <summary>Loss, penalty, optimizer, form and optimization of the step model. With <see cref="StepModelForm.GradientsOut"/> the apply-update model is written as TRAIN.apply.onnx beside <see cref="Output"/>.</summary>
    public StepModelOptions Step { get; init; } = new();

    /// <summary>Checks the step options and every output path before anything is read or written.</summary>
    /// <exception cref="ImplicitRegException">Of kind <see cref="ErrorKind.BadInput"/>, naming the bad property or path.</exception>
    public void Validate()
    {
        Step.Validate();
        foreach (var path in new[] { Output, EvalOutput, InitPath, ApplyPath }.OfType<string>())
        {
            WorkflowFiles.CheckOutput(Input, path);
        }
    }

    /// <summary>The initial-state model's path.</summary>
    internal string InitPath => InitOutput ?? WorkflowFiles.Beside(Output, ModelRewrite.InitSuffix);

    /// <summary>The apply-update model's path (gradients-out form only).</summary>
    internal string? ApplyPath => Step.Form == StepModelForm.GradientsOut ? WorkflowFiles.Beside(Output, ModelRewrite.ApplySuffix) : null;
}

/// <summary>What <see cref="ModelRewrite.Rewrite"/> wrote.</summary>
/// <param name="Input">The inference model.</param>
/// <param name="Output">The training-step model.</param>
/// <param name="Init">The initial-state model.</param>
/// <param name="Eval">The evaluation model (null unless asked for).</param>
/// <param name="Apply">The apply-update model (null unless the gradients-out form).</param>
/// <param name="ForwardNodes">Nodes of the inference model's main graph.</param>
/// <param name="StepNodes">Nodes of the step model's main graph.</param>
/// <param name="Parameters">Trainable parameter tensors.</param>
/// <param name="ParameterElements">Their elements.</param>
/// <param name="Seconds">Time taken to build the models (loading and saving not counted).</param>
/// <param name="Warnings">Warnings about the input (an IR version newer than the toolkit knows); the rewrite ran.</param>
public sealed record RewriteResult(string Input, string Output, string Init, string? Eval, string? Apply, int ForwardNodes, int StepNodes,
    int Parameters, long ParameterElements, double Seconds, IReadOnlyList<string> Warnings);

/// <summary>
/// Rewrite (<c>implicitreg rewrite</c>): an inference model file into the model of one training step
/// (<see cref="StepModelBuilder"/>), its initial-state model (<see cref="ModelExport.InitialStateModel"/>), on
/// request its evaluation model (<see cref="EvalModelBuilder"/>) and, for the gradients-out form, its
/// apply-update model; every file written atomically.
/// </summary>
public static class ModelRewrite
{
    /// <summary>Suffixes of the files written beside the step model.</summary>
    public const string InitSuffix = ".init.onnx", ApplySuffix = ".apply.onnx";

    /// <summary>Builds and writes the models of <paramref name="options"/>.</summary>
    /// <exception cref="ImplicitRegException">Bad options or paths (found before anything is read), a model that cannot be loaded or rewritten (the message starts with its path), or an output that cannot be written.</exception>
    public static RewriteResult Rewrite(RewriteOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var warnings = new List<string>();
        var inference = WorkflowFiles.Load(options.Input, warnings);
        var watch = Stopwatch.StartNew();
        var (step, eval) = WorkflowFiles.About(options.Input, () =>
            (StepModelBuilder.Build(inference, options.Step), options.EvalOutput is null ? null : EvalModelBuilder.Build(inference, options.Step.Gradient, options.Step.ConstantEvaluator)));
        var seconds = watch.Elapsed.TotalSeconds;
        WorkflowFiles.Save(step.Model, options.Output);
        WorkflowFiles.Save(ModelExport.InitialStateModel(step), options.InitPath);
        if (step.ApplyUpdate is not null)
        {
            WorkflowFiles.Save(step.ApplyUpdate, options.ApplyPath!);
        }
        if (eval is not null)
        {
            WorkflowFiles.Save(eval, options.EvalOutput!);
        }
        return new RewriteResult(options.Input, options.Output, options.InitPath, options.EvalOutput, step.ApplyUpdate is null ? null : options.ApplyPath,
            step.ForwardNodes, step.StepNodes, step.Parameters.Count, step.Parameters.Sum(p => step.InitialState[p].ElementCount), seconds, warnings);
    }
}
