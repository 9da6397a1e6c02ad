using System.CommandLine;
using System.Globalization;
using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Runtime;
using ImplicitRegOnnx.Runtime.Data;
using ImplicitRegOnnx.Training;

namespace ImplicitRegOnnx.Cli.Commands;

/// <summary><c>implicitreg eval MODEL --data D</c>: loss (and accuracy, for class labels) of a model on a data set.</summary>
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
        command.Options.Add(data);
        command.Options.Add(labelColumn);
        command.Options.Add(loss);
        command.Options.Add(normalize);
        command.SetAction(parsed => ErrorHandling.Guard(context, () =>
        {
            var modelPath = parsed.GetValue(model);
            var dataPath = parsed.GetValue(data);
            if (modelPath is not null && dataPath is null)
            {
                throw ImplicitRegException.BadInput("--data is required with a MODEL");
            }
            var inference = modelPath is null ? ModelFiles.LoadDefault() : ModelFiles.Load(modelPath, context);
            Dataset dataset;
            if (dataPath is null)
            {
                using var stream = typeof(EvalCommand).Assembly.GetManifestResourceStream("ImplicitRegOnnx.Cli.Digits.csv.gz")!;
                dataset = DigitsData.Load(stream, "embedded digits data").Test;
            }
            else
            {
                dataset = DataFiles.LoadTrainTest(dataPath, null, DataInput.Of(inference), parsed.GetValue(normalize)!,
                    new DataLoadOptions { LabelColumn = parsed.GetValue(labelColumn) }).Train;
            }
            var lossName = parsed.GetValue(loss) ?? (dataset.HasClassLabels ? "cross-entropy" : "mse");
            if (!Losses.TryParse(lossName, out var kind))
            {
                throw ImplicitRegException.BadInput($"--loss {lossName}: use one of {string.Join(", ", Losses.Names)}");
            }
            var result = ErrorHandling.About(modelPath ?? ModelFiles.DefaultModelName, () =>
                ModelEvaluation.Run(inference, dataset, new GradientModelOptions { Loss = kind, Penalty = new PenaltyOptions { Mode = PenaltyMode.None } }));
            var line = string.Create(CultureInfo.InvariantCulture, $"{result.Examples} examples  loss {result.Loss:0.0000}");
            if (result.Accuracy is { } a)
            {
                line += string.Create(CultureInfo.InvariantCulture, $"  accuracy {a * 100:0.00}%");
            }
            context.Out.WriteLine(line);
            return ExitCodes.Ok;
        }));
        return command;
    }
}
