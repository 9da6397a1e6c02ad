using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Runtime.Workflows;
using ImplicitRegOnnx.Training;

namespace ImplicitRegOnnx.Cli.Commands;

/// <summary>
/// <c>implicitreg rewrite MODEL -o TRAIN.onnx --loss L ...</c>: one ordinary ONNX model that performs a
/// whole training step (forward, loss, penalty, gradient, optimizer update), plus the model of its
/// initial state and, on request, an evaluation model. With <c>--gradients-out</c> the step model outputs
/// the objective gradients instead of updating, and TRAIN.apply.onnx beside it applies the update.
/// </summary>
internal static class RewriteCommand
{
    public static Command Create(CommandContext context)
    {
        var model = new Argument<string>("MODEL") { Description = "Path of the .onnx inference model." };
        var output = new Option<string>("--output-model", "-o") { Description = "Where to write the training-step model.", Required = true };
        var gradientOptions = new GradientOptionSet(withLossOutput: true);
        var stepOptions = new StepOptionSet();
        var evalOut = new Option<string?>("--eval-out") { Description = "Also write an evaluation model (inputs: model inputs, target, parameters; outputs: loss and the original outputs)." };
        var initOut = new Option<string?>("--init-out") { Description = "Where to write the initial-state model (default: TRAIN.init.onnx next to the step model)." };
        var json = new Option<bool>("--json") { Description = "Print the report as JSON." };
        var coefficientInput = new Option<string>("--penalty-coefficient-input")
        {
            Description = "How the step model declares penalty_coefficient: 'overridable' (default: an input whose initializer holds the built-in coefficient) or 'required' (a plain input every run feeds, for clients such as onnxruntime-node that cannot feed inputs with a default).",
            DefaultValueFactory = _ => "overridable",
        };
        coefficientInput.AcceptOnlyFromAmong("overridable", "required");
        var gradientsOut = new Option<bool>("--gradients-out") { Description = "Write the gradients-out form: the step model outputs P.grad (the objective gradient) per parameter instead of updating, and TRAIN.apply.onnx takes them and applies the optimizer." };

        var command = new Command("rewrite", "Rewrite an inference model into a training-step model with the minibatch-gradient penalty and an optimizer update.");
        command.Arguments.Add(model);
        command.Options.Add(output);
        gradientOptions.AddTo(command);
        stepOptions.AddTo(command);
        foreach (var option in new Option[] { evalOut, initOut, gradientsOut, coefficientInput, json })
        {
            command.Options.Add(option);
        }
        command.SetAction(parsed => ErrorHandling.Guard(context, () =>
        {
            var (gradient, lambda) = gradientOptions.Parse(parsed);
            var options = stepOptions.Parse(parsed, gradient, lambda) with
            {
                Form = parsed.GetValue(gradientsOut) ? StepModelForm.GradientsOut : StepModelForm.Fused,
                PenaltyCoefficientInput = parsed.GetValue(coefficientInput) == "required" ? PenaltyCoefficientInput.Required : PenaltyCoefficientInput.Overridable,
            };
            return Execute(context, parsed.GetRequiredValue(model), parsed.GetRequiredValue(output), parsed.GetValue(evalOut), parsed.GetValue(initOut), options, parsed.GetValue(json));
        }));
        return command;
    }

    public static int Execute(CommandContext context, string modelPath, string outputPath, string? evalPath, string? initPath, StepModelOptions options, bool json)
    {
        initPath ??= BesideStepModel(outputPath, ".init.onnx");
        var applyPath = options.Form == StepModelForm.GradientsOut ? BesideStepModel(outputPath, ".apply.onnx") : null;
        foreach (var path in new[] { outputPath, evalPath, initPath, applyPath }.OfType<string>())
        {
            OutputPaths.Check(modelPath, path);
        }
        var inference = ModelFiles.Load(modelPath, context);
        var watch = Stopwatch.StartNew();
        var (step, eval) = ErrorHandling.About(modelPath, () =>
            (StepModelBuilder.Build(inference, options), evalPath is null ? null : EvalModelBuilder.Build(inference, options.Gradient, options.ConstantEvaluator)));
        var seconds = watch.Elapsed.TotalSeconds;
        OutputPaths.Save(step.Model, outputPath);
        OutputPaths.Save(ModelExport.InitialStateModel(step), initPath);
        if (step.ApplyUpdate is not null)
        {
            OutputPaths.Save(step.ApplyUpdate, applyPath!);
        }
        if (eval is not null)
        {
            OutputPaths.Save(eval, evalPath!);
        }

        var report = new RewriteReport(modelPath, outputPath, initPath, evalPath, applyPath, step.ForwardNodes, step.StepNodes, step.Parameters.Count,
            step.Parameters.Sum(p => step.InitialState[p].ElementCount), seconds);
        context.Out.Write(json ? report.ToJson() : report.ToText());
        return ExitCodes.Ok;
    }

    private static string BesideStepModel(string outputPath, string suffix) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(outputPath))!, Path.GetFileNameWithoutExtension(outputPath) + suffix);

    private sealed record RewriteReport(string Input, string Output, string Init, string? Eval, string? Apply, int ForwardNodes, int StepNodes, int Parameters, long ParameterElements, double Seconds)
    {
        public string ToText() => string.Create(CultureInfo.InvariantCulture,
            $"{Input} -> {Output}\nforward nodes: {ForwardNodes}, step nodes: {StepNodes}\ntrainable parameters: {Parameters} tensors, {ParameterElements:N0} elements\nbuilt in {Seconds:0.00} s\ninitial state: {Init}\n{(Eval is null ? "" : $"evaluation model: {Eval}\n")}{(Apply is null ? "" : $"apply-update model: {Apply}\n")}");

        public string ToJson()
        {
            using var buffer = new MemoryStream();
            using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            {
                w.WriteStartObject();
                w.WriteString("input", Input);
                w.WriteString("output", Output);
                w.WriteString("init", Init);
                if (Eval is null)
                {
                    w.WriteNull("eval");
                }
                else
                {
                    w.WriteString("eval", Eval);
                }
                if (Apply is not null)
                {
                    w.WriteString("apply", Apply);
                }
                w.WriteNumber("forward_nodes", ForwardNodes);
                w.WriteNumber("step_nodes", StepNodes);
                w.WriteNumber("parameters", Parameters);
                w.WriteNumber("parameter_elements", ParameterElements);
                w.WriteNumber("seconds", Math.Round(Seconds, 3));
                w.WriteEndObject();
            }
            return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
        }
    }
}

/// <summary>Checks and writes output models: never over the input, folders created, written atomically.</summary>
internal static class OutputPaths
{
    public static void Check(string input, string output)
    {
        if (string.IsNullOrWhiteSpace(output))
        {
            throw ImplicitRegException.BadInput("an output path is empty; give the path of the .onnx file to write");
        }
        var full = Path.GetFullPath(output);
        if (string.Equals(Path.GetFullPath(input), full, StringComparison.Ordinal))
        {
            throw ImplicitRegException.BadInput($"{output}: is the input model; write to another path");
        }
        if (Directory.Exists(full))
        {
            throw ImplicitRegException.BadInput($"{output}: is a directory; give a file path inside it");
        }
        var folder = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(folder))
        {
            throw ImplicitRegException.BadInput($"{output}: the folder {folder} does not exist; create it first");
        }
    }

    public static void Save(Model model, string output) => WorkflowFiles.Save(model, output);
}
