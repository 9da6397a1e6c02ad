using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Onnx.Numpy;
using ImplicitRegOnnx.Runtime;
using ImplicitRegOnnx.Training;

namespace ImplicitRegOnnx.Cli.Commands;

/// <summary>
/// <c>implicitreg grad MODEL --data BATCH.npz --loss L --out RESULT.npz</c>: the loss, the penalty and
/// both gradients (∇C and ∇(C + c·R)) of one batch, computed by ONNX Runtime CPU from the gradient graph.
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

        var command = new Command("grad", "Compute the loss, the minibatch-gradient penalty and the gradients of one batch.");
        command.Arguments.Add(model);
        command.Options.Add(data);
        gradientOptions.AddTo(command);
        command.Options.Add(device);
        command.Options.Add(result);
        command.SetAction(parsed => ErrorHandling.Guard(context, () =>
        {
            var (options, _) = gradientOptions.Parse(parsed);
            if (!Device.TryParse(parsed.GetValue(device)!, out var chosen))
            {
                throw ImplicitRegException.BadInput($"--device {parsed.GetValue(device)}: use cpu, auto, cuda or cuda:N");
            }
            return Execute(context, parsed.GetRequiredValue(model), parsed.GetRequiredValue(data), parsed.GetRequiredValue(result), options, chosen);
        }));
        return command;
    }

    public static int Execute(CommandContext context, string modelPath, string dataPath, string resultPath, GradientModelOptions options, Device? device = null)
    {
        var inference = ModelFiles.Load(modelPath, context);
        var batch = ModelFiles.ReadNpz(dataPath);
        var watch = Stopwatch.StartNew();
        var gradient = ErrorHandling.About(modelPath, () => GradientModelBuilder.Build(inference, options));
        var buildSeconds = watch.Elapsed.TotalSeconds;
        IReadOnlyDictionary<string, Tensor> outputs;
        try
        {
            outputs = GradientEvaluator.Evaluate(gradient, batch, options.Penalty.Microbatches, dataPath, device);
        }
        catch (ImplicitRegException e) when (e.Kind == ErrorKind.Failed)
        {
            // ONNX Runtime refused the gradient graph of the model; errors of the batch name the batch file already.
            throw e.Within(modelPath);
        }
        var results = new List<KeyValuePair<string, Tensor>>();
        foreach (var (name, tensor) in outputs)
        {
            // Scalars are written in float64, like the reference cases computed by PyTorch.
            var value = tensor.Dims.Length == 0 ? Tensor.Scalar(tensor.ToDoubles()[0], name) : tensor.WithName(name);
            results.Add(new(name, value));
        }
        var scalars = results.Where(r => r.Value.Dims.Length == 0).ToDictionary(r => r.Key, r => r.Value.ToDoubles()[0]);
        if (scalars.Values.Any(v => !double.IsFinite(v)))
        {
            throw ImplicitRegException.Failed($"{modelPath}: the loss or penalty is not finite (loss {scalars["loss"]}, penalty {scalars["penalty"]}); check the batch values and the coefficient");
        }
        try
        {
            NpzArchive.Write(resultPath, results);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw ImplicitRegException.BadInput($"{resultPath}: cannot write the result ({ErrorHandling.OneLine(e.Message)})", e);
        }
        context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"loss {scalars["loss"]:g8}  penalty {scalars["penalty"]:g8}  objective {scalars["objective"]:g8}  ({gradient.Parameters.Count} parameters, {(options.Penalty.Mode == PenaltyMode.None ? "no" : options.Penalty.Mode.Name())} penalty, n = {options.Penalty.Microbatches}, graph built in {buildSeconds:0.00} s)"));
        context.Out.WriteLine($"wrote {resultPath}");
        return ExitCodes.Ok;
    }
}
