using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using ImplicitRegOnnx.Autodiff;
using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Onnx.Serialization;
using ImplicitRegOnnx.Runtime.Verification;
using ImplicitRegOnnx.Training;

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
            throw CliException.Usage("--out-dir is empty; give the folder to write the converted models to");
        }
        if (File.Exists(outDir))
        {
            throw CliException.Usage($"--out-dir {outDir}: is a file; give a folder");
        }
        if (reportPath is not null && (string.IsNullOrWhiteSpace(reportPath) || Directory.Exists(reportPath)))
        {
            throw CliException.Usage($"--report '{reportPath}': give the path of a .json file to write");
        }
        var jobs = new List<(string, string)>();
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var input in inputs)
        {
            if (Directory.Exists(input))
            {
                throw CliException.Usage($"{input}: is a directory; give the .onnx files inside it (e.g. {Path.Combine(input, "*.onnx")})");
            }
            if (!File.Exists(input))
            {
                throw CliException.Usage($"{input}: file not found; check the path");
            }
            var name = Path.GetFileNameWithoutExtension(input);
            if (names.TryGetValue(name, out var other))
            {
                throw CliException.Usage($"{input} and {other} would both be written as {name}.train.onnx in {outDir}; convert them into different --out-dir folders");
            }
            names[name] = input;
            if (string.Equals(Path.GetFullPath(input), Path.GetFullPath(ModelConversion.OutputPath(outDir, name, ModelConversion.TrainSuffix)), StringComparison.Ordinal)
                || string.Equals(Path.GetFullPath(input), Path.GetFullPath(ModelConversion.OutputPath(outDir, name, ModelConversion.EvalSuffix)), StringComparison.Ordinal))
            {
                throw CliException.Usage($"{input}: converting it into {outDir} would overwrite it; choose another --out-dir");
            }
            jobs.Add((input, name));
        }
        return jobs;
    }

    private static void WriteAtomically(string path, string text)
    {
        var full = Path.GetFullPath(path);
        var temp = full + ".tmp";
        try
        {
            File.WriteAllText(temp, text, new UTF8Encoding(false));
            File.Move(temp, full, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw CliException.Usage($"--report {path}: cannot write the report ({ErrorHandling.OneLine(e.Message)}); choose a writable path", e);
        }
    }
}

/// <summary>How <c>convert</c> treats every model.</summary>
/// <param name="Step">The step model's options (as <c>rewrite</c>'s).</param>
/// <param name="PromoteConstants">Promote weight-holding Constant nodes to parameters first.</param>
/// <param name="Check">Sizes of symbolic dimensions (fixed in the model, except the batch axis) and the gradient check's options.</param>
/// <param name="Gradcheck">Run the gradient check.</param>
public sealed record ConvertSettings(StepModelOptions Step, bool PromoteConstants, GradientCheckOptions Check, bool Gradcheck);

/// <summary>The outcome of one model in a conversion report.</summary>
public enum ConversionStatus
{
    /// <summary>Converted (and, with --gradcheck, its gradients checked).</summary>
    Ok,

    /// <summary>Operators on the path to the parameters have no gradient rule.</summary>
    Unsupported,

    /// <summary>Anything else went wrong; the message says what.</summary>
    Failed,
}

/// <summary>One entry of the report's <c>models</c> list.</summary>
public sealed record ConversionResult(string Input, string? Output, string? Init, string? Eval, ConversionStatus Status, IReadOnlyList<string> UnsupportedOps,
    string Message, long Parameters, int ParameterTensors, int Nodes, double Seconds, GradientCheckResult? Gradcheck)
{
    public static string StatusName(ConversionStatus status) => status switch
    {
        ConversionStatus.Ok => "ok",
        ConversionStatus.Unsupported => "unsupported",
        _ => "failed",
    };

    public string ToLine() => string.Create(CultureInfo.InvariantCulture,
        $"{StatusName(Status)}: {Input}{(Output is null ? "" : " -> " + Output)} ({Message}; {Seconds:0.00} s)");

    /// <summary>The report: <c>{"models": [...]}</c>, entries in input order.</summary>
    public static string ToJson(IReadOnlyList<ConversionResult> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("tool_version", StepModelBuilder.ToolkitVersion);
            w.WriteStartArray("models");
            foreach (var r in results)
            {
                w.WriteStartObject();
                w.WriteString("input", r.Input);
                WriteStringOrNull(w, "output", r.Output);
                WriteStringOrNull(w, "init", r.Init);
                WriteStringOrNull(w, "eval", r.Eval);
                w.WriteString("status", StatusName(r.Status));
                w.WriteStartArray("unsupported_ops");
                foreach (var op in r.UnsupportedOps)
                {
                    w.WriteStringValue(op);
                }
                w.WriteEndArray();
                w.WriteString("message", r.Message);
                w.WriteNumber("parameters", r.Parameters);
                w.WriteNumber("parameter_tensors", r.ParameterTensors);
                w.WriteNumber("nodes", r.Nodes);
                w.WriteNumber("seconds", Math.Round(r.Seconds, 3));
                if (r.Gradcheck is { } check)
                {
                    w.WriteStartObject("gradcheck");
                    w.WriteBoolean("passed", check.Passed);
                    GradcheckOptionSet.WriteNumber(w, "max_error", check.MaxError);
                    w.WriteNumber("threshold", check.Threshold);
                    w.WriteStartArray("unchecked");
                    foreach (var q in check.Unchecked)
                    {
                        w.WriteStringValue(q);
                    }
                    w.WriteEndArray();
                    w.WriteEndObject();
                }
                else
                {
                    w.WriteNull("gradcheck");
                }
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    private static void WriteStringOrNull(Utf8JsonWriter w, string name, string? value)
    {
        if (value is null)
        {
            w.WriteNull(name);
        }
        else
        {
            w.WriteString(name, value);
        }
    }
}

/// <summary>Converts one model for <c>convert</c>: never throws for a problem of the model, which becomes the result's status and message.</summary>
public static class ModelConversion
{
    public const string TrainSuffix = ".train.onnx", InitSuffix = ".init.onnx", EvalSuffix = ".eval.onnx";

    public static string OutputPath(string outDir, string name, string suffix) => Path.Combine(outDir, name + suffix);

    public static ConversionResult Convert(CommandContext context, string input, string outDir, string name, ConvertSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var watch = Stopwatch.StartNew();
        ConversionResult Result(ConversionStatus status, string message, IReadOnlyList<string>? ops = null) =>
            new(input, null, null, null, status, ops ?? [], message, 0, 0, 0, watch.Elapsed.TotalSeconds, null);
        Model model;
        try
        {
            model = ModelFiles.Load(input, context);
        }
        catch (CliException e)
        {
            return Result(ConversionStatus.Failed, e.Message);
        }
        try
        {
            var promoted = settings.PromoteConstants ? ConstantPromotion.Promote(model) : 0;
            ModelPreparation.InitializerInputsAsWeights(model);
            ModelPreparation.FixSymbolicDims(model, settings.Check.Dims);
            var gradient = GradcheckOptionSet.WithDefaultOutput(settings.Step.Gradient, model);
            var checkedOutputs = CheckedOutputs(model, settings.Step.Gradient);
            var unsupported = UnsupportedOperators.Find(model.Graph, checkedOutputs);
            if (unsupported.Count > 0)
            {
                return Result(ConversionStatus.Unsupported, $"no gradient rule for {string.Join(", ", unsupported)}; these operators cannot be trained", unsupported);
            }
            var options = settings.Step with { Gradient = gradient };
            var step = StepModelBuilder.Build(model, options);
            var eval = EvalModelBuilder.Build(model, gradient);
            var (train, init, evalPath) = (OutputPath(outDir, name, TrainSuffix), OutputPath(outDir, name, InitSuffix), OutputPath(outDir, name, EvalSuffix));
            var save = HasExternalData(model)
                ? new ModelSaveOptions { ExternalData = ExternalDataPolicy.AllExternal }
                : null;
            step.Model.Save(train, save);
            ModelExport.InitialStateModel(step).Save(init, save);
            eval.Save(evalPath, save);

            GradientCheckResult? check = null;
            if (settings.Gradcheck)
            {
                check = GradientCheck.Run(model, settings.Check with { Gradient = gradient });
            }
            var elements = step.Parameters.Sum(p => step.InitialState[p].ElementCount);
            var message = $"{step.Parameters.Count} parameter tensors ({elements.ToString("N0", CultureInfo.InvariantCulture)} elements), loss on '{gradient.LossOutput ?? gradient.Output}'"
                + (promoted > 0 ? $", {promoted} Constant nodes promoted to parameters" : "");
            var status = ConversionStatus.Ok;
            if (check is not null)
            {
                message += string.Create(CultureInfo.InvariantCulture, $"; gradcheck {(check.Passed ? "passed" : "FAILED")}, worst relative error {check.MaxError:0.0e0} (threshold {check.Threshold:0.0e0})")
                    + (check.Unchecked.Count > 0 ? $", not smooth so unchecked: {string.Join(", ", check.Unchecked)}" : "");
                status = check.Passed ? ConversionStatus.Ok : ConversionStatus.Failed;
            }
            return new ConversionResult(input, train, init, evalPath, status, [], message, elements, step.Parameters.Count, step.StepNodes, watch.Elapsed.TotalSeconds, check);
        }
        catch (MissingGradientRuleException e)
        {
            var ops = e.Missing.Select(m => m.Domain.Length > 0 ? $"{m.Domain}.{m.OpType}" : m.OpType).Distinct().Order(StringComparer.Ordinal).ToList();
            return Result(ConversionStatus.Unsupported, e.Message, ops);
        }
        catch (Exception e) when (e is TrainingSetupException or GradientException or OnnxFormatException or FeedException or ModelRunException
            or IOException or UnauthorizedAccessException)
        {
            return Result(ConversionStatus.Failed, ErrorHandling.OneLine(e.Message) + Hint(e));
        }
#pragma warning disable CA1031 // One model's unexpected failure must not stop the report on the others.
        catch (Exception e)
#pragma warning restore CA1031
        {
            return Result(ConversionStatus.Failed, $"unexpected {e.GetType().Name}: {ErrorHandling.OneLine(e.Message)}");
        }
    }

    /// <summary>The outputs whose paths are checked for unsupported ops: the chosen one, or every floating-point output.</summary>
    private static List<Value> CheckedOutputs(Model model, GradientModelOptions options)
    {
        var chosen = options.LossOutput ?? options.Output;
        if (chosen is not null)
        {
            return [.. model.Graph.Outputs.Where(o => o.Name == chosen)];
        }
        return [.. UnsupportedOperators.TrainableOutputs(model.Graph)];
    }

    private static bool HasExternalData(Model model) =>
        model.Graph.SelfAndSubgraphs().Any(g => g.Initializers.Any(v => v.Initializer?.External is not null));

    private static string Hint(Exception e) =>
        e is FeedException || e.Message.Contains("needs static spatial sizes", StringComparison.Ordinal)
            ? " (give the model's symbolic input dimensions sizes with --dim NAME=SIZE; see implicitreg inspect)"
        : e.Message.Contains("weights stored in Constant nodes", StringComparison.Ordinal) ? " (try --promote-constants)"
        : "";
}
