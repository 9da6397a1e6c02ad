using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using ImplicitRegOnnx.Cli.Inspection;
using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Onnx.Passes;
using ImplicitRegOnnx.Runtime.Verification;

namespace ImplicitRegOnnx.Cli.Commands;

/// <summary>
/// <c>implicitreg optimize MODEL -o OUT</c>: runs the graph passes, writes the result atomically and,
/// unless --no-verify, checks with ONNX Runtime CPU that both models give the same outputs on random inputs.
/// </summary>
public static class OptimizeCommand
{
    /// <summary>
    /// Settings of one optimize run. A null Tolerance is chosen from the model's least precise
    /// floating-point type (<see cref="Tolerance.ForModel"/>).
    /// </summary>
    public sealed record Settings(string Model, string Output, bool Json, bool? Verify, FeedOptions Feeds, Tolerance? Tolerance);

    public static Command Create(CommandContext context)
    {
        var model = new Argument<string>("MODEL") { Description = "Path of the .onnx model file." };
        var output = new Option<string>("--output", "-o") { Description = "Where to write the optimized model (must differ from MODEL).", Required = true };
        var json = new Option<bool>("--json") { Description = "Print the report as JSON." };
        var verify = new Option<bool>("--verify") { Description = "Compare outputs of both models under ONNX Runtime CPU on random inputs; fail (exit 1) if ONNX Runtime cannot run the model. Without --verify or --no-verify the check runs too, but is skipped with a warning when ONNX Runtime cannot run the model." };
        var noVerify = new Option<bool>("--no-verify") { Description = "Skip the comparison under ONNX Runtime." };
        var dims = new Option<string[]>("--dim")
        {
            Description = "Size of a symbolic dimension for the random inputs, NAME=SIZE (repeatable; '*=SIZE' sets the default, 2).",
            AllowMultipleArgumentsPerToken = false,
        };
        var shapes = new Option<string[]>("--shape")
        {
            Description = "Whole shape of one input for the random inputs, INPUT=D0,D1,... (repeatable; for dimensions without a name).",
            AllowMultipleArgumentsPerToken = false,
        };
        var values = new Option<string[]>("--value")
        {
            Description = "Fill one input with a fixed value instead of random data, INPUT=NUMBER (repeatable; e.g. --value sr=16000).",
            AllowMultipleArgumentsPerToken = false,
        };
        var seed = new Option<int>("--seed") { Description = "Seed of the random inputs.", DefaultValueFactory = _ => 1234 };
        var rtol = new Option<double?>("--rtol") { Description = "Relative tolerance for floating-point outputs (default 1e-5; float16 models 4·2^-10, bfloat16 models 4·2^-7)." };
        var atol = new Option<double?>("--atol") { Description = "Absolute tolerance for floating-point outputs (default 1e-6; float16 models 2^-10, bfloat16 models 2^-7)." };

        var command = new Command("optimize", "Simplify a model's graph (topological sort, dead code, common subexpressions, constant folding) and check its outputs stay the same.");
        command.Arguments.Add(model);
        foreach (var option in new Option[] { output, json, verify, noVerify, dims, shapes, values, seed, rtol, atol })
        {
            command.Options.Add(option);
        }
        command.SetAction(parsed => ErrorHandling.Guard(context, () =>
        {
            if (parsed.GetValue(verify) && parsed.GetValue(noVerify))
            {
                throw ImplicitRegException.BadInput("--verify and --no-verify contradict each other; give one of them");
            }
            bool? verifyChoice = parsed.GetValue(verify) ? true : parsed.GetValue(noVerify) ? false : null;
            var settings = new Settings(
                parsed.GetRequiredValue(model),
                parsed.GetRequiredValue(output),
                parsed.GetValue(json),
                verifyChoice,
                ParseDims(parsed.GetValue(dims) ?? [], parsed.GetValue(shapes) ?? [], parsed.GetValue(seed)) with
                {
                    Values = ParseValues(parsed.GetValue(values) ?? []),
                },
                ParseTolerance(parsed.GetValue(rtol), parsed.GetValue(atol)));
            return Execute(context, settings);
        }));
        return command;
    }

    private static Tolerance? ParseTolerance(double? relative, double? absolute)
    {
        if (relative < 0 || absolute < 0 || relative is double.NaN || absolute is double.NaN)
        {
            throw ImplicitRegException.BadInput("--rtol and --atol must be non-negative numbers, e.g. --rtol 1e-4");
        }
        if (relative is null && absolute is null)
        {
            return null;
        }
        var defaults = new Tolerance();
        return new Tolerance(relative ?? defaults.Relative, absolute ?? defaults.Absolute);
    }

    public static Dictionary<string, double> ParseValues(IEnumerable<string> specs)
    {
        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var spec in specs)
        {
            var eq = spec.LastIndexOf('=');
            if (eq <= 0 || !double.TryParse(spec.AsSpan(eq + 1), NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value))
            {
                throw ImplicitRegException.BadInput($"--value '{spec}': expected INPUT=NUMBER, e.g. --value sr=16000");
            }
            values[spec[..eq]] = value;
        }
        return values;
    }

    public static FeedOptions ParseDims(IEnumerable<string> specs, IEnumerable<string> shapeSpecs, int seed)
    {
        var shapes = new Dictionary<string, long[]>(StringComparer.Ordinal);
        foreach (var spec in shapeSpecs)
        {
            var eq = spec.LastIndexOf('=');
            var sizes = eq > 0 ? spec[(eq + 1)..].Split(',', StringSplitOptions.TrimEntries) : [];
            var parsedSizes = sizes.Select(d => long.TryParse(d, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : -1).ToArray();
            if (eq <= 0 || (sizes.Length == 1 && sizes[0].Length == 0 ? false : parsedSizes.Any(v => v < 0)))
            {
                throw ImplicitRegException.BadInput($"--shape '{spec}': expected INPUT=D0,D1,... with non-negative integer sizes, e.g. --shape input=1,512");
            }
            shapes[spec[..eq]] = sizes.Length == 1 && sizes[0].Length == 0 ? [] : parsedSizes;
        }
        var dims = new Dictionary<string, long>(StringComparer.Ordinal);
        long defaultDim = 2;
        foreach (var spec in specs)
        {
            var eq = spec.LastIndexOf('=');
            if (eq <= 0 || !long.TryParse(spec.AsSpan(eq + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var size))
            {
                throw ImplicitRegException.BadInput($"--dim '{spec}': expected NAME=SIZE with a non-negative integer SIZE, e.g. --dim batch=4");
            }
            var name = spec[..eq];
            if (name == "*")
            {
                defaultDim = size;
            }
            else
            {
                dims[name] = size;
            }
        }
        return new FeedOptions { Dims = dims, Shapes = shapes, DefaultDim = defaultDim, Seed = seed };
    }

    public static int Execute(CommandContext context, Settings settings)
    {
        var input = settings.Model;
        var output = settings.Output;
        CheckOutputPath(input, output);
        var model = ModelFiles.Load(input, context);
        var tolerance = settings.Tolerance ?? Tolerance.ForModel(model);

        // Feeds come from the original's declared inputs, before any pass touches the model.
        IReadOnlyList<Tensor>? feeds = null;
        string? cannotVerify = null;
        if (settings.Verify != false)
        {
            try
            {
                feeds = RandomFeeds.Create(model, settings.Feeds);
            }
            catch (ImplicitRegException e) when (e.Parameter is not null)
            {
                // --shape or --value names an input the model lacks, or gives a wrong rank: a usage error.
                throw e.Within(input);
            }
            catch (ImplicitRegException e)
            {
                // An input cannot be filled with random data (unknown rank, unsupported type): no check.
                cannotVerify = e.Message;
            }
        }

        var summary = ErrorHandling.About(input, () => ModelOptimizer.Optimize(model));
        Save(model, output);

        var verification = new Verification("skipped", 0, [], settings.Verify == false ? "--no-verify" : null);
        if (settings.Verify != false)
        {
            if (feeds is not null)
            {
                try
                {
                    var result = EquivalenceCheck.Run(feeds, input, output, tolerance);
                    verification = new Verification(result.Equivalent ? "passed" : "failed", result.OutputsCompared, result.Differences, null);
                }
                catch (ImplicitRegException e) when (e.Kind == ErrorKind.Failed)
                {
                    // ONNX Runtime cannot run the original model: nothing to compare against.
                    cannotVerify = e.Message;
                }
            }
            if (cannotVerify is not null)
            {
                verification = verification with { Reason = cannotVerify };
            }
        }

        context.Out.Write(settings.Json
            ? ToJson(input, output, summary, verification, tolerance)
            : ToText(input, output, summary, verification, tolerance));

        if (verification.Status == "failed")
        {
            throw ImplicitRegException.Failed(
                $"{output}: the optimized model's outputs differ from {input}'s: {verification.Differences[0]}"
                + (verification.Differences.Count > 1 ? $" (and {verification.Differences.Count - 1} more)" : "")
                + (settings.Tolerance is null && tolerance != new Tolerance()
                    ? "; the model computes in float16 or bfloat16, which ONNX Runtime CPU evaluates partly in float32 with rounding that depends on the graph's structure: if the differences are at that precision, rerun with a wider --rtol/--atol"
                    : "; the file was kept for inspection, please report this with the model"));
        }
        if (cannotVerify is not null)
        {
            if (settings.Verify == true)
            {
                throw ImplicitRegException.Failed($"{input}: cannot verify the optimized model: {cannotVerify}; rerun with --no-verify to skip the check");
            }
            context.Warn($"{input}: not verified: {cannotVerify}");
        }
        return ExitCodes.Ok;
    }

    private static void CheckOutputPath(string input, string output)
    {
        if (string.IsNullOrWhiteSpace(output))
        {
            throw ImplicitRegException.BadInput("-o: the output path is empty; give the path of the .onnx file to write");
        }
        var fullOutput = Path.GetFullPath(output);
        if (string.Equals(Path.GetFullPath(input), fullOutput, StringComparison.Ordinal))
        {
            throw ImplicitRegException.BadInput($"{output}: the output is the input model; write to another path (the original is needed to verify the result)");
        }
        if (Directory.Exists(fullOutput))
        {
            throw ImplicitRegException.BadInput($"{output}: is a directory; give a file path such as {Path.Combine(output, "model.opt.onnx")}");
        }
    }

    private static void Save(Model model, string output)
    {
        try
        {
            model.Save(output);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw ImplicitRegException.BadInput($"{output}: cannot write the optimized model ({ErrorHandling.OneLine(e.Message)}); choose a writable path", e);
        }
    }

    private static readonly string[] PassHeader = ["pass", "changes"];

    private sealed record Verification(string Status, int Outputs, IReadOnlyList<string> Differences, string? Reason);

    private static string ToText(string input, string output, OptimizeReport s, Verification v, Tolerance tolerance)
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"{input} -> {output}\n");
        sb.Append(CultureInfo.InvariantCulture, $"nodes: {s.NodesBefore} -> {s.NodesAfter} ({s.NodesAfter - s.NodesBefore:+#;-#;0})\n");
        sb.Append(CultureInfo.InvariantCulture, $"initializers: {s.InitializersBefore} -> {s.InitializersAfter} ({s.InitializersAfter - s.InitializersBefore:+#;-#;0})\n");
        var rows = new List<string[]> { PassHeader };
        rows.AddRange(s.ChangesByPass.Select(p => new[] { p.Pass, p.Changes.ToString(CultureInfo.InvariantCulture) }));
        SummaryWriters.AppendTable(sb, rows, "  ", rightAlignLast: true);
        var verdict = v.Status switch
        {
            "passed" => string.Create(CultureInfo.InvariantCulture, $"passed: {v.Outputs} outputs equal on random inputs (rtol {tolerance.Relative:g3}, atol {tolerance.Absolute:g3})"),
            "failed" => $"FAILED: {v.Differences.Count} outputs differ",
            _ => "skipped" + (v.Reason is null ? "" : $" ({v.Reason})"),
        };
        sb.Append("verify: ").Append(verdict).Append('\n');
        foreach (var d in v.Differences)
        {
            sb.Append("  ").Append(d).Append('\n');
        }
        return sb.ToString();
    }

    private static string ToJson(string input, string output, OptimizeReport s, Verification v, Tolerance tolerance)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("input", input);
            w.WriteString("output", output);
            w.WriteNumber("nodes_before", s.NodesBefore);
            w.WriteNumber("nodes_after", s.NodesAfter);
            w.WriteNumber("initializers_before", s.InitializersBefore);
            w.WriteNumber("initializers_after", s.InitializersAfter);
            w.WriteStartArray("passes");
            foreach (var (pass, changes) in s.ChangesByPass)
            {
                w.WriteStartObject();
                w.WriteString("name", pass);
                w.WriteNumber("changes", changes);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartObject("verify");
            w.WriteString("status", v.Status);
            w.WriteNumber("outputs", v.Outputs);
            w.WriteNumber("rtol", tolerance.Relative);
            w.WriteNumber("atol", tolerance.Absolute);
            w.WriteStartArray("differences");
            foreach (var d in v.Differences)
            {
                w.WriteStringValue(d);
            }
            w.WriteEndArray();
            if (v.Reason is null)
            {
                w.WriteNull("reason");
            }
            else
            {
                w.WriteString("reason", v.Reason);
            }
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }
}
