using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using ImplicitRegOnnx.Autodiff;
using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Runtime.Verification;
using ImplicitRegOnnx.Training;

namespace ImplicitRegOnnx.Cli.Commands;

/// <summary>
/// <c>implicitreg gradcheck MODEL [--loss L] [--batch N] [--seed S]</c>: the toolkit's gradients of the
/// loss, the penalty and the objective against central differences along random directions, on random
/// inputs of the model's shapes (<see cref="GradientCheck"/>). Exit 0 when the worst relative error is
/// within the threshold, 1 when not.
/// </summary>
public static class GradcheckCommand
{
    public static Command Create(CommandContext context)
    {
        var model = new Argument<string>("MODEL") { Description = "Path of the .onnx inference model." };
        var gradientOptions = new GradientOptionSet(withLossOutput: false, defaultLoss: LossKind.Mse, scaleOptional: true);
        var checkOptions = new GradcheckOptionSet();
        var promote = new Option<bool>("--promote-constants") { Description = "Train weights stored as Constant nodes (floating-point, 2 elements or more) as parameters." };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON." };

        var command = new Command("gradcheck", "Check the gradients of the loss and the penalty against central differences on random inputs.");
        command.Arguments.Add(model);
        gradientOptions.AddTo(command);
        checkOptions.AddTo(command);
        command.Options.Add(promote);
        command.Options.Add(json);
        command.SetAction(parsed => ErrorHandling.Guard(context, () =>
        {
            var (gradient, _) = gradientOptions.Parse(parsed);
            var options = checkOptions.Parse(parsed, gradient);
            return Execute(context, parsed.GetRequiredValue(model), options, parsed.GetValue(promote), parsed.GetValue(json));
        }));
        return command;
    }

    public static int Execute(CommandContext context, string modelPath, GradientCheckOptions options, bool promoteConstants, bool json)
    {
        var inference = ModelFiles.Load(modelPath, context);
        if (promoteConstants)
        {
            ConstantPromotion.Promote(inference);
        }
        ModelPreparation.InitializerInputsAsWeights(inference);
        ModelPreparation.FixSymbolicDims(inference, options.Dims);
        GradientCheckResult result;
        try
        {
            result = GradientCheck.Run(inference, GradcheckOptionSet.WithDefaultOutput(options, inference));
        }
        catch (Exception e) when (e is TrainingSetupException or GradientException or FeedException)
        {
            throw CliException.Usage($"{modelPath}: {e.Message}", e);
        }
        catch (ModelRunException e)
        {
            throw CliException.Failed($"{modelPath}: {e.Message}", e);
        }
        context.Out.Write(json ? ToJson(modelPath, result) : ToText(modelPath, options, result));
        return result.Passed ? ExitCodes.Ok : ExitCodes.Failed;
    }

    private static string ToText(string modelPath, GradientCheckOptions options, GradientCheckResult result)
    {
        var text = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        text.Append(c, $"{modelPath}: {result.Parameters} parameter tensors ({result.ParameterElements:N0} elements), {options.Directions} random directions, batch {options.Batch}, seed {options.Seed}\n");
        foreach (var d in result.Derivatives)
        {
            text.Append(c, $"  {d.Quantity,-9} direction {d.Direction}: numeric {d.Numeric,13:0.000000e0}  analytic {d.Analytic,13:0.000000e0}  step {d.Step:0.0e0}  relative error {d.RelativeError:0.0e0}{(d.Smooth ? "" : "  (not smooth at any step: not counted)")}\n");
        }
        if (result.Unchecked.Count > 0)
        {
            text.Append(c, $"unchecked: {string.Join(", ", result.Unchecked)} (not smooth along any direction at float32 step sizes, e.g. ReLU or max-pool activation changes)\n");
        }
        text.Append(c, $"worst relative error {result.MaxError:0.0e0} (threshold {result.Threshold:0.0e0}): {(result.Passed ? "passed" : "FAILED")}\n");
        return text.ToString();
    }

    private static string ToJson(string modelPath, GradientCheckResult result)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("model", modelPath);
            w.WriteBoolean("passed", result.Passed);
            GradcheckOptionSet.WriteNumber(w, "max_error", result.MaxError);
            w.WriteNumber("threshold", result.Threshold);
            w.WriteStartArray("unchecked");
            foreach (var q in result.Unchecked)
            {
                w.WriteStringValue(q);
            }
            w.WriteEndArray();
            w.WriteNumber("parameters", result.ParameterElements);
            w.WriteNumber("parameter_tensors", result.Parameters);
            w.WriteStartArray("derivatives");
            foreach (var d in result.Derivatives)
            {
                w.WriteStartObject();
                w.WriteString("quantity", d.Quantity);
                w.WriteNumber("direction", d.Direction);
                GradcheckOptionSet.WriteNumber(w, "numeric", d.Numeric);
                GradcheckOptionSet.WriteNumber(w, "analytic", d.Analytic);
                GradcheckOptionSet.WriteNumber(w, "relative_error", d.RelativeError);
                w.WriteNumber("step", d.Step);
                w.WriteBoolean("smooth", d.Smooth);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }
}

/// <summary>The options of a gradient check (batch, seed, directions, sizes of symbolic dims), shared by <c>gradcheck</c> and <c>convert --gradcheck</c>.</summary>
public sealed class GradcheckOptionSet
{
    private readonly Option<long> _batch = new("--batch") { Description = "Batch size of the random inputs (first dim when symbolic or unknown).", DefaultValueFactory = _ => 2 };
    private readonly Option<int> _seed = new("--seed") { Description = "Seed of the random inputs, targets and directions.", DefaultValueFactory = _ => 1234 };
    private readonly Option<int> _directions = new("--directions") { Description = "Number of random directions checked.", DefaultValueFactory = _ => 3 };
    private readonly Option<string[]> _dims = new("--dim")
    {
        Description = "Size of a symbolic input dimension, NAME=SIZE (repeatable): fixed in the model except on axis 0 (the batch), and used for random inputs ('*=SIZE' sets the default, 2).",
        AllowMultipleArgumentsPerToken = false,
    };

    public void AddTo(Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        foreach (var option in new Option[] { _batch, _seed, _directions, _dims })
        {
            command.Options.Add(option);
        }
    }

    public GradientCheckOptions Parse(ParseResult parsed, GradientModelOptions gradient)
    {
        ArgumentNullException.ThrowIfNull(parsed);
        var batch = parsed.GetValue(_batch);
        if (batch < 1)
        {
            throw CliException.Usage($"--batch must be at least 1, not {batch}");
        }
        if (batch % gradient.Penalty.Microbatches != 0)
        {
            throw CliException.Usage($"--batch {batch} is not divisible by --microbatches {gradient.Penalty.Microbatches}");
        }
        var directions = parsed.GetValue(_directions);
        if (directions < 1)
        {
            throw CliException.Usage($"--directions must be at least 1, not {directions}");
        }
        var feeds = OptimizeCommand.ParseDims(parsed.GetValue(_dims) ?? [], [], parsed.GetValue(_seed));
        return new GradientCheckOptions
        {
            Gradient = gradient,
            Batch = batch,
            Seed = feeds.Seed,
            Dims = feeds.Dims,
            DefaultDim = feeds.DefaultDim,
            Directions = directions,
        };
    }

    /// <summary>Without --output (or --loss-output), the loss goes on the first floating-point output.</summary>
    public static GradientCheckOptions WithDefaultOutput(GradientCheckOptions options, Model model)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options with { Gradient = WithDefaultOutput(options.Gradient, model) };
    }

    /// <summary>Without --output (or --loss-output), the loss goes on the first floating-point output.</summary>
    public static GradientModelOptions WithDefaultOutput(GradientModelOptions options, Model model)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(model);
        if (options.Output is not null || options.LossOutput is not null)
        {
            return options;
        }
        return UnsupportedOperators.TrainableOutputs(model.Graph) is [var first, ..] ? options with { Output = first.Name } : options;
    }

    /// <summary>Writes a number, or null when it is NaN or infinite (JSON has no such numbers).</summary>
    public static void WriteNumber(Utf8JsonWriter writer, string name, double value)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (double.IsFinite(value))
        {
            writer.WriteNumber(name, value);
        }
        else
        {
            writer.WriteNull(name);
        }
    }
}
