using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using ImplicitRegOnnx.Runtime.Verification;
using ImplicitRegOnnx.Runtime.Workflows;
using ImplicitRegOnnx.Training;

namespace ImplicitRegOnnx.Cli.Commands;

/// <summary>
/// <c>implicitreg gradcheck MODEL [--loss L] [--batch N] [--seed S]</c>: the toolkit's gradients of the
/// loss, the penalty and the objective against central differences along random directions, on random
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

        var command = new Command("gradcheck", "Check the gradients of the loss and the penalty against central differences on random inputs.");
        command.Arguments.Add(model);
        gradientOptions.AddTo(command);
        checkOptions.AddTo(command);
        command.Options.Add(promote);
        command.Options.Add(json);
        command.SetAction(parsed => ErrorHandling.Guard(context, () =>
        {
            var (gradient, _) = gradientOptions.Parse(parsed);
            var options = checkOptions.Parse(parsed, gradient);
            return Execute(context, parsed.GetRequiredValue(model), options, parsed.GetValue(promote), parsed.GetValue(json));
        }));
        return command;
    }

    public static int Execute(CommandContext context, string modelPath, GradientCheckOptions options, bool promoteConstants, bool json)
    {
        var run = GradientCheckRun.Run(modelPath, options, promoteConstants);
        foreach (var warning in run.Warnings)
        {
            context.Warn(warning);
        }
        context.Out.Write(json ? ToJson(modelPath, run.Check) : ToText(modelPath, options, run.Check));
        return run.Passed ? ExitCodes.Ok : ExitCodes.Failed;
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

    private static string ToJson(string modelPath, GradientCheckResult result)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("model", modelPath);
            GradcheckOptionSet.WriteVerdict(w, result);
            w.WriteNumber("parameters", result.ParameterElements);
            w.WriteNumber("parameter_tensors", result.Parameters);
            w.WriteStartArray("derivatives");
            foreach (var d in result.Derivatives)
            {
                w.WriteStartObject();
                w.WriteString("quantity", d.Quantity);
                w.WriteNumber("direction", d.Direction);
                GradcheckOptionSet.WriteNumber(w, "numeric", d.Numeric);
                GradcheckOptionSet.WriteNumber(w, "analytic", d.Analytic);
                GradcheckOptionSet.WriteNumber(w, "relative_error", d.RelativeError);
                w.WriteNumber("step", d.Step);
                w.WriteBoolean("smooth", d.Smooth);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }
}
