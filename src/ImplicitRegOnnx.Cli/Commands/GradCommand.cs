using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using ImplicitRegOnnx.Autodiff;
using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Onnx.Numpy;
using ImplicitRegOnnx.Runtime;
using ImplicitRegOnnx.Runtime.Verification;
using ImplicitRegOnnx.Training;

namespace ImplicitRegOnnx.Cli.Commands;

/// <summary>
/// <c>implicitreg grad MODEL --data BATCH.npz --loss L --out RESULT.npz</c>: the loss, the penalty and
/// both gradients (∇C and ∇(C + c·R)) of one batch, computed by ONNX Runtime CPU from the gradient graph.
/// </summary>
public static class GradCommand
{
    public static Command Create(CommandContext context)
    {
        var model = new Argument<string>("MODEL") { Description = "Path of the .onnx inference model." };
        var data = new Option<string>("--data") { Description = "BATCH.npz: one array per model input, named as the input, plus 'target'.", Required = true };
        var loss = new Option<string>("--loss") { Description = $"Loss attached to the output: {string.Join(", ", Losses.Names)}.", Required = true };
        var coefficient = new Option<double?>("--coefficient") { Description = "c in C + c·R." };
        var lambda = new Option<double?>("--lambda") { Description = "λ, with c = λ/4 (the paper's ε/m scale)." };
        var microbatches = new Option<int>("--microbatches") { Description = "n: consecutive equal slices of the batch the penalty averages over.", DefaultValueFactory = _ => 1 };
        var penalty = new Option<string>("--penalty") { Description = "exact (double backward), finite-difference or none.", DefaultValueFactory = _ => "exact" };
        var fdStep = new Option<double>("--fd-step") { Description = "h of the finite-difference mode (default 1e-4; larger steps cross ReLU kinks).", DefaultValueFactory = _ => PenaltyOptions.DefaultFiniteDifferenceStep };
        var output = new Option<string?>("--output") { Description = "The model output the loss is attached to (default: the first)." };
        var trainable = new Option<string[]>("--trainable") { Description = "Train only parameters matching these globs (repeatable).", AllowMultipleArgumentsPerToken = false };
        var freeze = new Option<string[]>("--freeze") { Description = "Do not train parameters matching these globs (repeatable).", AllowMultipleArgumentsPerToken = false };
        var result = new Option<string>("--out") { Description = "RESULT.npz: loss, penalty, objective, grad/<param>, objective_grad/<param>.", Required = true };

        var command = new Command("grad", "Compute the loss, the minibatch-gradient penalty and the gradients of one batch.");
        command.Arguments.Add(model);
        foreach (var option in new Option[] { data, loss, coefficient, lambda, microbatches, penalty, fdStep, output, trainable, freeze, result })
        {
            command.Options.Add(option);
        }
        command.SetAction(parsed => ErrorHandling.Guard(context, () =>
        {
            var mode = parsed.GetValue(penalty) switch
            {
                "exact" => PenaltyMode.Exact,
                "finite-difference" or "fd" => PenaltyMode.FiniteDifference,
                "none" => PenaltyMode.None,
                var other => throw CliException.Usage($"--penalty {other}: expected exact, finite-difference or none"),
            };
            var c = Coefficient(parsed.GetValue(coefficient), parsed.GetValue(lambda), mode);
            var lossName = parsed.GetRequiredValue(loss);
            if (!Losses.TryParse(lossName, out var lossKind))
            {
                throw CliException.Usage($"--loss {lossName}: unknown loss; use one of {string.Join(", ", Losses.Names)}");
            }
            var options = new GradientModelOptions
            {
                Loss = lossKind,
                Output = parsed.GetValue(output),
                Trainable = parsed.GetValue(trainable),
                Freeze = parsed.GetValue(freeze),
                Penalty = new PenaltyOptions
                {
                    Mode = mode,
                    Coefficient = c,
                    Microbatches = parsed.GetValue(microbatches),
                    FiniteDifferenceStep = parsed.GetValue(fdStep),
                },
            };
            return Execute(context, parsed.GetRequiredValue(model), parsed.GetRequiredValue(data), parsed.GetRequiredValue(result), options);
        }));
        return command;
    }

    private static string ModeName(PenaltyMode mode) => mode switch
    {
        PenaltyMode.Exact => "exact",
        PenaltyMode.FiniteDifference => "finite-difference",
        _ => "no",
    };

    private static double Coefficient(double? coefficient, double? lambda, PenaltyMode mode)
    {
        if (coefficient is not null && lambda is not null)
        {
            throw CliException.Usage("--coefficient and --lambda both set the penalty's scale; give one of them (c = λ/4)");
        }
        var c = coefficient ?? (lambda is { } l ? PenaltyOptions.CoefficientFromLambda(l) : (double?)null);
        if (c is null)
        {
            if (mode == PenaltyMode.None)
            {
                return 0;
            }
            throw CliException.Usage("the penalty needs a scale: give --coefficient c or --lambda λ (c = λ/4), or --penalty none");
        }
        if (!double.IsFinite(c.Value) || c < 0)
        {
            throw CliException.Usage($"{(coefficient is null ? "--lambda" : "--coefficient")} must be a non-negative number");
        }
        return c.Value;
    }

    public static int Execute(CommandContext context, string modelPath, string dataPath, string resultPath, GradientModelOptions options)
    {
        var inference = ModelFiles.Load(modelPath, context);
        IReadOnlyDictionary<string, Tensor> batch;
        try
        {
            batch = NpzArchive.Read(dataPath);
        }
        catch (Exception e) when (e is NumpyFormatException or IOException or UnauthorizedAccessException or InvalidDataException)
        {
            throw CliException.Usage($"{dataPath}: cannot read the batch ({ErrorHandling.OneLine(e.Message)}); give an .npz file written by numpy.savez", e);
        }
        var watch = Stopwatch.StartNew();
        GradientModel gradient;
        try
        {
            gradient = GradientModelBuilder.Build(inference, options);
        }
        catch (MissingGradientRuleException e)
        {
            throw CliException.Usage($"{modelPath}: {e.Message}", e);
        }
        catch (Exception e) when (e is TrainingSetupException or GradientException)
        {
            throw CliException.Usage($"{modelPath}: {e.Message}", e);
        }
        var buildSeconds = watch.Elapsed.TotalSeconds;
        IReadOnlyDictionary<string, Tensor> outputs;
        try
        {
            outputs = GradientEvaluator.Evaluate(gradient, batch, options.Penalty.Microbatches, dataPath);
        }
        catch (TrainingSetupException e)
        {
            throw CliException.Usage(e.Message, e);
        }
        catch (ModelRunException e)
        {
            throw CliException.Failed($"{modelPath}: {e.Message}", e);
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
            throw CliException.Failed($"{modelPath}: the loss or penalty is not finite (loss {scalars["loss"]}, penalty {scalars["penalty"]}); check the batch values and the coefficient");
        }
        try
        {
            NpzArchive.Write(resultPath, results);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw CliException.Usage($"{resultPath}: cannot write the result ({ErrorHandling.OneLine(e.Message)})", e);
        }
        context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"loss {scalars["loss"]:g8}  penalty {scalars["penalty"]:g8}  objective {scalars["objective"]:g8}  ({gradient.Parameters.Count} parameters, {ModeName(options.Penalty.Mode)} penalty, n = {options.Penalty.Microbatches}, graph built in {buildSeconds:0.00} s)"));
        context.Out.WriteLine($"wrote {resultPath}");
        return ExitCodes.Ok;
    }
}
