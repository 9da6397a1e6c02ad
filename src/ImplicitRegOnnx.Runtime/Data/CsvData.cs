using System.Globalization;
using System.Text;
using ImplicitRegOnnx.Onnx;

namespace ImplicitRegOnnx.Runtime.Data;

/// <summary>
/// Loads examples from a CSV file (gzip-compressed or not, detected from the content): one example
/// per row, every column a number; one column is the label, the others are the features in column
/// order. A header row is detected (a non-numeric field) unless told; the delimiter (',', ';' or
/// tab) is detected from the first row unless told. Quoted fields may not contain the delimiter.
/// </summary>
public static class CsvData
{
    private static readonly char[] Delimiters = [',', ';', '\t'];

    /// <summary>Loads a CSV file.</summary>
    /// <exception cref="ImplicitRegException">Unreadable file, ragged rows, a missing or non-numeric value (with its line number), an unknown label column.</exception>
    public static Dataset Load(string path, DataLoadOptions? options = null) =>
        DataFiles.Guard(path, () =>
        {
            using var stream = DataFiles.OpenMaybeGzip(path);
            return Parse(stream, path, options);
        });

    /// <summary>
    /// Loads CSV data from a stream (gzip-compressed or not), e.g. an embedded resource, leaving the
    /// stream open; <paramref name="source"/> names it in errors.
    /// </summary>
    public static Dataset Load(Stream stream, string source, DataLoadOptions? options = null) =>
        DataFiles.Guard(source, () =>
        {
            using var content = DataFiles.MaybeGunzip(stream, leaveOpen: true);
            return Parse(content, source, options);
        });

    private static Dataset Parse(Stream stream, string source, DataLoadOptions? options)
    {
        options ??= DataLoadOptions.Default;
        var where = $"'{source}'";
        using var reader = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, 1 << 16, leaveOpen: true);

        string? line;
        var lineNumber = 0;
        do
        {
            line = reader.ReadLine();
            lineNumber++;
        }
        while (line is not null && string.IsNullOrWhiteSpace(line));
        if (line is null)
        {
            throw ImplicitRegException.BadInput($"{where} is empty");
        }

        var delimiter = options.Delimiter ?? DetectDelimiter(line);
        var firstFields = SplitFields(line, delimiter);
        var columns = firstFields.Length;
        if (columns < 2)
        {
            throw ImplicitRegException.BadInput(
                $"{where}: line {lineNumber} has a single column (delimiter {Show(delimiter)}); a label column and at least one feature column are needed");
        }
        var hasHeader = options.HasHeader ?? firstFields.Any(f => !TryParseNumber(f, out _));
        var header = hasHeader ? firstFields.Select(Unquote).ToArray() : null;
        var labelColumn = ResolveLabelColumn(options.LabelColumn, header, columns, where);

        var features = new List<float>();
        var labels = new List<double>();
        var featureColumns = columns - 1;
        var firstDataLine = hasHeader ? -1 : lineNumber;
        var firstNonIntegralLine = 0;
        if (!hasHeader)
        {
            ParseRow(firstFields, lineNumber);
        }
        while ((line = reader.ReadLine()) is not null)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }
            if (firstDataLine < 0)
            {
                firstDataLine = lineNumber;
            }
            ParseRow(SplitFields(line, delimiter), lineNumber);
        }
        if (labels.Count == 0)
        {
            throw ImplicitRegException.BadInput($"{where} has a header but no data rows");
        }

        var n = labels.Count;
        var featureTensor = Tensor.FromArray(features.ToArray(), [n, featureColumns], "features");
        var labelTensor = MakeLabels(labels, options.Labels, where, firstNonIntegralLine);
        return DataLoader.ApplyShape(new Dataset(featureTensor, labelTensor), options, where);

        void ParseRow(string[] fields, int number)
        {
            if (fields.Length != columns)
            {
                throw ImplicitRegException.BadInput($"{where}: line {number} has {fields.Length} fields, expected {columns} like line {firstDataLine switch { < 0 => 1, var l => l }}");
            }
            for (var c = 0; c < columns; c++)
            {
                if (!TryParseNumber(fields[c], out var value))
                {
                    var column = header is null ? $"column {c + 1}" : $"column {c + 1} ('{header[c]}')";
                    var text = fields[c].Trim();
                    var problem = text.Length == 0 || text == "\"\"" ? "missing value"
                        : double.TryParse(Unquote(text), NumberStyles.Float, CultureInfo.InvariantCulture, out _) ? $"'{text}' is not a finite number"
                        : $"'{Truncate(text)}' is not a number";
                    throw ImplicitRegException.BadInput($"{where}: line {number}, {column}: {problem}");
                }
                if (c == labelColumn)
                {
                    if (firstNonIntegralLine == 0 && !IsIntegral(value))
                    {
                        firstNonIntegralLine = number;
                    }
                    labels.Add(value);
                }
                else
                {
                    features.Add((float)value);
                }
            }
        }
    }

    private static bool IsIntegral(double v) => v == Math.Floor(v) && Math.Abs(v) <= 1L << 53;

    private static Tensor MakeLabels(List<double> labels, LabelKind kind, string where, int firstNonIntegralLine)
    {
        if (kind == LabelKind.Class && firstNonIntegralLine > 0)
        {
            throw ImplicitRegException.BadInput($"{where}: line {firstNonIntegralLine}: the label is not an integer class label");
        }
        if (kind == LabelKind.Float || (kind == LabelKind.Auto && firstNonIntegralLine > 0))
        {
            return Tensor.FromArray(labels.Select(v => (float)v).ToArray(), [labels.Count], "labels");
        }
        return Tensor.FromArray(labels.Select(v => (long)v).ToArray(), [labels.Count], "labels");
    }

    private static int ResolveLabelColumn(string? option, string[]? header, int columns, string where)
    {
        if (string.IsNullOrEmpty(option))
        {
            return columns - 1;
        }
        if (int.TryParse(option, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var index))
        {
            var resolved = index < 0 ? columns + index : index;
            return resolved >= 0 && resolved < columns
                ? resolved
                : throw ImplicitRegException.BadInput($"{where}: label column {index} is outside the {columns} columns (0..{columns - 1}, or negative from the end)");
        }
        if (header is null)
        {
            throw ImplicitRegException.BadInput($"{where}: label column '{option}' is a name but the file has no header row; give its 0-based index");
        }
        var byName = Array.IndexOf(header, option);
        if (byName < 0)
        {
            byName = Array.FindIndex(header, h => string.Equals(h, option, StringComparison.OrdinalIgnoreCase));
        }
        return byName >= 0
            ? byName
            : throw ImplicitRegException.BadInput($"{where}: no column named '{option}' in the header ({string.Join(", ", header.Take(10))}{(header.Length > 10 ? ", ..." : "")})");
    }

    private static char DetectDelimiter(string line)
    {
        var best = ',';
        var bestCount = 0;
        foreach (var d in Delimiters)
        {
            var count = line.Count(ch => ch == d);
            if (count > bestCount)
            {
                best = d;
                bestCount = count;
            }
        }
        return best;
    }

    private static string[] SplitFields(string line, char delimiter) => line.Split(delimiter);

    private static bool TryParseNumber(string field, out double value) =>
        double.TryParse(Unquote(field), NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);

    private static string Unquote(string field)
    {
        var s = field.Trim();
        return s.Length >= 2 && s[0] == '"' && s[^1] == '"' ? s[1..^1].Trim() : s;
    }

    private static string Truncate(string s) => s.Length <= 40 ? s : s[..40] + "...";

    private static string Show(char c) => c == '\t' ? "tab" : $"'{c}'";
}
