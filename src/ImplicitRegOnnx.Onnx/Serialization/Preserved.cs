using Google.Protobuf;

namespace ImplicitRegOnnx.Onnx.Serialization;

/// <summary>
/// Keeps the fields of a protobuf message that the IR does not model (including unknown fields
/// from newer ONNX versions) as bytes, and restores them on write. This is how a load/save round
/// trip keeps metadata, annotations and future fields without the IR having to know them.
/// Optional string fields that are present but empty stay in the preserved bytes too (the IR
/// does not tell "" from absent), so their presence survives; writers set only non-empty strings.
/// </summary>
internal static class Preserved
{
    /// <summary>The message minus the fields <paramref name="clearModeled"/> removes, or null when nothing is left.</summary>
    public static byte[]? Capture<T>(T message, Action<T> clearModeled)
        where T : IMessage<T>, IDeepCloneable<T>
    {
        var rest = message.Clone();
        clearModeled(rest);
        return rest.CalculateSize() == 0 ? null : rest.ToByteArray();
    }

    /// <summary>A new message holding the preserved fields, ready for the modeled ones to be set.</summary>
    public static T Restore<T>(byte[]? preserved, MessageParser<T> parser)
        where T : IMessage<T>, new() => preserved is null ? new T() : parser.ParseFrom(preserved);
}
