using System.CommandLine;
using System.Globalization;
using System.Text;
using ImplicitRegOnnx.Runtime.Verification;
using ImplicitRegOnnx.Runtime.Workflows;
using ImplicitRegOnnx.Training;

namespace ImplicitRegOnnx.Cli.Commands;

/// <summary>
/// <c>implicitreg gradcheck MODEL [--loss L] [--batch N] [--seed S]</c>: the toolkit's gradients of the
/// loss, the penalty and the objective against the model's own values along random directions, on random
/// inputs of the model's shapes (<see cref="GradientCheckRun"/>). Exit 0 when the worst relative error is
/// within the threshold, 1 when not.
/// </summary>
internal static class GradcheckCommand
{
    public static Command Create(CommandContext context)
    {
        var model = new Argument<string>("MODEL") { Description = "Path of the .onnx inference model." };
        var gradientOptions = new GradientOptionSet(withLossOutput: false, defaultLoss: LossKind.Mse, scaleOptional: true);
        var checkOptions = new GradcheckOptionSet();
        var promote = new Option<bool>("--promote-constants") { Description = "Train weights stored as Constant nodes (floating-point, 2 elements or more) as parameters." };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON." };

        return CommandFactory.Create(context, "gradcheck", "Check the gradients of the loss and the penalty against central differences on random inputs.",
            [model, .. gradientOptions.Options, .. checkOptions.Options, promote, json], parsed =>
        {
            var path = parsed.GetRequiredValue(model);
            var options = checkOptions.Parse(parsed, gradientOptions.Parse(parsed).Options);
            var run = GradientCheckRun.Run(path, options, parsed.GetValue(promote));
            context.Warn(run.Warnings);
            context.Out.Write(parsed.GetValue(json) ? ToJson(path, run.Check) : ToText(path, options, run.Check));
            return run.Passed ? ExitCodes.Ok : ExitCodes.Failed;
        });
    }

    private static string ToText(string modelPath, GradientCheckOptions options, GradientCheckResult result)
    {
        var text = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        text.Append(c, $"{modelPath}: {result.Parameters} parameter tensors ({result.ParameterElements:N0} elements), {options.Directions} random directions, batch {options.Batch}, seed {options.Seed}\n");
        foreach (var d in result.Derivatives)
        {
            text.Append(c, $"  {d.Quantity,-9} direction {d.Direction}: numeric {d.Numeric,13:0.000000e0}  analytic {d.Analytic,13:0.000000e0}  step {d.Step:0.0e0}  relative error {d.RelativeError:0.0e0}{(d.Smooth ? "" : "  (not smooth at any step: not counted)")}\n");
        }
        if (result.Unchecked.Count > 0)
        {
            text.Append(c, $"unchecked: {string.Join(", ", result.Unchecked)} (not smooth along any direction at float32 step sizes, e.g. ReLU or max-pool activation changes)\n");
        }
        text.Append(c, $"worst relative error {result.MaxError:0.0e0} (threshold {result.Threshold:0.0e0}): {(result.Passed ? "passed" : "FAILED")}\n");
        return text.ToString();
    }

    private static string ToJson(string modelPath, GradientCheckResult r) => JsonOutput.Serialize(new Report(modelPath, r.Passed, JsonOutput.Finite(r.MaxError), r.Threshold, r.Unchecked,
        r.ParameterElements, r.Parameters, [.. r.Derivatives.Select(d => new Derivative(d.Quantity, d.Direction, JsonOutput.Finite(d.Numeric), JsonOutput.Finite(d.Analytic),
            JsonOutput.Finite(d.RelativeError), d.Step, d.Smooth))]));

    private sealed record Report(string Model, bool Passed, double? MaxError, double Threshold, IReadOnlyList<string> Unchecked, long Parameters, int ParameterTensors,
        IReadOnlyList<Derivative> Derivatives);

    private sealed record Derivative(string Quantity, int Direction, double? Numeric, double? Analytic, double? RelativeError, double Step, bool Smooth);
}
