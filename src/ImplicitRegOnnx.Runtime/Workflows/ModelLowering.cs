using ImplicitRegOnnx.Onnx.Serialization;
using ImplicitRegOnnx.Training.Lowering;

namespace ImplicitRegOnnx.Runtime.Workflows;

/// <summary>What <see cref="ModelLowering.Lower"/> lowers and where it writes.</summary>
public sealed record LowerOptions
{
    /// <summary>The .onnx model holding ai.onnx.preview.training ops or training_info.</summary>
    public string Input { get; init; } = "";

    /// <summary>Where the lowered main graph is written (without training_info).</summary>
    public string Output { get; init; } = "";

    /// <summary>Where the training algorithm of training_info[<see cref="TrainingInfo"/>] is written as a runnable model of standard ops; null: not written.</summary>
    public string? TrainingStep { get; init; }

    /// <summary>Which training_info entry <see cref="TrainingStep"/> writes.</summary>
    public int TrainingInfo { get; init; }

    /// <summary>Checks the output paths before anything is read.</summary>
    /// <exception cref="ImplicitRegException">Of kind <see cref="ErrorKind.BadInput"/>, naming the path or property.</exception>
    public void Validate()
    {
        WorkflowFiles.CheckOutput(Input, Output);
        if (TrainingStep is not null)
        {
            WorkflowFiles.CheckOutput(Input, TrainingStep);
            if (string.Equals(Path.GetFullPath(TrainingStep), Path.GetFullPath(Output), StringComparison.Ordinal))
            {
                throw new ImplicitRegException(ErrorKind.BadInput, $"{TrainingStep}: LowerOptions.TrainingStep and LowerOptions.Output name the same file; give two paths", null, "LowerOptions.TrainingStep");
            }
        }
    }
}

/// <summary>What <see cref="ModelLowering.Lower"/> did.</summary>
/// <param name="Input">The model read.</param>
/// <param name="Output">The lowered model written.</param>
/// <param name="Lowering">The training ops of the main graph replaced.</param>
/// <param name="TrainingInfos">How many training_info entries the input carries (none is copied to <paramref name="Output"/>).</param>
/// <param name="TrainingStep">The training-step model written (null unless <see cref="LowerOptions.TrainingStep"/>).</param>
/// <param name="StepLowering">The training ops of the training step replaced (null without a training step).</param>
/// <param name="UpdateBinding">(variable, output) pairs of the training step: after a step, feed each output back as its variable.</param>
/// <param name="Warnings">Warnings: a newer IR version; an initialization graph the step model does not apply.</param>
public sealed record LowerResult(string Input, string Output, LoweringReport Lowering, int TrainingInfos, string? TrainingStep, LoweringReport? StepLowering,
    IReadOnlyList<KeyValuePair<string, string>> UpdateBinding, IReadOnlyList<string> Warnings);

/// <summary>
/// Lowering (<c>implicitreg lower</c>): replaces the ops of ONNX's ai.onnx.preview.training domain with
/// standard ops (<see cref="TrainingOpLowering"/>) so that stock ONNX Runtime runs the model, and on request
/// writes a training_info entry as a runnable training-step model (<see cref="TrainingStepModel"/>).
/// </summary>
public static class ModelLowering
{
    /// <summary>Lowers <see cref="LowerOptions.Input"/> into <see cref="LowerOptions.Output"/> (and the training step).</summary>
    /// <exception cref="ImplicitRegException">Bad paths, a missing training_info entry (<c>LowerOptions.TrainingInfo</c>), training ops that cannot be lowered (naming the node), an output that cannot be written.</exception>
    public static LowerResult Lower(LowerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var warnings = new List<string>();
        var model = WorkflowFiles.Load(options.Input, warnings);
        var infos = TrainingInfos.Count(model);
        var index = options.TrainingInfo;
        if (options.TrainingStep is not null && infos == 0)
        {
            throw new ImplicitRegException(ErrorKind.BadInput, $"{options.Input}: carries no training_info; LowerOptions.TrainingStep needs one", null, "LowerOptions.TrainingStep");
        }
        if (options.TrainingStep is not null && (index < 0 || index >= infos))
        {
            throw ImplicitRegException.BadParameter("LowerOptions.TrainingInfo", $"{index}: {options.Input} carries {infos} training_info entries (0 to {infos - 1})");
        }
        var (step, lowering) = WorkflowFiles.About(options.Input, () =>
        {
            var built = options.TrainingStep is null ? null : TrainingStepModel.Build(model, index);
            TrainingInfos.Remove(model);
            return (built, TrainingOpLowering.Lower(model));
        });
        WorkflowFiles.Save(model, options.Output);
        if (step is not null)
        {
            WorkflowFiles.Save(step.Model, options.TrainingStep!);
            if (step.InitializationIgnored)
            {
                warnings.Add($"{options.Input}: training_info[{index}] has an initialization graph, which the step model does not apply; its variables start from their initializers");
            }
        }
        return new LowerResult(options.Input, options.Output, lowering, infos, options.TrainingStep, step?.Lowering, step?.UpdateBinding ?? [], warnings);
    }
}
