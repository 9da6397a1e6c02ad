using System.CommandLine;
using System.Globalization;
using System.Text.Json.Serialization;
using ImplicitRegOnnx.Runtime.Workflows;
using ImplicitRegOnnx.Training;

namespace ImplicitRegOnnx.Cli.Commands;

/// <summary>
/// <c>implicitreg rewrite MODEL -o TRAIN.onnx --loss L ...</c>: one ordinary ONNX model that performs a
/// whole training step (forward, loss, penalty, gradient, optimizer update), plus the model of its
/// initial state and, on request, an evaluation model (<see cref="ModelRewrite"/>). With <c>--gradients-out</c>
/// the step model outputs the objective gradients instead of updating, and TRAIN.apply.onnx beside it applies the update.
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

        return CommandFactory.Create(context, "rewrite", "Rewrite an inference model into a training-step model with the minibatch-gradient penalty and an optimizer update.",
            [model, output, .. gradientOptions.Options, .. stepOptions.Options, evalOut, initOut, gradientsOut, coefficientInput, json], parsed =>
        {
            var (gradient, lambda) = gradientOptions.Parse(parsed);
            var result = ModelRewrite.Rewrite(new RewriteOptions
            {
                Input = parsed.GetRequiredValue(model),
                Output = parsed.GetRequiredValue(output),
                EvalOutput = parsed.GetValue(evalOut),
                InitOutput = parsed.GetValue(initOut),
                Step = stepOptions.Parse(parsed, gradient, lambda) with
                {
                    Form = parsed.GetValue(gradientsOut) ? StepModelForm.GradientsOut : StepModelForm.Fused,
                    PenaltyCoefficientInput = parsed.GetValue(coefficientInput) == "required" ? PenaltyCoefficientInput.Required : PenaltyCoefficientInput.Overridable,
                },
            });
            context.Warn(result.Warnings);
            context.Out.Write(parsed.GetValue(json) ? ToJson(result) : ToText(result));
            return ExitCodes.Ok;
        });
    }

    private static string ToText(RewriteResult r) => string.Create(CultureInfo.InvariantCulture,
        $"{r.Input} -> {r.Output}\nforward nodes: {r.ForwardNodes}, step nodes: {r.StepNodes}\ntrainable parameters: {r.Parameters} tensors, {r.ParameterElements:N0} elements\nbuilt in {r.Seconds:0.00} s\ninitial state: {r.Init}\n{(r.Eval is null ? "" : $"evaluation model: {r.Eval}\n")}{(r.Apply is null ? "" : $"apply-update model: {r.Apply}\n")}");

    private static string ToJson(RewriteResult r) => JsonOutput.Serialize(
        new Report(r.Input, r.Output, r.Init, r.Eval, r.Apply, r.ForwardNodes, r.StepNodes, r.Parameters, r.ParameterElements, Math.Round(r.Seconds, 3)));

    private sealed record Report(string Input, string Output, string Init, string? Eval,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Apply,
        int ForwardNodes, int StepNodes, int Parameters, long ParameterElements, double Seconds);
}
