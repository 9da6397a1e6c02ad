using System.Diagnostics;
using System.Globalization;

namespace ImplicitRegOnnx.Runtime.Workflows;

/// <summary>
/// Resident memory of this process from Linux's /proc/self/status (VmRSS now, VmHWM the peak).
/// Writing 5 to /proc/self/clear_refs resets the peak to the current size (Linux 4.0+, proc(5)),
/// which lets <see cref="StepBenchmark"/> report the peak of the training steps apart from that of building the
/// step model. Elsewhere only the process peak is known.
/// </summary>
internal static class ProcessMemory
{
    /// <summary>Resets the peak to the current resident size; false where the kernel does not allow it.</summary>
    public static bool TryResetPeak()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            return false;
        }
    }

    /// <summary>The resident size now, in MiB, or null off Linux.</summary>
    public static double? ResidentMb() => StatusMb("VmRSS:");

    /// <summary>The peak resident size (since the last reset), in MiB; the process peak off Linux.</summary>
    public static double PeakMb()
    {
        if (StatusMb("VmHWM:") is { } peak)
        {
            return peak;
        }
        using var process = Process.GetCurrentProcess();
        return process.PeakWorkingSet64 / 1048576.0;
    }

    private static double? StatusMb(string key)
    {
        try
        {
            var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith(key, StringComparison.Ordinal));
            var kb = line?[key.Length..].Trim().Split(' ')[0];
            return kb is not null && long.TryParse(kb, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value / 1024.0 : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
