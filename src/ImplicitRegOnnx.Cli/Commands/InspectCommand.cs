using System.CommandLine;
using ImplicitRegOnnx.Cli.Inspection;

namespace ImplicitRegOnnx.Cli.Commands;

/// <summary><c>implicitreg inspect MODEL [--json]</c>: what a model holds, as a table or as JSON.</summary>
public static class InspectCommand
{
    public static Command Create(CommandContext context)
    {
        var model = new Argument<string>("MODEL") { Description = "Path of the .onnx model file." };
        var json = new Option<bool>("--json") { Description = "Print JSON (keys: producer, ir_version, opsets, inputs, outputs, parameters, ops)." };
        var command = new Command("inspect", "Show a model's producer, IR version, opsets, inputs and outputs, parameters and op histogram.");
        command.Arguments.Add(model);
        command.Options.Add(json);
        command.SetAction(parsed => ErrorHandling.Guard(context, () =>
            Execute(context, parsed.GetRequiredValue(model), parsed.GetValue(json))));
        return command;
    }

    public static int Execute(CommandContext context, string path, bool json)
    {
        var summary = ModelSummary.Of(ModelFiles.Load(path));
        context.Out.Write(json ? SummaryWriters.ToJson(summary) : SummaryWriters.ToText(summary, path));
        return ExitCodes.Ok;
    }
}
