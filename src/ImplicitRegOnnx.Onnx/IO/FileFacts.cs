using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace ImplicitRegOnnx.Onnx.IO;

/// <summary>
/// What the operating system says about a file: its kind, how many hard links (names) it has and, for an
/// open handle, the real path of what was opened. .NET exposes none of the link count, so it comes from
/// statx(2) on Linux and GetFileInformationByHandle on Windows. Elsewhere (macOS, BSDs) the facts are
/// unknown (null) and callers say so in their documentation.
/// </summary>
/// <param name="IsRegular">A regular file (not a folder, device, pipe or socket); null when unknown.</param>
/// <param name="LinkCount">Hard links to the file (st_nlink, nNumberOfLinks); null when unknown.</param>
/// <param name="OpenedPath">For a handle: the absolute path the kernel opened, every link resolved (Linux, from /proc/self/fd); otherwise null.</param>
internal sealed record FileFacts(bool? IsRegular, long? LinkCount, string? OpenedPath)
{
    /// <summary>Nothing is known (a platform without these calls).</summary>
    public static FileFacts Unknown { get; } = new(null, null, null);

    /// <summary>The facts of an open file.</summary>
    /// <exception cref="IOException">The call failed on a platform that has it.</exception>
    public static FileFacts Of(SafeFileHandle handle)
    {
        ArgumentNullException.ThrowIfNull(handle);
        if (OperatingSystem.IsLinux())
        {
            var added = false;
            handle.DangerousAddRef(ref added);
            try
            {
                var fd = (int)handle.DangerousGetHandle();
                var stat = Linux.Stat(fd, "", Linux.AtEmptyPath);
                return new(stat.IsRegular, stat.LinkCount, PathOpenedBy(fd));
            }
            finally
            {
                if (added)
                {
                    handle.DangerousRelease();
                }
            }
        }
        if (OperatingSystem.IsWindows())
        {
            if (!Windows.GetFileInformationByHandle(handle, out var info))
            {
                throw new IOException($"GetFileInformationByHandle failed (Win32 error {Marshal.GetLastPInvokeError()})");
            }
            // Only FILE_ATTRIBUTE_DIRECTORY says "not a file": the open followed any link already, and
            // ordinary files can carry reparse points (cloud placeholders, deduplicated files).
            const uint directory = 0x10;
            return new((info.FileAttributes & directory) == 0, info.NumberOfLinks, null);
        }
        return Unknown;
    }

    /// <summary>
    /// The absolute path the kernel opened for <paramref name="handle"/>, every link resolved, read back
    /// from /proc/self/fd (Linux); null elsewhere or without /proc. Comparing it with the folder a file
    /// must be in catches a path that was swapped for a link between a check and the open.
    /// </summary>
    public static string? PathOpenedBy(SafeFileHandle handle)
    {
        ArgumentNullException.ThrowIfNull(handle);
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }
        var added = false;
        handle.DangerousAddRef(ref added);
        try
        {
            return PathOpenedBy((int)handle.DangerousGetHandle());
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    private static string? PathOpenedBy(int fd)
    {
        var opened = SafePaths.LinkTarget("/proc/self/fd/" + fd.ToString(System.Globalization.CultureInfo.InvariantCulture));
        // A deleted file reads back as "PATH (deleted)", anything not a path (a pipe, a socket) as "pipe:[N]".
        return opened is not null && Path.IsPathRooted(opened) && !opened.EndsWith(" (deleted)", StringComparison.Ordinal) ? opened : null;
    }

    /// <summary>The facts of the path itself, a final symbolic link not followed (Linux; elsewhere unknown).</summary>
    /// <exception cref="IOException">The path does not exist or cannot be inspected.</exception>
    public static FileFacts OfPath(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            return Unknown;
        }
        var stat = Linux.Stat(Linux.AtCurrentDirectory, path, Linux.AtSymlinkNoFollow);
        return new(stat.IsRegular, stat.LinkCount, null);
    }

    /// <summary>statx(2): its flags and struct layout are the same on every Linux architecture (include/uapi/linux/stat.h, fcntl.h).</summary>
    private static class Linux
    {
        public const int AtCurrentDirectory = -100;
        public const int AtSymlinkNoFollow = 0x100;
        public const int AtEmptyPath = 0x1000;
        private const uint StatxType = 0x1, StatxMode = 0x2, StatxNlink = 0x4;
        private const ushort FileTypeMask = 0xF000, RegularFile = 0x8000;

        public static (bool? IsRegular, long? LinkCount) Stat(int directory, string path, int flags)
        {
            int result;
            StatxBuffer buffer;
            try
            {
                // The path as the kernel takes it: UTF-8 bytes ending in NUL.
                result = statx(directory, System.Text.Encoding.UTF8.GetBytes(path + "\0"), flags, StatxType | StatxMode | StatxNlink, out buffer);
            }
            catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
            {
                throw new IOException("this C library has no statx (glibc 2.28 or later has it), so the file's links cannot be counted", e);
            }
            if (result != 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                throw new IOException($"statx failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})");
            }
            var isRegular = (buffer.Mask & (StatxType | StatxMode)) != 0 ? (buffer.Mode & FileTypeMask) == RegularFile : (bool?)null;
            var links = (buffer.Mask & StatxNlink) != 0 ? buffer.LinkCount : (long?)null;
            return (isRegular, links);
        }

        [DllImport("libc", EntryPoint = "statx", SetLastError = true)]
        private static extern int statx(int dirfd, byte[] pathname, int flags, uint mask, out StatxBuffer buffer);

        /// <summary>The head of struct statx (256 bytes in all); the fields after stx_mode are not read.</summary>
        [StructLayout(LayoutKind.Sequential, Size = 256)]
        private struct StatxBuffer
        {
            public uint Mask;
            public uint BlockSize;
            public ulong Attributes;
            public uint LinkCount;
            public uint Uid;
            public uint Gid;
            public ushort Mode;
        }
    }

    private static class Windows
    {
        [DllImport("kernel32.dll", SetLastError = true)]
        [return: MarshalAs(UnmanagedType.Bool)]
        public static extern bool GetFileInformationByHandle(SafeFileHandle file, out ByHandleFileInformation information);

        /// <summary>BY_HANDLE_FILE_INFORMATION (fileapi.h); a FILETIME is two DWORDs, so 4-byte packing keeps the C layout.</summary>
        [StructLayout(LayoutKind.Sequential, Pack = 4)]
        public struct ByHandleFileInformation
        {
            public uint FileAttributes;
            public ulong CreationTime;
            public ulong LastAccessTime;
            public ulong LastWriteTime;
            public uint VolumeSerialNumber;
            public uint FileSizeHigh;
            public uint FileSizeLow;
            public uint NumberOfLinks;
            public uint FileIndexHigh;
            public uint FileIndexLow;
        }
    }
}
