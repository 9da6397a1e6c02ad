using System.CommandLine;
using System.Globalization;
using System.Text;
using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Onnx.Serialization;
using ImplicitRegOnnx.Training.Lowering;

namespace ImplicitRegOnnx.Cli.Commands;

/// <summary>
/// <c>implicitreg lower MODEL -o OUT [--training-step STEP.onnx]</c>: replaces the ops of ONNX's
/// ai.onnx.preview.training domain (Gradient, Momentum, Adagrad, Adam) with standard ops, so stock ONNX
/// Runtime runs the model. OUT is the lowered main graph without training_info; --training-step writes
/// the training algorithm of training_info[N] as a runnable model (see <see cref="TrainingStepModel"/>).
/// </summary>
internal static class LowerCommand
{
    public static Command Create(CommandContext context)
    {
        var model = new Argument<string>("MODEL") { Description = "Path of the .onnx model." };
        var output = new Option<string>("--output-model", "-o") { Description = "Where to write the lowered model.", Required = true };
        var step = new Option<string?>("--training-step") { Description = "Also write the training algorithm of the model's training_info as a runnable model of standard ops." };
        var index = new Option<int>("--training-info") { Description = "Which training_info entry --training-step writes (default 0).", DefaultValueFactory = _ => 0 };

        var command = new Command("lower", "Replace ai.onnx.preview.training ops (Gradient, Momentum, Adagrad, Adam) with standard ops that any ONNX Runtime runs.");
        command.Arguments.Add(model);
        command.Options.Add(output);
        command.Options.Add(step);
        command.Options.Add(index);
        command.SetAction(parsed => ErrorHandling.Guard(context, () =>
            Execute(context, parsed.GetRequiredValue(model), parsed.GetRequiredValue(output), parsed.GetValue(step), parsed.GetValue(index))));
        return command;
    }

    public static int Execute(CommandContext context, string modelPath, string outputPath, string? stepPath, int infoIndex)
    {
        OutputPaths.Check(modelPath, outputPath);
        if (stepPath is not null)
        {
            OutputPaths.Check(modelPath, stepPath);
            if (string.Equals(Path.GetFullPath(stepPath), Path.GetFullPath(outputPath), StringComparison.Ordinal))
            {
                throw ImplicitRegException.BadInput($"{stepPath}: --training-step and -o name the same file; give two paths");
            }
        }
        var model = ModelFiles.Load(modelPath, context);
        var infos = TrainingInfos.Count(model);
        if (stepPath is not null && (infos == 0 || infoIndex < 0 || infoIndex >= infos))
        {
            throw ImplicitRegException.BadInput(infos == 0
                ? $"{modelPath}: carries no training_info; --training-step needs one"
                : $"--training-info {infoIndex}: {modelPath} carries {infos} training_info entries (0 to {infos - 1})");
        }
        var (training, report) = ErrorHandling.About(modelPath, () =>
        {
            var step = stepPath is null ? null : TrainingStepModel.Build(model, infoIndex);
            TrainingInfos.Remove(model);
            return (step, TrainingOpLowering.Lower(model));
        });
        OutputPaths.Save(model, outputPath);
        if (training is not null)
        {
            OutputPaths.Save(training.Model, stepPath!);
        }

        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{modelPath} -> {outputPath}\n");
        text.Append(CultureInfo.InvariantCulture, $"lowered: {Describe(report)}\n");
        if (training is not null)
        {
            text.Append(CultureInfo.InvariantCulture, $"training step (training_info[{infoIndex}]) -> {stepPath}: lowered {Describe(training.Lowering)}\n");
            text.Append(CultureInfo.InvariantCulture, $"update binding (feed each output back as its variable): {string.Join(", ", training.UpdateBinding.Select(p => $"{p.Key} <- {p.Value}"))}\n");
            if (training.InitializationIgnored)
            {
                context.Warn($"{modelPath}: training_info[{infoIndex}] has an initialization graph, which the step model does not apply; its variables start from their initializers");
            }
        }
        else if (infos > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"training_info: {infos} entries not copied to {outputPath}; write one as a runnable model with --training-step\n");
        }
        context.Out.Write(text.ToString());
        return ExitCodes.Ok;
    }

    private static string Describe(LoweringReport report) => report.Total == 0
        ? "no ai.onnx.preview.training ops"
        : string.Join(", ", report.Lowered.Select(p => $"{p.Key} {p.Value}"))
            + (report.OpsetRaisedFrom is { } from ? $" (ai.onnx opset raised {(from == 0 ? "from none" : $"from {from}")} to {TrainingOpLowering.GradientOpset})" : "");
}
