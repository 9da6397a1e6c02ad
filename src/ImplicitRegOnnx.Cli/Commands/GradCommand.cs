using System.CommandLine;
using System.Globalization;
using ImplicitRegOnnx.Runtime;
using ImplicitRegOnnx.Runtime.Workflows;
using ImplicitRegOnnx.Training;

namespace ImplicitRegOnnx.Cli.Commands;

/// <summary>
/// <c>implicitreg grad MODEL --data BATCH.npz --loss L --out RESULT.npz</c>: the loss, the penalty and
/// both gradients (∇C and ∇(C + c·R)) of one batch (<see cref="BatchGradients"/>).
/// </summary>
internal static class GradCommand
{
    public static Command Create(CommandContext context)
    {
        var model = new Argument<string>("MODEL") { Description = "Path of the .onnx inference model." };
        var data = new Option<string>("--data") { Description = "BATCH.npz: one array per model input, named as the input, plus 'target'.", Required = true };
        var gradientOptions = new GradientOptionSet(withLossOutput: false);
        var device = new Option<string>("--device") { Description = "cpu (default), auto or cuda[:N].", DefaultValueFactory = _ => "cpu" };
        var result = new Option<string>("--out") { Description = "RESULT.npz: loss, penalty, objective, grad/<param>, objective_grad/<param>.", Required = true };

        return CommandFactory.Create(context, "grad", "Compute the loss, the minibatch-gradient penalty and the gradients of one batch.",
            [model, data, .. gradientOptions.Options, device, result], parsed =>
        {
            var (options, _) = gradientOptions.Parse(parsed);
            if (!Device.TryParse(parsed.GetValue(device)!, out var chosen))
            {
                throw ImplicitRegException.BadInput($"--device {parsed.GetValue(device)}: use cpu, auto, cuda or cuda:N");
            }
            var r = BatchGradients.Compute(new BatchGradientOptions
            {
                Model = parsed.GetRequiredValue(model),
                Data = parsed.GetRequiredValue(data),
                Output = parsed.GetRequiredValue(result),
                Gradient = options,
                Device = chosen,
            });
            context.Warn(r.Warnings);
            var penalty = options.Penalty.Mode == PenaltyMode.None ? "no" : OptionNames.NameOf(options.Penalty.Mode);
            context.Out.Write(string.Create(CultureInfo.InvariantCulture,
                $"loss {r.Loss:g8}  penalty {r.Penalty:g8}  objective {r.Objective:g8}  ({r.Parameters} parameters, {penalty} penalty, n = {options.Penalty.Microbatches}, graph built in {r.BuildSeconds:0.00} s)\nwrote {r.Output}\n"));
            return ExitCodes.Ok;
        });
    }
}
