using System.Globalization;
using ImplicitRegOnnx.Onnx.Serialization.Proto;

namespace ImplicitRegOnnx.Onnx.Serialization;

/// <summary>
/// Tensor payloads stored in side files (ONNX IR spec, "External Tensor Data"): the external_data
/// entries give location (relative to the model's folder), offset, length and checksum.
/// </summary>
internal static class ExternalData
{
    public static ExternalDataInfo Describe(TensorProto proto)
    {
        string? location = null;
        long? offset = null;
        long? length = null;
        string? checksum = null;
        foreach (var entry in proto.ExternalData)
        {
            switch (entry.Key)
            {
                case "location":
                    location = entry.Value;
                    break;
                case "offset":
                    offset = ParseLong(proto, entry);
                    break;
                case "length":
                    length = ParseLong(proto, entry);
                    break;
                case "checksum":
                    checksum = entry.Value;
                    break;
            }
        }
        if (string.IsNullOrEmpty(location))
        {
            throw ImplicitRegException.BadInput($"tensor '{proto.Name}' is stored externally but has no location");
        }
        return new ExternalDataInfo(location, offset, length, checksum);
    }

    private static long ParseLong(TensorProto proto, StringStringEntryProto entry) =>
        long.TryParse(entry.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var v)
            ? v
            : throw ImplicitRegException.BadInput($"tensor '{proto.Name}': external data {entry.Key} '{entry.Value}' is not a non-negative integer");

    /// <summary>Resolves a location against the model folder, refusing paths that leave it.</summary>
    public static string Resolve(string location, string baseDirectory, string tensorName)
    {
        if (Path.IsPathRooted(location))
        {
            throw ImplicitRegException.BadInput($"tensor '{tensorName}': external data location '{location}' must be relative to the model file");
        }
        var root = Path.GetFullPath(baseDirectory);
        var full = Path.GetFullPath(Path.Combine(root, location));
        var prefix = root.EndsWith(Path.DirectorySeparatorChar) ? root : root + Path.DirectorySeparatorChar;
        if (!full.StartsWith(prefix, StringComparison.Ordinal))
        {
            throw ImplicitRegException.BadInput($"tensor '{tensorName}': external data location '{location}' points outside the model's folder");
        }
        return full;
    }

    public static byte[] Read(TensorProto proto, ExternalDataInfo info, string? baseDirectory)
    {
        if (baseDirectory is null)
        {
            throw ImplicitRegException.BadInput($"tensor '{proto.Name}' is stored in the side file '{info.Location}'; load the model from its path (or give ModelLoadOptions.BaseDirectory)");
        }
        var path = Resolve(info.Location, baseDirectory, proto.Name);
        if (!File.Exists(path))
        {
            throw ImplicitRegException.BadInput($"tensor '{proto.Name}': external data file '{info.Location}' is missing next to the model");
        }
        using var file = File.OpenRead(path);
        var offset = info.Offset ?? 0;
        var available = file.Length - offset;
        var length = info.Length ?? available;
        if (offset > file.Length || length > available)
        {
            throw ImplicitRegException.BadInput($"tensor '{proto.Name}': external data file '{info.Location}' is too short ({file.Length} bytes) for offset {offset} and length {length}");
        }
        if (length > Array.MaxLength)
        {
            throw ImplicitRegException.BadInput($"tensor '{proto.Name}' is larger than this tool can hold in memory");
        }
        var bytes = new byte[length];
        file.Seek(offset, SeekOrigin.Begin);
        file.ReadExactly(bytes);
        return bytes;
    }
}
