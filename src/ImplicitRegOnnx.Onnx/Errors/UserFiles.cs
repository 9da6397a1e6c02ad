namespace ImplicitRegOnnx;

/// <summary>
/// Opening the files a caller names (models, arrays, data sets, checkpoints): a file that cannot be
/// opened is bad input, reported at the place it is opened as one line that names the file, not as
/// the <see cref="IOException"/> of the file system.
/// </summary>
internal static class UserFiles
{
    /// <summary>Opens <paramref name="path"/> for reading.</summary>
    /// <param name="path">The file the caller named.</param>
    /// <param name="bufferSize">The stream's buffer size.</param>
    /// <exception cref="ImplicitRegException">Of kind <see cref="ErrorKind.BadInput"/>: the file is missing or cannot be read.</exception>
    public static FileStream OpenRead(string path, int bufferSize = 1 << 16)
    {
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw CannotRead(path, e);
        }
    }

    /// <summary>The error for a failed read of <paramref name="path"/>: one line naming the file and what went wrong.</summary>
    /// <param name="path">The file the caller named.</param>
    /// <param name="cause">What the file system or decompressor threw.</param>
    public static ImplicitRegException CannotRead(string path, Exception cause)
    {
        ArgumentNullException.ThrowIfNull(cause);
        var problem = cause switch
        {
            FileNotFoundException => "file not found; check the path",
            DirectoryNotFoundException => "folder not found; check the path",
            UnauthorizedAccessException when Directory.Exists(path) => "is a directory, not a file",
            UnauthorizedAccessException => $"cannot be read: permission denied ({OneLine(cause.Message)})",
            InvalidDataException => $"corrupt compressed data ({OneLine(cause.Message)})",
            _ => $"cannot be read ({OneLine(cause.Message)})",
        };
        return ImplicitRegException.BadInput($"{path}: {problem}", cause);
    }

    private static string OneLine(string text) => text.ReplaceLineEndings(" ").Trim();
}
