using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using ImplicitRegOnnx.Runtime.Verification;
using ImplicitRegOnnx.Training;

namespace ImplicitRegOnnx.Cli.Commands;

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
                    GradcheckOptionSet.WriteVerdict(w, check);
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
