namespace ImplicitRegOnnx.Runtime.Data;

/// <summary>
/// SplitMix64 (Steele, Lea, Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014;
/// the reference code is Vigna's splitmix64.c): a 64-bit generator whose output is fully
/// specified, so shuffles are identical on every .NET version and platform, unlike
/// <see cref="Random"/>, whose algorithm is an implementation detail.
/// </summary>
internal sealed class SplitMix64
{
    /// <summary>The golden-ratio increment of the reference implementation.</summary>
    public const ulong Gamma = 0x9E3779B97F4A7C15UL;

    /// <summary>A generator whose state starts at <paramref name="seed"/>.</summary>
    public SplitMix64(ulong seed)
    {
        State = seed;
    }

    /// <summary>The whole generator state: a generator built from it continues the same stream.</summary>
    public ulong State { get; private set; }

    /// <summary>The next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        State = unchecked(State + Gamma);
        return Mix(State);
    }

    /// <summary>SplitMix64's output function (a bijective 64-bit finalizer): also a good hash.</summary>
    public static ulong Mix(ulong z)
    {
        unchecked
        {
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
    }

    /// <summary>
    /// A uniform integer in [0, <paramref name="bound"/>): rejection of the lowest (2^64 mod bound)
    /// outputs, then the remainder, so every value is exactly equally likely.
    /// </summary>
    public ulong NextBelow(ulong bound)
    {
        ArgumentOutOfRangeException.ThrowIfZero(bound);
        var threshold = unchecked(0UL - bound) % bound;
        while (true)
        {
            var r = NextUInt64();
            if (r >= threshold)
            {
                return r % bound;
            }
        }
    }

    /// <summary>A uniform double in [0, 1) from the top 53 bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Fisher-Yates (Durstenfeld) shuffle in place: for i from n-1 down to 1, swap i with a uniform j in [0, i].</summary>
    public void Shuffle<T>(Span<T> items)
    {
        for (var i = items.Length - 1; i > 0; i--)
        {
            var j = (int)NextBelow((ulong)i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
