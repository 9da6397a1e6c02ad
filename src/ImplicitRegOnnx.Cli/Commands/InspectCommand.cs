using System.CommandLine;
using ImplicitRegOnnx.Onnx.Inspection;

namespace ImplicitRegOnnx.Cli.Commands;

/// <summary><c>implicitreg inspect MODEL [--json]</c>: what a model holds (<see cref="ModelSummary"/>), as a table or as JSON.</summary>
internal static class InspectCommand
{
    public static Command Create(CommandContext context)
    {
        var model = new Argument<string?>("MODEL")
        {
            Description = "Path of the .onnx model file (default: the embedded default model, models/mlp_tanh.onnx).",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var json = new Option<bool>("--json") { Description = "Print JSON (keys: producer, ir_version, opsets, inputs, outputs, parameters, ops)." };
        return CommandFactory.Create(context, "inspect", "Show a model's producer, IR version, opsets, inputs and outputs, parameters and op histogram.", [model, json], parsed =>
        {
            var path = parsed.GetValue(model);
            var summary = ModelSummary.Of(path is null ? ModelFiles.LoadDefault() : ModelFiles.Load(path, context));
            context.Out.Write(parsed.GetValue(json) ? summary.ToJson() : summary.ToText(path ?? ModelFiles.DefaultModelName));
            return ExitCodes.Ok;
        });
    }
}
