using System.Security.Cryptography;
using System.Text;

namespace ImplicitRegOnnx.Onnx.IO;

/// <summary>
/// The one way the toolkit writes a file: whole or not at all, and never through a link. The bytes go to
/// a temporary file created exclusively in the destination's folder (FileMode.CreateNew, O_CREAT|O_EXCL:
/// it fails on anything already there, a planted symbolic link included, so the temporary file is never a
/// link), are flushed to disk, and the temporary file is renamed over the destination. A rename replaces
/// the destination's directory entry, whatever it is, and never writes into what a link points at, so
/// the old file (or a link's target) is left untouched and readers see the old file or the new one, never
/// half of one. A destination that is already a symbolic link is refused rather than replaced.
/// </summary>
internal static class AtomicFile
{
    /// <summary>Text is written as UTF-8 without a byte-order mark (as File.WriteAllText).</summary>
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    /// <summary>Writes <paramref name="text"/> (UTF-8) to <paramref name="path"/> atomically.</summary>
    public static void WriteAllText(string path, string text) => WriteAllBytes(path, Utf8.GetBytes(text));

    /// <summary>Writes <paramref name="bytes"/> to <paramref name="path"/> atomically.</summary>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        using var file = Create(path);
        file.Stream.Write(bytes);
        file.Commit();
    }

    /// <summary>Lets <paramref name="write"/> fill the file through a stream, then puts it in place.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        using var file = Create(path);
        write(file.Stream);
        file.Commit();
    }

    /// <summary>
    /// Starts writing <paramref name="path"/>; nothing is in place until <see cref="AtomicFileWriter.Commit"/>,
    /// and disposing without committing removes the temporary file. With <paramref name="within"/>, the
    /// destination must lie inside that folder and no folder between it and the destination may be a
    /// symbolic link (missing ones are created one by one, each checked first): what a side file of a
    /// model needs, whose name comes from the model. <paramref name="within"/> itself, like the folder of
    /// a destination given without it, is the caller's choice and may be reached through links.
    /// </summary>
    /// <exception cref="ImplicitRegException">The destination is a link or a folder, or lies outside <paramref name="within"/>, or a folder on the way is a link (BadInput).</exception>
    /// <exception cref="IOException">The file system refused (permissions, disk full…).</exception>
    public static AtomicFileWriter Create(string path, string? within = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = Path.GetFullPath(path);
        var name = Path.GetFileName(full);
        if (name.Length == 0)
        {
            throw ImplicitRegException.BadInput($"{path} names a folder, not a file; give a file name");
        }
        var folder = Path.GetDirectoryName(full)!;
        var boundary = folder;
        if (within is null)
        {
            Directory.CreateDirectory(folder);
        }
        else
        {
            boundary = Path.GetFullPath(within);
            if (!SafePaths.IsInside(full, boundary))
            {
                throw ImplicitRegException.BadInput($"{path} lies outside the folder {within} it must be written in; give a path inside it");
            }
            CreateFoldersWithoutLinks(boundary, folder, path);
        }
        if (SafePaths.LinkTarget(full) is { } target)
        {
            throw ImplicitRegException.BadInput($"{path} is a symbolic link (to {target}) and files are never written through links; remove the link or give the path of a regular file");
        }
        if (Directory.Exists(full))
        {
            throw ImplicitRegException.BadInput($"{path} is a folder; give the path of a file");
        }
        var temp = Path.Combine(folder, TempName(name));
        var stream = new FileStream(temp, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None });
        try
        {
            // O_EXCL already refused a link at the temporary name; a folder on the way swapped for a link
            // between the checks above and the create shows up in where the file really is.
            if (FileFacts.PathOpenedBy(stream.SafeFileHandle) is { } opened && !SafePaths.IsInside(opened, SafePaths.RealPath(boundary)))
            {
                throw ImplicitRegException.BadInput($"{path}: a folder on the way was replaced by a link while the file was being created (it landed in {opened}); write to a folder nobody else changes");
            }
        }
        catch
        {
            stream.Dispose();
            File.Delete(temp);
            throw;
        }
        return new AtomicFileWriter(full, temp, stream);
    }

    /// <summary>Creates the folders from <paramref name="boundary"/> down to <paramref name="folder"/>, refusing any that is a link.</summary>
    private static void CreateFoldersWithoutLinks(string boundary, string folder, string path)
    {
        Directory.CreateDirectory(boundary);
        var current = boundary;
        var relative = Path.GetRelativePath(boundary, folder);
        if (relative == ".")
        {
            return;
        }
        foreach (var part in relative.Split([Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar], StringSplitOptions.RemoveEmptyEntries))
        {
            current = Path.Combine(current, part);
            if (SafePaths.LinkTarget(current) is { } target)
            {
                throw ImplicitRegException.BadInput($"{path} would be written through {current}, a symbolic link (to {target}), and files are never written through links; remove the link");
            }
            if (!Directory.Exists(current))
            {
                Directory.CreateDirectory(current);
            }
        }
    }

    /// <summary>A hidden name next to the destination, unique per call; long names are shortened to stay under the usual 255-byte limit.</summary>
    private static string TempName(string name)
    {
        var stem = name.Length > 100 ? name[..100] : name;
        return $".{stem}.{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8))}.tmp";
    }
}

/// <summary>A file being written by <see cref="AtomicFile.Create"/>: write to <see cref="Stream"/>, then <see cref="Commit"/>.</summary>
internal sealed class AtomicFileWriter : IDisposable
{
    private readonly string _temp;
    private bool _done;

    internal AtomicFileWriter(string path, string temp, FileStream stream)
    {
        Path = path;
        _temp = temp;
        Stream = stream;
    }

    /// <summary>The destination (absolute).</summary>
    public string Path { get; }

    /// <summary>Where the content goes (the temporary file).</summary>
    public FileStream Stream { get; }

    /// <summary>Flushes the content to disk and renames it over the destination.</summary>
    public void Commit()
    {
        ObjectDisposedException.ThrowIf(_done, this);
        Stream.Flush(flushToDisk: true);
        Stream.Dispose();
        File.Move(_temp, Path, overwrite: true);
        _done = true;
    }

    /// <summary>Without a commit, removes the temporary file and leaves the destination as it was.</summary>
    public void Dispose()
    {
        if (_done)
        {
            return;
        }
        _done = true;
        Stream.Dispose();
        try
        {
            File.Delete(_temp);
        }
        catch (IOException)
        {
            // Best effort: the hidden temporary file is all that stays behind.
        }
    }
}
