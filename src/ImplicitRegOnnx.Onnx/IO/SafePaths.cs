namespace ImplicitRegOnnx.Onnx.IO;

/// <summary>
/// Path facts that do not trust the path's text: where a path really leads once every symbolic link in
/// it is followed, whether a path is a link, whether one path lies inside a folder. The external-data
/// rules (docs/architecture.md, Serialization) and <see cref="AtomicFile"/> are built on these.
/// </summary>
internal static class SafePaths
{
    /// <summary>Links followed before <see cref="RealPath"/> gives up (Linux's own limit, MAXSYMLINKS, is 40).</summary>
    private const int MaxLinks = 40;

    /// <summary>
    /// How paths compare: exactly on Linux; ignoring case where the usual file systems do (Windows, macOS),
    /// so a differently cased spelling of the same folder is not taken for another one. Ignoring case on
    /// Linux would let <c>/m/Model</c> pass for <c>/m/model</c>, two different folders there.
    /// </summary>
    public static StringComparison Comparison { get; } =
        OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;

    /// <summary>
    /// The absolute path with every symbolic link resolved, in every component (as realpath(3) or C++'s
    /// weakly_canonical): a link's target replaces it and is resolved in turn, and <c>..</c> after a link
    /// climbs from where the link led, as the kernel does. Components that do not exist are kept as
    /// written. Resolving component by component is what catches a link in a parent folder, which a check
    /// of the last component alone would miss.
    /// </summary>
    /// <exception cref="ImplicitRegException">More than 40 links, as in a loop (BadInput).</exception>
    public static string RealPath(string path)
    {
        // Absolute without Path.GetFullPath's lexical handling of "..", which would climb before the links are known.
        var full = Path.IsPathFullyQualified(path) ? path
            : Path.IsPathRooted(path) ? Path.GetFullPath(path)
            : Path.Combine(Directory.GetCurrentDirectory(), path);
        var current = Path.GetPathRoot(full)!;
        var pending = new List<string>(Components(full[current.Length..]));
        var followed = 0;
        while (pending.Count > 0)
        {
            var name = pending[0];
            pending.RemoveAt(0);
            if (name == ".")
            {
                continue;
            }
            if (name == "..")
            {
                current = Path.GetDirectoryName(current) ?? current;
                continue;
            }
            var next = Path.Combine(current, name);
            var target = LinkTarget(next);
            if (target is null)
            {
                current = next;
                continue;
            }
            if (++followed > MaxLinks)
            {
                throw ImplicitRegException.BadInput($"{path}: more than {MaxLinks} symbolic links on the way (a loop?); replace the links by the folders or files they stand for");
            }
            target = StripDevicePrefix(target);
            if (Path.IsPathRooted(target))
            {
                current = Path.GetPathRoot(target)!;
                target = target[current.Length..];
            }
            pending.InsertRange(0, Components(target));
        }
        return current;
    }

    /// <summary>The target of the link at <paramref name="path"/> as stored in the link, or null when it is not a link (or does not exist).</summary>
    public static string? LinkTarget(string path)
    {
        try
        {
            // FileInfo reads the link itself, whether it names a file or a folder, and never follows it.
            return new FileInfo(path).LinkTarget;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A component that cannot be inspected cannot be opened either; the open that follows reports it.
            return null;
        }
    }

    /// <summary>Whether <paramref name="path"/> (absolute, normalized) lies strictly inside <paramref name="folder"/> (absolute, normalized).</summary>
    public static bool IsInside(string path, string folder)
    {
        var prefix = Path.EndsInDirectorySeparator(folder) ? folder : folder + Path.DirectorySeparatorChar;
        return path.Length > prefix.Length && path.StartsWith(prefix, Comparison);
    }

    private static string[] Components(string relative) =>
        relative.Split([Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar], StringSplitOptions.RemoveEmptyEntries);

    /// <summary>Windows links may store their target as <c>\\?\C:\…</c> or <c>\??\C:\…</c>; the rest of the path is an ordinary one.</summary>
    private static string StripDevicePrefix(string target)
    {
        if (!OperatingSystem.IsWindows())
        {
            return target;
        }
        foreach (var prefix in (string[])[@"\\?\UNC\", @"\??\UNC\"])
        {
            if (target.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                return @"\\" + target[prefix.Length..];
            }
        }
        foreach (var prefix in (string[])[@"\\?\", @"\??\"])
        {
            if (target.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                return target[prefix.Length..];
            }
        }
        return target;
    }
}
