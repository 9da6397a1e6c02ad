using System.Runtime.InteropServices;
using System.Text;

namespace ImplicitRegOnnx.TestSupport;

/// <summary>
/// Hard links and named pipes for the tests of the external-data rules (Linux; .NET makes symbolic
/// links itself but has no call for these). Paths go to libc as NUL-terminated UTF-8.
/// </summary>
public static class FileLinks
{
    /// <summary>Makes <paramref name="newPath"/> a second name of the file <paramref name="existing"/> (link(2)).</summary>
    public static void HardLink(string existing, string newPath)
    {
        if (link(Utf8(existing), Utf8(newPath)) != 0)
        {
            throw new IOException($"link {existing} {newPath} failed (errno {Marshal.GetLastPInvokeError()})");
        }
    }

    /// <summary>Makes a named pipe at <paramref name="path"/> (mkfifo(3)); opening it for reading blocks until a writer comes.</summary>
    public static void NamedPipe(string path)
    {
        if (mkfifo(Utf8(path), Convert.ToUInt32("600", 8)) != 0)
        {
            throw new IOException($"mkfifo {path} failed (errno {Marshal.GetLastPInvokeError()})");
        }
    }

    private static byte[] Utf8(string path) => Encoding.UTF8.GetBytes(path + "\0");

    [DllImport("libc", SetLastError = true)]
    private static extern int link(byte[] oldpath, byte[] newpath);

    [DllImport("libc", SetLastError = true)]
    private static extern int mkfifo(byte[] pathname, uint mode);
}
