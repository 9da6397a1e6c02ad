using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using ImplicitRegOnnx.Cli.Inspection;
using ImplicitRegOnnx.Runtime.Verification;
using ImplicitRegOnnx.Runtime.Workflows;

namespace ImplicitRegOnnx.Cli.Commands;

/// <summary>
/// <c>implicitreg optimize MODEL -o OUT</c>: optimize-and-verify (<see cref="ModelOptimization"/>); the
/// command parses the options and formats the report.
/// </summary>
internal static class OptimizeCommand
{
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
            var options = new OptimizeOptions
            {
                Input = parsed.GetRequiredValue(model),
                Output = parsed.GetRequiredValue(output),
                Verify = parsed.GetValue(verify) ? VerifyMode.Always : parsed.GetValue(noVerify) ? VerifyMode.Never : VerifyMode.Auto,
                Feeds = ParseDims(parsed.GetValue(dims) ?? [], parsed.GetValue(shapes) ?? [], parsed.GetValue(seed)) with
                {
                    Values = ParseValues(parsed.GetValue(values) ?? []),
                },
                Tolerance = ParseTolerance(parsed.GetValue(rtol), parsed.GetValue(atol)),
            };
            return Execute(context, options, parsed.GetValue(json));
        }));
        return command;
    }

    /// <summary>The tolerance as given (the library checks it); null when neither was given.</summary>
    private static Tolerance? ParseTolerance(double? relative, double? absolute)
    {
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

    public static int Execute(CommandContext context, OptimizeOptions options, bool json)
    {
        var result = ModelOptimization.OptimizeAndVerify(options);
        context.Out.Write(json ? ToJson(result, options.Verify) : ToText(result, options.Verify));
        if (result.Error is { } error)
        {
            throw error;
        }
        foreach (var warning in result.Warnings)
        {
            context.Warn(warning);
        }
        return ExitCodes.Ok;
    }

    private static string StatusName(VerificationStatus status) => status switch
    {
        VerificationStatus.Passed => "passed",
        VerificationStatus.Failed => "failed",
        _ => "skipped",
    };

    /// <summary>Why the check was skipped: the library's reason, or the option that skipped it.</summary>
    private static string? Reason(OptimizeVerification v, VerifyMode mode) => v.Reason ?? (mode == VerifyMode.Never ? "--no-verify" : null);

    private static readonly string[] PassHeader = ["pass", "changes"];

    private static string ToText(OptimizeResult result, VerifyMode mode)
    {
        var (input, output, s, v, tolerance) = (result.Input, result.Output, result.Passes, result.Verification, result.Tolerance);
        var reason = Reason(v, mode);
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"{input} -> {output}\n");
        sb.Append(CultureInfo.InvariantCulture, $"nodes: {s.NodesBefore} -> {s.NodesAfter} ({s.NodesAfter - s.NodesBefore:+#;-#;0})\n");
        sb.Append(CultureInfo.InvariantCulture, $"initializers: {s.InitializersBefore} -> {s.InitializersAfter} ({s.InitializersAfter - s.InitializersBefore:+#;-#;0})\n");
        var rows = new List<string[]> { PassHeader };
        rows.AddRange(s.ChangesByPass.Select(p => new[] { p.Pass, p.Changes.ToString(CultureInfo.InvariantCulture) }));
        SummaryWriters.AppendTable(sb, rows, "  ", rightAlignLast: true);
        var verdict = v.Status switch
        {
            VerificationStatus.Passed => string.Create(CultureInfo.InvariantCulture, $"passed: {v.Outputs} outputs equal on random inputs (rtol {tolerance.Relative:g3}, atol {tolerance.Absolute:g3})"),
            VerificationStatus.Failed => $"FAILED: {v.Differences.Count} outputs differ",
            _ => "skipped" + (reason is null ? "" : $" ({reason})"),
        };
        sb.Append("verify: ").Append(verdict).Append('\n');
        foreach (var d in v.Differences)
        {
            sb.Append("  ").Append(d).Append('\n');
        }
        return sb.ToString();
    }

    private static string ToJson(OptimizeResult result, VerifyMode mode)
    {
        var (input, output, s, v, tolerance) = (result.Input, result.Output, result.Passes, result.Verification, result.Tolerance);
        var reason = Reason(v, mode);
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
            w.WriteString("status", StatusName(v.Status));
            w.WriteNumber("outputs", v.Outputs);
            w.WriteNumber("rtol", tolerance.Relative);
            w.WriteNumber("atol", tolerance.Absolute);
            w.WriteStartArray("differences");
            foreach (var d in v.Differences)
            {
                w.WriteStringValue(d);
            }
            w.WriteEndArray();
            if (reason is null)
            {
                w.WriteNull("reason");
            }
            else
            {
                w.WriteString("reason", reason);
            }
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }
}
