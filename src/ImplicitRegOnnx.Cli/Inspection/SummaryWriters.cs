using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace ImplicitRegOnnx.Cli.Inspection;

/// <summary>Writes a <see cref="ModelSummary"/> as JSON (the format of models/*.inspect.json) or as a text table.</summary>
public static class SummaryWriters
{
    private static readonly JsonWriterOptions JsonOptions = new()
    {
        Indented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private static readonly string[] OpHeader = ["op", "count"];
    private static readonly string[] ValueHeader = ["name", "type", "shape"];

    public static string ToJson(ModelSummary s)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, JsonOptions))
        {
            w.WriteStartObject();
            w.WriteStartObject("producer");
            w.WriteString("name", s.ProducerName);
            w.WriteString("version", s.ProducerVersion);
            w.WriteEndObject();
            w.WriteNumber("ir_version", s.IrVersion);
            w.WriteStartObject("opsets");
            foreach (var (domain, version) in s.Opsets)
            {
                w.WriteNumber(domain, version);
            }
            w.WriteEndObject();
            WriteValues(w, "inputs", s.Inputs);
            WriteValues(w, "outputs", s.Outputs);
            w.WriteStartObject("parameters");
            w.WriteNumber("count", s.Parameters.Count);
            w.WriteNumber("elements", s.Parameters.Elements);
            w.WriteNumber("bytes", s.Parameters.Bytes);
            w.WriteEndObject();
            w.WriteStartObject("ops");
            foreach (var (op, count) in s.Ops)
            {
                w.WriteNumber(op, count);
            }
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    private static void WriteValues(Utf8JsonWriter w, string key, IReadOnlyList<ValueSummary> values)
    {
        w.WriteStartArray(key);
        foreach (var v in values)
        {
            w.WriteStartObject();
            w.WriteString("name", v.Name);
            if (v.Type is null)
            {
                w.WriteNull("type");
            }
            else
            {
                w.WriteString("type", v.Type);
            }
            if (v.Shape is null)
            {
                w.WriteNull("shape");
            }
            else
            {
                w.WriteStartArray("shape");
                foreach (var d in v.Shape)
                {
                    switch (d)
                    {
                        case long n:
                            w.WriteNumberValue(n);
                            break;
                        case string symbol:
                            w.WriteStringValue(symbol);
                            break;
                        default:
                            w.WriteNullValue();
                            break;
                    }
                }
                w.WriteEndArray();
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    public static string ToText(ModelSummary s, string path)
    {
        var sb = new StringBuilder();
        var producer = (s.ProducerName + " " + s.ProducerVersion).Trim();
        var header = new List<string[]>
        {
            new[] { "model", path },
            new[] { "producer", producer.Length > 0 ? producer : "(not set)" },
            new[] { "ir_version", s.IrVersion.ToString(CultureInfo.InvariantCulture) },
            new[] { "opsets", string.Join(", ", s.Opsets.Select(o => $"{(o.Key.Length == 0 ? "ai.onnx" : o.Key)} {o.Value}")) },
            new[] { "parameters", string.Create(CultureInfo.InvariantCulture, $"{s.Parameters.Count:N0} tensors, {s.Parameters.Elements:N0} elements, {s.Parameters.Bytes:N0} bytes") },
        };
        AppendTable(sb, header, indent: "");
        Section(sb, $"inputs ({s.Inputs.Count})", s.Inputs);
        Section(sb, $"outputs ({s.Outputs.Count})", s.Outputs);
        sb.Append('\n').Append(CultureInfo.InvariantCulture, $"ops (main graph: {s.NodeCount} nodes, {s.Ops.Count} kinds)").Append('\n');
        var ops = s.Ops.OrderByDescending(o => o.Value).ThenBy(o => o.Key, StringComparer.Ordinal)
            .Select(o => new[] { o.Key, o.Value.ToString(CultureInfo.InvariantCulture) }).ToList();
        if (ops.Count == 0)
        {
            sb.Append("  (none)\n");
        }
        else
        {
            AppendTable(sb, [OpHeader, .. ops], indent: "  ", rightAlignLast: true);
        }
        return sb.ToString();
    }

    private static void Section(StringBuilder sb, string title, IReadOnlyList<ValueSummary> values)
    {
        sb.Append('\n').Append(title).Append('\n');
        if (values.Count == 0)
        {
            sb.Append("  (none)\n");
            return;
        }
        var rows = new List<string[]> { ValueHeader };
        rows.AddRange(values.Select(v => new[] { v.Name, v.Type ?? "?", ShapeText(v.Shape) }));
        AppendTable(sb, rows, indent: "  ");
    }

    public static string ShapeText(IReadOnlyList<object?>? shape) =>
        shape is null ? "(unknown rank)"
        : "[" + string.Join(", ", shape.Select(d => d switch
        {
            long n => n.ToString(CultureInfo.InvariantCulture),
            string symbol => symbol,
            _ => "?",
        })) + "]";

    /// <summary>Plain aligned columns, two spaces apart.</summary>
    public static void AppendTable(StringBuilder sb, IReadOnlyList<string[]> rows, string indent, bool rightAlignLast = false)
    {
        var columns = rows.Max(r => r.Length);
        var widths = new int[columns];
        foreach (var row in rows)
        {
            for (var c = 0; c < row.Length; c++)
            {
                widths[c] = Math.Max(widths[c], row[c].Length);
            }
        }
        foreach (var row in rows)
        {
            sb.Append(indent);
            for (var c = 0; c < row.Length; c++)
            {
                var last = c == row.Length - 1;
                var cell = rightAlignLast && last ? row[c].PadLeft(widths[c]) : last ? row[c] : row[c].PadRight(widths[c]);
                sb.Append(cell);
                if (!last)
                {
                    sb.Append("  ");
                }
            }
            sb.Append('\n');
        }
    }
}
