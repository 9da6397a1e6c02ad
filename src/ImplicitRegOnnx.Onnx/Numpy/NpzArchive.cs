using System.IO.Compression;
using ImplicitRegOnnx.Onnx.IO;

namespace ImplicitRegOnnx.Onnx.Numpy;

/// <summary>
/// Reads and writes NumPy's .npz archives (np.savez, np.savez_compressed): a zip file with one
/// NAME.npy entry per array. Names may contain '/', e.g. "grad/fc.weight" is the entry
/// "grad/fc.weight.npy". Entries may be stored or deflated.
/// </summary>
internal static class NpzArchive
{
    private const string NpyExtension = ".npy";

    /// <summary>
    /// Reads every array of the archive, keyed by name without ".npy", in archive order (the
    /// dictionary enumerates in that order). Each tensor's <see cref="Tensor.Name"/> is its key.
    /// </summary>
    /// <exception cref="ImplicitRegException">The file is not a zip of .npy entries, or an entry is malformed or unsupported.</exception>
    public static IReadOnlyDictionary<string, Tensor> Read(string path)
    {
        using var stream = UserFiles.OpenRead(path);
        return Read(stream, path);
    }

    /// <summary>Reads an archive from a seekable stream; <paramref name="source"/> names it in error messages.</summary>
    public static IReadOnlyDictionary<string, Tensor> Read(Stream stream, string? source = null)
    {
        var where = source ?? ".npz data";
        ZipArchive zip;
        try
        {
            zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
        }
        catch (InvalidDataException e)
        {
            throw ImplicitRegException.BadInput($"{where} is not a .npz file (not a readable zip archive: {e.Message}); write it with numpy.savez", e);
        }
        using (zip)
        {
            var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            foreach (var entry in zip.Entries)
            {
                // Folder entries (some zip tools add them) hold nothing.
                if (entry.FullName.EndsWith('/') && entry.Length == 0)
                {
                    continue;
                }
                if (!entry.FullName.EndsWith(NpyExtension, StringComparison.Ordinal))
                {
                    throw ImplicitRegException.BadInput($"{where}: entry '{entry.FullName}' is not a .npy array");
                }
                var name = entry.FullName[..^NpyExtension.Length];
                var label = $"{where}: entry '{name}'";
                Tensor tensor;
                try
                {
                    using var entryStream = entry.Open();
                    tensor = NpyFormat.Read(entryStream, label);
                }
                catch (InvalidDataException e)
                {
                    throw ImplicitRegException.BadInput($"{label} cannot be read: {e.Message}");
                }
                catch (NotSupportedException e)
                {
                    throw ImplicitRegException.BadInput($"{label} cannot be read: {e.Message}");
                }
                tensor.Name = name;
                if (!result.TryAdd(name, tensor))
                {
                    throw ImplicitRegException.BadInput($"{where}: entry '{name}' appears twice");
                }
            }
            return result;
        }
    }

    /// <summary>
    /// Writes the arrays to a .npz file atomically (<c>AtomicFile</c>: a temporary file in the same
    /// folder, renamed over <paramref name="path"/>), so readers never see a half-written archive.
    /// </summary>
    /// <param name="path">The archive to create or replace.</param>
    /// <param name="arrays">Name → tensor; names must be unique and non-empty.</param>
    /// <param name="compress">Deflate entries as np.savez_compressed does; otherwise store them as np.savez does.</param>
    public static void Write(string path, IEnumerable<KeyValuePair<string, Tensor>> arrays, bool compress = false) =>
        AtomicFile.Write(path, stream => Write(stream, arrays, compress));

    /// <summary>Writes the arrays as a .npz archive to the stream (see <see cref="Write(string, IEnumerable{KeyValuePair{string, Tensor}}, bool)"/>).</summary>
    public static void Write(Stream stream, IEnumerable<KeyValuePair<string, Tensor>> arrays, bool compress = false)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        using var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
        foreach (var (name, tensor) in arrays)
        {
            if (string.IsNullOrEmpty(name))
            {
                throw new ArgumentException("An .npz array name must not be empty.", nameof(arrays));
            }
            if (!seen.Add(name))
            {
                throw new ArgumentException($"The .npz array name '{name}' is given twice.", nameof(arrays));
            }
            var entry = zip.CreateEntry(name + NpyExtension, compress ? CompressionLevel.Optimal : CompressionLevel.NoCompression);
            using var entryStream = entry.Open();
            NpyFormat.Write(entryStream, tensor);
        }
    }
}
