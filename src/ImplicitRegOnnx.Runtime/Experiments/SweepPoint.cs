using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace ImplicitRegOnnx.Runtime.Experiments;

/// <summary>
/// One point of a sweep grid: option values by option name (without the leading dashes), in the order
/// the options were given. Its <see cref="Key"/> is independent of that order, so the same settings
/// always name the same run.
/// </summary>
public sealed class SweepPoint
{
    /// <summary>A point of these option values (name without dashes → value).</summary>
    public SweepPoint(IEnumerable<KeyValuePair<string, string>> values)
    {
        Values = values.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        Key = string.Join(' ', Values.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}"));
    }

    /// <summary>Option name → value, e.g. "lr" → "0.05".</summary>
    public IReadOnlyDictionary<string, string> Values { get; }

    /// <summary>"name=value" pairs sorted by name, separated by spaces.</summary>
    public string Key { get; }

    /// <summary>The value of an option, or null when the point does not set it.</summary>
    public string? this[string name] => Values.TryGetValue(name, out var v) ? v : null;

    /// <summary>
    /// A folder name for the run: the key with characters outside [A-Za-z0-9.=_-] replaced, plus a
    /// short hash of the exact key so that distinct keys never share a folder.
    /// </summary>
    public string FolderName
    {
        get
        {
            var safe = new StringBuilder(Key.Length);
            foreach (var ch in Key)
            {
                safe.Append(char.IsAsciiLetterOrDigit(ch) || ch is '.' or '=' or '-' ? ch : '_');
            }
            var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Key)))[..8];
            var name = safe.Length > 120 ? safe.ToString(0, 120) : safe.ToString();
            return string.Create(CultureInfo.InvariantCulture, $"{name}_{hash}");
        }
    }

    /// <summary>The <see cref="Key"/>.</summary>
    public override string ToString() => Key;
}
