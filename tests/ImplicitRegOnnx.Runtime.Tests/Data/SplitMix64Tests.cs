using ImplicitRegOnnx.Runtime.Data;

namespace ImplicitRegOnnx.Runtime.Tests.Data;

public class SplitMix64Tests
{
    [Fact]
    public void Matches_the_reference_splitmix64_outputs()
    {
        // Vigna's splitmix64.c seeded with 0.
        var rng = new SplitMix64(0);
        Assert.Equal(0xE220A8397B1DCDAFUL, rng.NextUInt64());
        Assert.Equal(0x6E789E6AA1B965F4UL, rng.NextUInt64());
        Assert.Equal(0x06C45D188009454FUL, rng.NextUInt64());
    }

    [Fact]
    public void State_continues_the_stream()
    {
        var a = new SplitMix64(123);
        a.NextUInt64();
        var b = new SplitMix64(a.State);
        Assert.Equal(a.NextUInt64(), b.NextUInt64());
    }

    [Fact]
    public void NextBelow_stays_in_range_and_covers_it()
    {
        var rng = new SplitMix64(7);
        var seen = new int[7];
        for (var i = 0; i < 7000; i++)
        {
            seen[rng.NextBelow(7)]++;
        }
        Assert.All(seen, c => Assert.InRange(c, 850, 1150));
        var d = rng.NextDouble();
        Assert.InRange(d, 0.0, 1.0 - double.Epsilon);
    }
}
