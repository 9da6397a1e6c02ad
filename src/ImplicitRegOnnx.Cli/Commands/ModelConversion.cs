using System.Diagnostics;
using System.Globalization;
using ImplicitRegOnnx.Autodiff;
using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Onnx.Passes;
using ImplicitRegOnnx.Onnx.Serialization;
using ImplicitRegOnnx.Runtime.Verification;
using ImplicitRegOnnx.Training;

namespace ImplicitRegOnnx.Cli.Commands;

/// <summary>How <c>convert</c> treats every model.</summary>
/// <param name="Step">The step model's options (as <c>rewrite</c>'s).</param>
/// <param name="PromoteConstants">Promote weight-holding Constant nodes to parameters first.</param>
/// <param name="Check">Sizes of symbolic dimensions (fixed in the model, except the batch axis) and the gradient check's options.</param>
/// <param name="Gradcheck">Run the gradient check.</param>
public sealed record ConvertSettings(StepModelOptions Step, bool PromoteConstants, GradientCheckOptions Check, bool Gradcheck);

/// <summary>Converts one model for <c>convert</c>: never throws for a problem of the model, which becomes the result's status and message.</summary>
public static class ModelConversion
{
    public const string TrainSuffix = ".train.onnx", InitSuffix = ".init.onnx", EvalSuffix = ".eval.onnx";

    public static string OutputPath(string outDir, string name, string suffix) => Path.Combine(outDir, name + suffix);

    public static ConversionResult Convert(CommandContext context, string input, string outDir, string name, ConvertSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var watch = Stopwatch.StartNew();
        ConversionResult Result(ConversionStatus status, string message, IReadOnlyList<string>? ops = null) =>
            new(input, null, null, null, status, ops ?? [], message, 0, 0, 0, watch.Elapsed.TotalSeconds, null);
        Model model;
        try
        {
            model = ModelFiles.Load(input, context);
        }
        catch (ImplicitRegException e)
        {
            return Result(ConversionStatus.Failed, Shown(context, e));
        }
        try
        {
            var promoted = settings.PromoteConstants ? ConstantPromotion.Promote(model) : 0;
            // Some exporters write nodes out of order (the ONNX spec asks for topological order);
            // parameter selection and the gradient walk assume it.
            TopologicalSort.Sort(model.Graph);
            ModelPreparation.InitializerInputsAsWeights(model);
            ModelPreparation.FixSymbolicDims(model, settings.Check.Dims);
            var gradient = GradcheckOptionSet.WithDefaultOutput(settings.Step.Gradient, model);
            var checkedOutputs = CheckedOutputs(model, settings.Step.Gradient);
            var unsupported = UnsupportedOperators.Find(model.Graph, checkedOutputs);
            if (unsupported.Count > 0)
            {
                return Result(ConversionStatus.Unsupported, $"no gradient rule for {string.Join(", ", unsupported)}; these operators cannot be trained", unsupported);
            }
            var options = settings.Step with { Gradient = gradient };
            var step = StepModelBuilder.Build(model, options);
            var eval = EvalModelBuilder.Build(model, gradient);
            var (train, init, evalPath) = (OutputPath(outDir, name, TrainSuffix), OutputPath(outDir, name, InitSuffix), OutputPath(outDir, name, EvalSuffix));
            var save = HasExternalData(model)
                ? new ModelSaveOptions { ExternalData = ExternalDataPolicy.AllExternal }
                : null;
            step.Model.Save(train, save);
            ModelExport.InitialStateModel(step).Save(init, save);
            eval.Save(evalPath, save);

            GradientCheckResult? check = null;
            if (settings.Gradcheck)
            {
                check = GradientCheck.Run(model, settings.Check with { Gradient = gradient });
            }
            var elements = step.Parameters.Sum(p => step.InitialState[p].ElementCount);
            var message = $"{step.Parameters.Count} parameter tensors ({elements.ToString("N0", CultureInfo.InvariantCulture)} elements), loss on '{gradient.LossOutput ?? gradient.Output}'"
                + (promoted > 0 ? $", {promoted} Constant nodes promoted to parameters" : "");
            var status = ConversionStatus.Ok;
            if (check is not null)
            {
                message += string.Create(CultureInfo.InvariantCulture, $"; gradcheck {(check.Passed ? "passed" : "FAILED")}, worst relative error {check.MaxError:0.0e0} (threshold {check.Threshold:0.0e0})")
                    + (check.Unchecked.Count > 0 ? $", not smooth so unchecked: {string.Join(", ", check.Unchecked)}" : "");
                status = check.Passed ? ConversionStatus.Ok : ConversionStatus.Failed;
            }
            return new ConversionResult(input, train, init, evalPath, status, [], message, elements, step.Parameters.Count, step.StepNodes, watch.Elapsed.TotalSeconds, check);
        }
        catch (MissingGradientRuleException e)
        {
            return Result(ConversionStatus.Unsupported, Shown(context, e), e.OpTypes);
        }
        catch (ImplicitRegException e)
        {
            return Result(ConversionStatus.Failed, Shown(context, e));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Writing the outputs into --out-dir failed.
            return Result(ConversionStatus.Failed, ErrorHandling.OneLine(e.Message));
        }
#pragma warning disable CA1031 // One model's unexpected failure must not stop the report on the others.
        catch (Exception e)
#pragma warning restore CA1031
        {
            return Result(ConversionStatus.Failed, $"unexpected {e.GetType().Name}: {ErrorHandling.OneLine(e.Message)}");
        }
    }

    /// <summary>The outputs whose paths are checked for unsupported ops: the chosen one, or every floating-point output.</summary>
    private static List<Value> CheckedOutputs(Model model, GradientModelOptions options)
    {
        var chosen = options.LossOutput ?? options.Output;
        if (chosen is not null)
        {
            return [.. model.Graph.Outputs.Where(o => o.Name == chosen)];
        }
        return [.. UnsupportedOperators.TrainableOutputs(model.Graph)];
    }

    private static bool HasExternalData(Model model) =>
        model.Graph.SelfAndSubgraphs().Any(g => g.Initializers.Any(v => v.Initializer?.External is not null));

    /// <summary>An error as the report shows it: one line, with this command's option names.</summary>
    private static string Shown(CommandContext context, ImplicitRegException e) => ErrorHandling.OneLine(FlagNames.Apply(e.Message, context.Command));
}
