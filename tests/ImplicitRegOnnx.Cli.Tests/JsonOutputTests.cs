using System.Text.Json.Serialization;
using ImplicitRegOnnx.Runtime.Workflows;

namespace ImplicitRegOnnx.Cli.Tests;

/// <summary>The one JSON writer of the reports: the conventions the reports' contract tests rely on.</summary>
public class JsonOutputTests
{
    private sealed record Sample(string ModelPath, string? Missing, [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Omitted,
        ConversionStatus Status, double? MaxError, double Seconds, IReadOnlyList<string> Unchecked);

    [Fact]
    public void SnakeCaseInDeclarationOrderNullsWrittenEnumsAsNamesRelaxedEscapingAndAFinalNewline()
    {
        var json = JsonOutput.Serialize(new Sample("dir/λ \"m\".onnx", null, null, ConversionStatus.Unsupported, JsonOutput.Finite(double.NaN), 0.125, ["penalty"]));

        Assert.Equal(
            "{\n" +
            "  \"model_path\": \"dir/λ \\\"m\\\".onnx\",\n" +
            "  \"missing\": null,\n" +
            "  \"status\": \"unsupported\",\n" +
            "  \"max_error\": null,\n" +
            "  \"seconds\": 0.125,\n" +
            "  \"unchecked\": [\n" +
            "    \"penalty\"\n" +
            "  ]\n" +
            "}\n", json.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void FiniteKeepsFiniteNumbersAndDropsTheOthers()
    {
        Assert.Equal(1.5, JsonOutput.Finite(1.5));
        Assert.Null(JsonOutput.Finite(double.PositiveInfinity));
        Assert.Null(JsonOutput.Finite(double.NaN));
    }
}
