using System.CommandLine;
using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Training;

namespace ImplicitRegOnnx.Cli.Commands;

/// <summary>
/// <c>implicitreg export TRAIN_OR_ORIGINAL.onnx --weights W.npz -o MODEL.onnx</c>: the inference model
/// with trained weights. From the original model, initializers named in W.npz take the new values;
/// from a step model written by rewrite, the original inputs and outputs it records are extracted.
/// </summary>
internal static class ExportCommand
{
    public static Command Create(CommandContext context)
    {
        var model = new Argument<string>("MODEL") { Description = "The original inference model, or a step model written by rewrite." };
        var weights = new Option<string>("--weights") { Description = "W.npz: one array per parameter, named as the parameter.", Required = true };
        var output = new Option<string>("--output-model", "-o") { Description = "Where to write the inference model.", Required = true };
        var command = new Command("export", "Write trained weights into the inference model.");
        command.Arguments.Add(model);
        command.Options.Add(weights);
        command.Options.Add(output);
        command.SetAction(parsed => ErrorHandling.Guard(context, () =>
            Execute(context, parsed.GetRequiredValue(model), parsed.GetRequiredValue(weights), parsed.GetRequiredValue(output))));
        return command;
    }

    public static int Execute(CommandContext context, string modelPath, string weightsPath, string outputPath)
    {
        OutputPaths.Check(modelPath, outputPath);
        var source = ModelFiles.Load(modelPath, context);
        var weights = ModelFiles.ReadNpz(weightsPath);
        // The export's errors name the weights file.
        var exported = ModelExport.IsStepModel(source)
            ? ModelExport.FromStepModel(source, weights, weightsPath)
            : ModelExport.WithWeights(source, weights, weightsPath);
        OutputPaths.Save(exported, outputPath);
        context.Out.WriteLine($"wrote {outputPath}");
        return ExitCodes.Ok;
    }
}
