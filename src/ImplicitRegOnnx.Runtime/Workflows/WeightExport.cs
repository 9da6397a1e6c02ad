using ImplicitRegOnnx.Onnx.Numpy;
using ImplicitRegOnnx.Training;

namespace ImplicitRegOnnx.Runtime.Workflows;

/// <summary>What <see cref="WeightExport.Export"/> reads and writes.</summary>
public sealed record WeightExportOptions
{
    /// <summary>The original inference model, or a step model written by <see cref="ModelRewrite"/> or <see cref="ModelConversion"/>.</summary>
    public string Model { get; init; } = "";

    /// <summary>W.npz: one array per parameter, named as the parameter.</summary>
    public string Weights { get; init; } = "";

    /// <summary>Where the inference model is written.</summary>
    public string Output { get; init; } = "";
}

/// <summary>What <see cref="WeightExport.Export"/> wrote.</summary>
/// <param name="Model">The model read.</param>
/// <param name="Output">The inference model written.</param>
/// <param name="FromStepModel">The model read was a step model, whose original interface was extracted.</param>
/// <param name="Warnings">Warnings about the model read (an IR version newer than the toolkit knows).</param>
public sealed record WeightExportResult(string Model, string Output, bool FromStepModel, IReadOnlyList<string> Warnings);

/// <summary>
/// Export (<c>implicitreg export</c>): the inference model with trained weights (<see cref="ModelExport"/>). From
/// the original model, initializers named in the weights take the new values; from a step model, the original
/// inputs and outputs it records are extracted.
/// </summary>
public static class WeightExport
{
    /// <summary>Writes <see cref="WeightExportOptions.Output"/>.</summary>
    /// <exception cref="ImplicitRegException">Bad paths, a model or weights file that cannot be read, weights that do not fit (naming the weights file), an output that cannot be written.</exception>
    public static WeightExportResult Export(WeightExportOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        WorkflowFiles.CheckOutput(options.Model, options.Output);
        var warnings = new List<string>();
        var source = WorkflowFiles.Load(options.Model, warnings);
        var weights = NpzArchive.Read(options.Weights);
        var fromStep = ModelExport.IsStepModel(source);
        // The export's errors name the weights file.
        var exported = fromStep ? ModelExport.FromStepModel(source, weights, options.Weights) : ModelExport.WithWeights(source, weights, options.Weights);
        WorkflowFiles.Save(exported, options.Output);
        return new WeightExportResult(options.Model, options.Output, fromStep, warnings);
    }
}
