using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Onnx.Passes;
using ImplicitRegOnnx.Runtime.Verification;
using ImplicitRegOnnx.Training;

namespace ImplicitRegOnnx.Runtime.Workflows;

/// <summary>The gradient check of one model file (<see cref="GradientCheckRun.Run"/>).</summary>
/// <param name="Model">The model file checked.</param>
/// <param name="Check">The check's derivatives and verdict.</param>
/// <param name="Options">The options the check ran with (the loss output filled in when none was named).</param>
/// <param name="PromotedConstants">How many Constant nodes became parameters (<see cref="GradientCheckRun.Run"/>'s <c>promoteConstants</c>).</param>
/// <param name="Warnings">Warnings about the model (e.g. an IR version newer than the toolkit knows); the check ran.</param>
public sealed record ModelGradientCheck(string Model, GradientCheckResult Check, GradientCheckOptions Options, int PromotedConstants, IReadOnlyList<string> Warnings)
{
    /// <summary>Whether the check passed (<see cref="GradientCheckResult.Passed"/>).</summary>
    public bool Passed => Check.Passed;
}

/// <summary>
/// The gradient check of a model file as <c>implicitreg gradcheck</c> and <c>convert --gradcheck</c> run it:
/// the model is prepared for training (<see cref="Prepare"/>: Constant weights promoted on request, nodes
/// sorted, initializers listed as inputs trained, named symbolic dims fixed), the loss goes on the first
/// floating-point output unless one is named, and <see cref="GradientCheck"/> compares the toolkit's
/// gradients with central differences.
/// </summary>
public static class GradientCheckRun
{
    /// <summary>Loads, prepares and checks the model at <paramref name="modelPath"/>.</summary>
    /// <param name="modelPath">The .onnx inference model.</param>
    /// <param name="options">What to differentiate and the check's batch, seed, directions and symbolic sizes; validated first.</param>
    /// <param name="promoteConstants">Train weights stored as Constant nodes as parameters.</param>
    /// <returns>The check; a failed check is a result with <see cref="ModelGradientCheck.Passed"/> false, not an exception.</returns>
    /// <exception cref="ImplicitRegException">Bad options, a model that cannot be loaded or differentiated, or that ONNX Runtime cannot run; the message starts with the path.</exception>
    public static ModelGradientCheck Run(string modelPath, GradientCheckOptions options, bool promoteConstants = false)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var warnings = new List<string>();
        var model = WorkflowFiles.Load(modelPath, warnings);
        return WorkflowFiles.About(modelPath, () =>
        {
            var promoted = Prepare(model, promoteConstants, options.Dims);
            var used = options with { Gradient = WithDefaultOutput(options.Gradient, model) };
            return new ModelGradientCheck(modelPath, GradientCheck.Run(model, used), used, promoted, warnings);
        });
    }

    /// <summary>
    /// Prepares a loaded inference model in place for building training graphs from it, as convert and
    /// gradcheck do: promotes weight-holding Constant nodes (when asked), sorts the nodes (some exporters
    /// write them out of order; the ONNX spec asks for topological order), takes initializers off the
    /// input list so they are trained, and gives the named symbolic input dims their sizes. Returns how
    /// many Constant nodes were promoted.
    /// </summary>
    internal static int Prepare(Model model, bool promoteConstants, IReadOnlyDictionary<string, long> dims)
    {
        var promoted = promoteConstants ? ConstantPromotion.Promote(model) : 0;
        TopologicalSort.Sort(model.Graph);
        ModelPreparation.InitializerInputsAsWeights(model);
        ModelPreparation.FixSymbolicDims(model, dims);
        return promoted;
    }

    /// <summary>Without an output (or loss output) named, the loss goes on the model's first floating-point output.</summary>
    internal static GradientModelOptions WithDefaultOutput(GradientModelOptions options, Model model)
    {
        if (options.Output is not null || options.LossOutput is not null)
        {
            return options;
        }
        return UnsupportedOperators.TrainableOutputs(model.Graph) is [var first, ..] ? options with { Output = first.Name } : options;
    }
}
