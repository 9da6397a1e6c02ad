using System.CommandLine;
using System.Globalization;
using System.Text;
using ImplicitRegOnnx.Runtime.Workflows;
using ImplicitRegOnnx.Training.Lowering;

namespace ImplicitRegOnnx.Cli.Commands;

/// <summary>
/// <c>implicitreg lower MODEL -o OUT [--training-step STEP.onnx]</c>: replaces the ops of ONNX's
/// ai.onnx.preview.training domain (Gradient, Momentum, Adagrad, Adam) with standard ops, so stock ONNX
/// Runtime runs the model (<see cref="ModelLowering"/>).
/// </summary>
internal static class LowerCommand
{
    public static Command Create(CommandContext context)
    {
        var model = new Argument<string>("MODEL") { Description = "Path of the .onnx model." };
        var output = new Option<string>("--output-model", "-o") { Description = "Where to write the lowered model.", Required = true };
        var step = new Option<string?>("--training-step") { Description = "Also write the training algorithm of the model's training_info as a runnable model of standard ops." };
        var index = new Option<int>("--training-info") { Description = "Which training_info entry --training-step writes (default 0).", DefaultValueFactory = _ => 0 };

        return CommandFactory.Create(context, "lower", "Replace ai.onnx.preview.training ops (Gradient, Momentum, Adagrad, Adam) with standard ops that any ONNX Runtime runs.",
            [model, output, step, index], parsed =>
        {
            var r = ModelLowering.Lower(new LowerOptions
            {
                Input = parsed.GetRequiredValue(model),
                Output = parsed.GetRequiredValue(output),
                TrainingStep = parsed.GetValue(step),
                TrainingInfo = parsed.GetValue(index),
            });
            context.Warn(r.Warnings);
            context.Out.Write(ToText(r, parsed.GetValue(index)));
            return ExitCodes.Ok;
        });
    }

    private static string ToText(LowerResult r, int index)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{r.Input} -> {r.Output}\nlowered: {Describe(r.Lowering)}\n");
        if (r.StepLowering is { } lowered)
        {
            text.Append(CultureInfo.InvariantCulture, $"training step (training_info[{index}]) -> {r.TrainingStep}: lowered {Describe(lowered)}\n");
            text.Append(CultureInfo.InvariantCulture, $"update binding (feed each output back as its variable): {string.Join(", ", r.UpdateBinding.Select(p => $"{p.Key} <- {p.Value}"))}\n");
        }
        else if (r.TrainingInfos > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"training_info: {r.TrainingInfos} entries not copied to {r.Output}; write one as a runnable model with --training-step\n");
        }
        return text.ToString();
    }

    private static string Describe(LoweringReport report) => report.Total == 0
        ? "no ai.onnx.preview.training ops"
        : string.Join(", ", report.Lowered.Select(p => $"{p.Key} {p.Value}"))
            + (report.OpsetRaisedFrom is { } from ? $" (ai.onnx opset raised {(from == 0 ? "from none" : $"from {from}")} to {TrainingOpLowering.GradientOpset})" : "");
}
