using System.Globalization;
using ImplicitRegOnnx.Onnx.IO;
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

    /// <summary>
    /// The lexical rules for a location, the same for reading and writing: relative, no NUL, and inside
    /// <paramref name="folder"/> once <c>.</c> and <c>..</c> are applied to the text (<c>a/../w.bin</c> is
    /// <c>w.bin</c>; <c>../w.bin</c> leaves). Returns the absolute path, or why the location is refused.
    /// </summary>
    public static (string? Path, string? Problem) Locate(string location, string folder)
    {
        if (location.Contains('\0', StringComparison.Ordinal))
        {
            return (null, "contains a NUL character; give a plain relative file name");
        }
        if (Path.IsPathRooted(location))
        {
            return (null, "must be relative to the model file; give a path inside the model's folder");
        }
        var root = Path.GetFullPath(folder);
        var full = Path.GetFullPath(Path.Combine(root, location));
        return SafePaths.IsInside(full, root)
            ? (full, null)
            : (null, "points outside the model's folder; give a path inside it");
    }

    public static byte[] Read(TensorProto proto, ExternalDataInfo info, string? baseDirectory)
    {
        if (baseDirectory is null)
        {
            throw ImplicitRegException.BadInput($"tensor '{proto.Name}' is stored in the side file '{info.Location}'; load the model from its path (or give ModelLoadOptions.BaseDirectory)");
        }
        if (string.IsNullOrWhiteSpace(baseDirectory))
        {
            throw ImplicitRegException.BadInput($"tensor '{proto.Name}' is stored in the side file '{info.Location}' but ModelLoadOptions.BaseDirectory is empty; give the folder the side file is in");
        }
        try
        {
            using var file = Open(proto.Name, info.Location, baseDirectory);
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
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw ImplicitRegException.BadInput($"tensor '{proto.Name}': external data file '{info.Location}' cannot be read ({OneLine(e.Message)})", e);
        }
    }

    /// <summary>
    /// Opens a side file under the rules of onnx 1.21's fix for CVE-2026-27489 (its docs/security.md):
    /// the lexical rules of <see cref="Locate"/>; the file itself is not a symbolic link, even one that
    /// points inside the folder (a side file is a regular file of the folder; onnx's checker refuses
    /// such links too); with every link of the path resolved, in any component, the file still lies
    /// inside the model's folder with every link of that resolved too (a linked folder that stays inside
    /// is fine, one that leads out is not); it is a regular file (a pipe would block, a device would
    /// stream forever) with one hard link (a second name can bring any file of the same file system
    /// into the folder looking like a regular file). After the open, the kernel's own account of the
    /// opened file is checked again (Linux: /proc/self/fd and statx; Windows: the link count from the
    /// handle), so a path swapped between the checks and the open is caught too.
    /// </summary>
    private static FileStream Open(string tensor, string location, string baseDirectory)
    {
        ImplicitRegException Refused(string problem) =>
            ImplicitRegException.BadInput($"tensor '{tensor}': external data file '{location}' {problem}");

        var (full, problem) = Locate(location, baseDirectory);
        if (full is null)
        {
            throw ImplicitRegException.BadInput($"tensor '{tensor}': external data location '{location}' {problem}");
        }
        if (SafePaths.LinkTarget(full) is { } target)
        {
            throw Refused($"is a symbolic link (to '{target}'); side files must be regular files in the model's folder: copy the data there in place of the link");
        }
        var root = SafePaths.RealPath(baseDirectory);
        var real = SafePaths.RealPath(full);
        if (!SafePaths.IsInside(real, root))
        {
            throw Refused($"resolves through a symbolic link to '{real}', outside the model's folder '{root}'; put the side file itself inside the model's folder");
        }
        if (Directory.Exists(real))
        {
            throw Refused("is a folder, not a file; give the side file's name");
        }
        if (!File.Exists(real))
        {
            throw Refused("is missing next to the model; copy it into the model's folder");
        }
        CheckFacts(FileFacts.OfPath(real), null);
        var handle = File.OpenHandle(real, FileMode.Open, FileAccess.Read, FileShare.Read);
        try
        {
            var facts = FileFacts.Of(handle);
            CheckFacts(facts, root);
            return new FileStream(handle, FileAccess.Read);
        }
        catch
        {
            handle.Dispose();
            throw;
        }

        void CheckFacts(FileFacts facts, string? folder)
        {
            if (folder is not null && facts.OpenedPath is { } opened && !SafePaths.IsInside(opened, folder))
            {
                throw Refused($"was replaced while being opened and now leads to '{opened}', outside the model's folder '{folder}'; load the model from a folder nobody else changes");
            }
            if (facts.IsRegular == false)
            {
                throw Refused("is not a regular file (a device, pipe or socket); side files must be regular files");
            }
            if (facts.LinkCount > 1)
            {
                throw Refused($"has {facts.LinkCount} hard links; a side file must have exactly one, because a hard link can bring a file from elsewhere into the model's folder: copy the file (cp, not ln) in place of the link");
            }
        }
    }

    private static string OneLine(string message) =>
        string.Join(' ', message.ReplaceLineEndings("\n").Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
