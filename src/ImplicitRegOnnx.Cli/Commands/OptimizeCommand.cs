using System.CommandLine;
using System.Globalization;
using System.Text;
using ImplicitRegOnnx.Onnx.Inspection;
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
        Option<string[]> Specs(string name, string description) => new(name) { Description = description, AllowMultipleArgumentsPerToken = false };
        var dims = Specs("--dim", "Size of a symbolic dimension for the random inputs, NAME=SIZE (repeatable; '*=SIZE' sets the default, 2).");
        var shapes = Specs("--shape", "Whole shape of one input for the random inputs, INPUT=D0,D1,... (repeatable; for dimensions without a name).");
        var values = Specs("--value", "Fill one input with a fixed value instead of random data, INPUT=NUMBER (repeatable; e.g. --value sr=16000).");
        var seed = new Option<int>("--seed") { Description = "Seed of the random inputs.", DefaultValueFactory = _ => 1234 };
        var rtol = new Option<double?>("--rtol") { Description = "Relative tolerance for floating-point outputs (default 1e-5; float16 models 4·2^-10, bfloat16 models 4·2^-7)." };
        var atol = new Option<double?>("--atol") { Description = "Absolute tolerance for floating-point outputs (default 1e-6; float16 models 2^-10, bfloat16 models 2^-7)." };

        return CommandFactory.Create(context, "optimize", "Simplify a model's graph (topological sort, dead code, common subexpressions, constant folding) and check its outputs stay the same.",
            [model, output, json, verify, noVerify, dims, shapes, values, seed, rtol, atol], parsed =>
        {
            if (parsed.GetValue(verify) && parsed.GetValue(noVerify))
            {
                throw ImplicitRegException.BadInput("--verify and --no-verify contradict each other; give one of them");
            }
            var (relative, absolute) = (parsed.GetValue(rtol), parsed.GetValue(atol));
            var options = new OptimizeOptions
            {
                Input = parsed.GetRequiredValue(model),
                Output = parsed.GetRequiredValue(output),
                Verify = parsed.GetValue(verify) ? VerifyMode.Always : parsed.GetValue(noVerify) ? VerifyMode.Never : VerifyMode.Auto,
                Feeds = FeedOptions.Parse(parsed.GetValue(dims), parsed.GetValue(shapes), parsed.GetValue(values), parsed.GetValue(seed)),
                // The library checks the tolerance; null when neither was given (chosen from the model).
                Tolerance = relative is null && absolute is null ? null : new Tolerance(relative ?? new Tolerance().Relative, absolute ?? new Tolerance().Absolute),
            };
            var result = ModelOptimization.OptimizeAndVerify(options);
            // Why the check was skipped: the library's reason, or the option that skipped it.
            var reason = result.Verification.Reason ?? (options.Verify == VerifyMode.Never ? "--no-verify" : null);
            context.Out.Write(parsed.GetValue(json) ? ToJson(result, reason) : ToText(result, reason));
            if (result.Error is { } error)
            {
                throw error;
            }
            context.Warn(result.Warnings);
            return ExitCodes.Ok;
        });
    }

    private static readonly string[] PassHeader = ["pass", "changes"];

    private static string ToText(OptimizeResult result, string? reason)
    {
        var (s, v, tolerance) = (result.Passes, result.Verification, result.Tolerance);
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"{result.Input} -> {result.Output}\n");
        sb.Append(CultureInfo.InvariantCulture, $"nodes: {s.NodesBefore} -> {s.NodesAfter} ({s.NodesAfter - s.NodesBefore:+#;-#;0})\n");
        sb.Append(CultureInfo.InvariantCulture, $"initializers: {s.InitializersBefore} -> {s.InitializersAfter} ({s.InitializersAfter - s.InitializersBefore:+#;-#;0})\n");
        TextTable.Append(sb, [PassHeader, .. s.ChangesByPass.Select(p => new[] { p.Pass, p.Changes.ToString(CultureInfo.InvariantCulture) })], "  ", rightAlignLast: true);
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

    private static string ToJson(OptimizeResult r, string? reason) => JsonOutput.Serialize(new Report(r.Input, r.Output, r.Passes.NodesBefore, r.Passes.NodesAfter,
        r.Passes.InitializersBefore, r.Passes.InitializersAfter, [.. r.Passes.ChangesByPass.Select(p => new Pass(p.Pass, p.Changes))],
        new Verify(r.Verification.Status, r.Verification.Outputs, r.Tolerance.Relative, r.Tolerance.Absolute, r.Verification.Differences, reason)));

    private sealed record Report(string Input, string Output, int NodesBefore, int NodesAfter, int InitializersBefore, int InitializersAfter, IReadOnlyList<Pass> Passes, Verify Verify);

    private sealed record Pass(string Name, int Changes);

    private sealed record Verify(VerificationStatus Status, int Outputs, double Rtol, double Atol, IReadOnlyList<string> Differences, string? Reason);
}
