using System.CommandLine;
using ImplicitRegOnnx.Cli.Inspection;
using ImplicitRegOnnx.Onnx.Inspection;

namespace ImplicitRegOnnx.Cli.Commands;

/// <summary><c>implicitreg inspect MODEL [--json]</c>: what a model holds, as a table or as JSON.</summary>
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
        var command = new Command("inspect", "Show a model's producer, IR version, opsets, inputs and outputs, parameters and op histogram.");
        command.Arguments.Add(model);
        command.Options.Add(json);
        command.SetAction(parsed => ErrorHandling.Guard(context, () =>
            Execute(context, parsed.GetValue(model), parsed.GetValue(json))));
        return command;
    }

    /// <summary>Prints the summary of the model at <paramref name="path"/>, or of the embedded default model when it is null.</summary>
    public static int Execute(CommandContext context, string? path, bool json)
    {
        var model = path is null ? ModelFiles.LoadDefault() : ModelFiles.Load(path, context);
        var summary = ModelSummary.Of(model);
        context.Out.Write(json ? summary.ToJson() : SummaryWriters.ToText(summary, path ?? ModelFiles.DefaultModelName));
        return ExitCodes.Ok;
    }
}
