using System.Globalization;
using System.Text;

namespace ImplicitRegOnnx.Onnx.Inspection;

/// <summary>A <see cref="ModelSummary"/> as text tables (<see cref="ModelSummary.ToText"/>).</summary>
internal static class SummaryText
{
    private static readonly string[] OpHeader = ["op", "count"];
    private static readonly string[] ValueHeader = ["name", "type", "shape"];

    public static string Write(ModelSummary s, string name)
    {
        var sb = new StringBuilder();
        var producer = (s.ProducerName + " " + s.ProducerVersion).Trim();
        var header = new List<string[]>
        {
            new[] { "model", name },
            new[] { "producer", producer.Length > 0 ? producer : "(not set)" },
            new[] { "ir_version", s.IrVersion.ToString(CultureInfo.InvariantCulture) },
            new[] { "opsets", string.Join(", ", s.Opsets.Select(o => $"{(o.Key.Length == 0 ? "ai.onnx" : o.Key)} {o.Value}")) },
            new[] { "parameters", string.Create(CultureInfo.InvariantCulture, $"{s.Parameters.Count:N0} tensors, {s.Parameters.Elements:N0} elements, {s.Parameters.Bytes:N0} bytes") },
        };
        TextTable.Append(sb, header, indent: "");
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
            TextTable.Append(sb, [OpHeader, .. ops], indent: "  ", rightAlignLast: true);
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
        TextTable.Append(sb, rows, indent: "  ");
    }

    private static string ShapeText(IReadOnlyList<object?>? shape) =>
        shape is null ? "(unknown rank)"
        : "[" + string.Join(", ", shape.Select(d => d switch
        {
            long n => n.ToString(CultureInfo.InvariantCulture),
            string symbol => symbol,
            _ => "?",
        })) + "]";
}

/// <summary>Plain aligned text columns, two spaces apart (the tables of the CLI's reports).</summary>
internal static class TextTable
{
    /// <summary>Appends <paramref name="rows"/>, each line after <paramref name="indent"/>; the last column right-aligned on request.</summary>
    public static void Append(StringBuilder sb, IReadOnlyList<string[]> rows, string indent, bool rightAlignLast = false)
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
