using System.CommandLine;
using System.Globalization;
using ImplicitRegOnnx.Onnx.IO;
using ImplicitRegOnnx.Runtime.Workflows;
using ImplicitRegOnnx.Training;

namespace ImplicitRegOnnx.Cli.Commands;

/// <summary>
/// <c>implicitreg convert INPUT... --out-dir DIR [rewrite options] [--promote-constants] [--gradcheck]
/// [--report REPORT.json]</c>: the CI step (<see cref="ModelConversion"/>). Exit 0 when every model is ok,
/// 1 when any is not, 2 for bad usage.
/// </summary>
internal static class ConvertCommand
{
    public static Command Create(CommandContext context)
    {
        var inputs = new Argument<string[]>("INPUT") { Description = "The .onnx inference models to convert.", Arity = ArgumentArity.OneOrMore };
        var outDir = new Option<string>("--out-dir") { Description = "Folder for NAME.train.onnx, NAME.init.onnx and NAME.eval.onnx (created if missing).", Required = true };
        var gradientOptions = new GradientOptionSet(withLossOutput: true);
        var stepOptions = new StepOptionSet();
        var promote = new Option<bool>("--promote-constants") { Description = "Train weights stored as Constant nodes (floating-point, 2 elements or more) as parameters." };
        var gradcheck = new Option<bool>("--gradcheck") { Description = "Check each model's gradients against central differences on random inputs; a failed check makes the model failed." };
        var checkOptions = new GradcheckOptionSet();
        var report = new Option<string?>("--report") { Description = "Write the JSON report to this file (it is always printed with --json)." };
        var json = new Option<bool>("--json") { Description = "Print the JSON report instead of one line per model." };

        return CommandFactory.Create(context, "convert", "Convert inference models into training-step models for CI: a report of ok, unsupported and failed models.",
            [inputs, outDir, .. gradientOptions.Options, .. stepOptions.Options, promote, gradcheck, .. checkOptions.Options, report, json], parsed =>
        {
            var (gradient, lambda) = gradientOptions.Parse(parsed);
            var options = new ConvertOptions
            {
                Inputs = parsed.GetRequiredValue(inputs),
                OutputDirectory = parsed.GetRequiredValue(outDir),
                Step = stepOptions.Parse(parsed, gradient, lambda),
                PromoteConstants = parsed.GetValue(promote),
                Check = checkOptions.Parse(parsed, gradient),
                Gradcheck = parsed.GetValue(gradcheck),
            };
            return Execute(context, options, parsed.GetValue(report), parsed.GetValue(json));
        });
    }

    private static int Execute(CommandContext context, ConvertOptions options, string? reportPath, bool json)
    {
        if (reportPath is not null && (string.IsNullOrWhiteSpace(reportPath) || Directory.Exists(reportPath)))
        {
            throw ImplicitRegException.BadInput($"--report '{reportPath}': give the path of a .json file to write");
        }
        var shown = new List<ConversionResult>();
        ModelConversion.Convert(options, result =>
        {
            context.Warn(result.Warnings);
            shown.Add(Shown(context, result));
            if (!json)
            {
                context.Out.WriteLine(ToLine(shown[^1]));
            }
        });
        var all = new ConversionReport(shown);
        var text = ToJson(all);
        if (reportPath is not null)
        {
            try
            {
                AtomicFile.WriteAllText(reportPath, text);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ImplicitRegException)
            {
                throw ImplicitRegException.BadInput($"--report {reportPath}: cannot write the report ({ErrorHandling.OneLine(e.Message)}); choose a writable path", e);
            }
        }
        context.Out.Write(json ? text : string.Create(CultureInfo.InvariantCulture,
            $"{all.Count(ConversionStatus.Ok)} ok, {all.Count(ConversionStatus.Unsupported)} unsupported, {all.Count(ConversionStatus.Failed)} failed\n"));
        return all.AllOk ? ExitCodes.Ok : ExitCodes.Failed;
    }

    /// <summary>A result as the tool shows it: errors of the libraries with this command's option names.</summary>
    internal static ConversionResult Shown(CommandContext context, ConversionResult result) =>
        result.Error is ImplicitRegException ? result with { Message = ErrorHandling.OneLine(FlagNames.Apply(result.Message, context.Command)) } : result;

    private static string ToLine(ConversionResult r) => string.Create(CultureInfo.InvariantCulture,
        $"{r.Status switch { ConversionStatus.Ok => "ok", ConversionStatus.Unsupported => "unsupported", _ => "failed" }}: {r.Input}{(r.Output is null ? "" : " -> " + r.Output)} ({ErrorHandling.OneLine(r.Message)}; {r.Seconds:0.00} s)");

    /// <summary>The report: <c>{"tool_version": ..., "models": [...]}</c>, entries in input order.</summary>
    internal static string ToJson(ConversionReport report) => JsonOutput.Serialize(new Report(StepModelBuilder.ToolkitVersion, [.. report.Models.Select(r =>
        new Entry(r.Input, r.Output, r.Init, r.Eval, r.Status, r.UnsupportedOps, r.Message, r.Parameters, r.ParameterTensors, r.Nodes, Math.Round(r.Seconds, 3),
            r.Gradcheck is null ? null : GradcheckVerdict.Of(r.Gradcheck)))]));

    private sealed record Report(string ToolVersion, IReadOnlyList<Entry> Models);

    private sealed record Entry(string Input, string? Output, string? Init, string? Eval, ConversionStatus Status, IReadOnlyList<string> UnsupportedOps, string Message,
        long Parameters, int ParameterTensors, int Nodes, double Seconds, GradcheckVerdict? Gradcheck);
}
