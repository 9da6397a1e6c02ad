using System.CommandLine;
using System.Globalization;
using ImplicitRegOnnx.Runtime.Data;
using ImplicitRegOnnx.Runtime.Training;
using ImplicitRegOnnx.Training;

namespace ImplicitRegOnnx.Cli.Commands;

/// <summary><c>implicitreg eval MODEL --data D</c>: loss (and accuracy, for class labels) of a model on a data set (<see cref="EvaluationWorkflow.EvaluateFromFiles"/>).</summary>
internal static class EvalCommand
{
    public static Command Create(CommandContext context)
    {
        var model = new Argument<string?>("MODEL") { Description = "The .onnx inference model (default: the embedded default model on the embedded digits test split).", Arity = ArgumentArity.ZeroOrOne };
        var data = new Option<string?>("--data") { Description = "Data: .npz with one array per model input, named as the input, plus 'target'; or, for one input, .npz/.npy (x, y), CSV (label column last, or --label-column), IDX." };
        var labelColumn = new Option<string?>("--label-column") { Description = "CSV label column (name or index)." };
        var loss = new Option<string?>("--loss") { Description = "Loss (default: cross-entropy for class labels, mse otherwise)." };
        var normalize = new Option<string>("--normalize") { Description = "none, scale, scale:D, standardize or minmax (as used in training).", DefaultValueFactory = _ => "none" };
        var command = new Command("eval", "Evaluate a model's loss and accuracy on data.");
        command.Arguments.Add(model);
        new Option[] { data, labelColumn, loss, normalize }.ToList().ForEach(command.Options.Add);
        command.SetAction(parsed => ErrorHandling.Guard(context, () =>
        {
            var modelPath = parsed.GetValue(model);
            var options = new EvaluateFromFilesOptions
            {
                ModelPath = modelPath ?? ModelFiles.DefaultModelName,
                DataPath = modelPath is null ? null : parsed.GetValue(data),
                Data = modelPath is null ? DigitsData.LoadEmbedded().Test : null,
                LabelColumn = parsed.GetValue(labelColumn),
                Normalize = parsed.GetValue(normalize)!,
                Loss = parsed.GetValue(loss) is { } name ? OptionNames.ParseLoss(name) : null,
            };
            options.Validate();
            var result = EvaluationWorkflow.EvaluateFromFiles(options with { Model = modelPath is null ? ModelFiles.LoadDefault() : ModelFiles.Load(modelPath, context) });
            context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{result.Examples} examples  loss {result.Loss:0.0000}")
                + (result.Accuracy is { } a ? string.Create(CultureInfo.InvariantCulture, $"  accuracy {a * 100:0.00}%") : ""));
            return ExitCodes.Ok;
        }));
        return command;
    }
}
