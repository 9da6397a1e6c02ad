using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ImplicitRegOnnx.Cli;

/// <summary>
/// The one way the tool writes JSON reports: a small report record serialized with snake_case names in
/// declaration order, enums as snake_case strings, relaxed escaping (paths and λ as they are), indented,
/// with a final newline. Nulls are written unless a property says otherwise; JSON has no NaN, so a
/// number that may not be finite is a <c>double?</c> set through <see cref="Finite"/>.
/// </summary>
internal static class JsonOutput
{
    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        WriteIndented = true,
    };

    public static string Serialize<T>(T report) => JsonSerializer.Serialize(report, Options) + "\n";

    /// <summary>The value, or null (written as null) when it is NaN or infinite.</summary>
    public static double? Finite(double value) => double.IsFinite(value) ? value : null;
}
