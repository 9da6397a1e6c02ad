using System.CommandLine;
using ImplicitRegOnnx.Runtime.Workflows;

namespace ImplicitRegOnnx.Cli.Commands;

/// <summary>
/// <c>implicitreg export TRAIN_OR_ORIGINAL.onnx --weights W.npz -o MODEL.onnx</c>: the inference model
/// with trained weights (<see cref="WeightExport"/>).
/// </summary>
internal static class ExportCommand
{
    public static Command Create(CommandContext context)
    {
        var model = new Argument<string>("MODEL") { Description = "The original inference model, or a step model written by rewrite." };
        var weights = new Option<string>("--weights") { Description = "W.npz: one array per parameter, named as the parameter.", Required = true };
        var output = new Option<string>("--output-model", "-o") { Description = "Where to write the inference model.", Required = true };
        return CommandFactory.Create(context, "export", "Write trained weights into the inference model.", [model, weights, output], parsed =>
        {
            var result = WeightExport.Export(new WeightExportOptions
            {
                Model = parsed.GetRequiredValue(model),
                Weights = parsed.GetRequiredValue(weights),
                Output = parsed.GetRequiredValue(output),
            });
            context.Warn(result.Warnings);
            context.Out.WriteLine($"wrote {result.Output}");
            return ExitCodes.Ok;
        });
    }
}
