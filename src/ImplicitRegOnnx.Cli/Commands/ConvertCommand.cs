using System.CommandLine;
using System.Globalization;
using System.Text;
using ImplicitRegOnnx.Onnx.IO;

namespace ImplicitRegOnnx.Cli.Commands;

/// <summary>
/// <c>implicitreg convert INPUT... --out-dir DIR [rewrite options] [--promote-constants] [--gradcheck]
/// [--report REPORT.json]</c>: the CI step. Each model becomes a training-step model, its initial state
/// and an evaluation model in DIR, or is reported as unsupported (with the op types that cannot be
/// differentiated) or failed (with the reason). Exit 0 when every model is ok, 1 when any is not, 2 for
/// bad usage. The same input and options give byte-identical output files.
/// </summary>
public static class ConvertCommand
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

        var command = new Command("convert", "Convert inference models into training-step models for CI: a report of ok, unsupported and failed models.");
        command.Arguments.Add(inputs);
        command.Options.Add(outDir);
        gradientOptions.AddTo(command);
        stepOptions.AddTo(command);
        foreach (var option in new Option[] { promote, gradcheck })
        {
            command.Options.Add(option);
        }
        checkOptions.AddTo(command);
        command.Options.Add(report);
        command.Options.Add(json);
        command.SetAction(parsed => ErrorHandling.Guard(context, () =>
        {
            var (gradient, lambda) = gradientOptions.Parse(parsed);
            var settings = new ConvertSettings(
                stepOptions.Parse(parsed, gradient, lambda),
                parsed.GetValue(promote),
                checkOptions.Parse(parsed, gradient),
                parsed.GetValue(gradcheck));
            return Execute(context, parsed.GetRequiredValue(inputs), parsed.GetRequiredValue(outDir), settings, parsed.GetValue(report), parsed.GetValue(json));
        }));
        return command;
    }

    public static int Execute(CommandContext context, IReadOnlyList<string> inputs, string outDir, ConvertSettings settings, string? reportPath, bool json)
    {
        ArgumentNullException.ThrowIfNull(settings);
        // Bad option values are usage errors before any model is touched, not a failure of every model.
        settings.Step.Validate();
        if (settings.Gradcheck)
        {
            settings.Check.Validate();
        }
        var jobs = Plan(inputs, outDir, reportPath);
        Directory.CreateDirectory(outDir);
        var results = new List<ConversionResult>();
        foreach (var (input, name) in jobs)
        {
            var result = ModelConversion.Convert(context, input, outDir, name, settings);
            results.Add(result);
            if (!json)
            {
                context.Out.WriteLine(result.ToLine());
            }
        }
        var text = ConversionResult.ToJson(results);
        if (reportPath is not null)
        {
            WriteAtomically(reportPath, text);
        }
        if (json)
        {
            context.Out.Write(text);
        }
        else
        {
            var ok = results.Count(r => r.Status == ConversionStatus.Ok);
            context.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{ok} ok, {results.Count(r => r.Status == ConversionStatus.Unsupported)} unsupported, {results.Count(r => r.Status == ConversionStatus.Failed)} failed"));
        }
        return results.All(r => r.Status == ConversionStatus.Ok) ? ExitCodes.Ok : ExitCodes.Failed;
    }

    /// <summary>Checks the usage before any work: inputs exist, output names do not collide, paths are usable.</summary>
    private static List<(string Input, string Name)> Plan(IReadOnlyList<string> inputs, string outDir, string? reportPath)
    {
        if (string.IsNullOrWhiteSpace(outDir))
        {
            throw ImplicitRegException.BadInput("--out-dir is empty; give the folder to write the converted models to");
        }
        if (File.Exists(outDir))
        {
            throw ImplicitRegException.BadInput($"--out-dir {outDir}: is a file; give a folder");
        }
        if (reportPath is not null && (string.IsNullOrWhiteSpace(reportPath) || Directory.Exists(reportPath)))
        {
            throw ImplicitRegException.BadInput($"--report '{reportPath}': give the path of a .json file to write");
        }
        var jobs = new List<(string, string)>();
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var input in inputs)
        {
            if (Directory.Exists(input))
            {
                throw ImplicitRegException.BadInput($"{input}: is a directory; give the .onnx files inside it (e.g. {Path.Combine(input, "*.onnx")})");
            }
            if (!File.Exists(input))
            {
                throw ImplicitRegException.BadInput($"{input}: file not found; check the path");
            }
            var name = Path.GetFileNameWithoutExtension(input);
            if (names.TryGetValue(name, out var other))
            {
                throw ImplicitRegException.BadInput($"{input} and {other} would both be written as {name}.train.onnx in {outDir}; convert them into different --out-dir folders");
            }
            names[name] = input;
            if (string.Equals(Path.GetFullPath(input), Path.GetFullPath(ModelConversion.OutputPath(outDir, name, ModelConversion.TrainSuffix)), StringComparison.Ordinal)
                || string.Equals(Path.GetFullPath(input), Path.GetFullPath(ModelConversion.OutputPath(outDir, name, ModelConversion.EvalSuffix)), StringComparison.Ordinal))
            {
                throw ImplicitRegException.BadInput($"{input}: converting it into {outDir} would overwrite it; choose another --out-dir");
            }
            jobs.Add((input, name));
        }
        return jobs;
    }

    private static void WriteAtomically(string path, string text)
    {
        try
        {
            AtomicFile.WriteAllText(path, text);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ImplicitRegException)
        {
            throw ImplicitRegException.BadInput($"--report {path}: cannot write the report ({ErrorHandling.OneLine(e.Message)}); choose a writable path", e);
        }
    }
}
