using ImplicitRegOnnx.Runtime.Distributed;

namespace ImplicitRegOnnx.Runtime.Tests.Distributed;

public sealed class SingleProcessCollectivesTests
{
    private readonly SingleProcessCollectives _world = new();

    [Fact]
    public void TheWorldOfOneProcessIsRankZeroOfOne()
    {
        Assert.Equal(0, _world.Rank);
        Assert.Equal(1, _world.Size);
    }

    [Fact]
    public void SumsAndMaximaOverOneProcessAreItsOwnValues()
    {
        float[] floats = [1.5f, -2f, float.MaxValue, 0f];
        double[] doubles = [1e-300, -3.25];
        long[] longs = [long.MinValue, 7];
        _world.AllReduceSum(floats.AsSpan());
        _world.AllReduceSum(doubles.AsSpan());
        _world.AllReduceMax(longs.AsSpan());
        Assert.Equal([1.5f, -2f, float.MaxValue, 0f], floats);
        Assert.Equal([1e-300, -3.25], doubles);
        Assert.Equal([long.MinValue, 7], longs);
    }

    [Fact]
    public void ABroadcastFromRankZeroLeavesTheData()
    {
        byte[] bytes = [1, 2, 3];
        float[] floats = [4f, 5f];
        _world.Broadcast(bytes.AsSpan(), root: 0);
        _world.Broadcast(floats.AsSpan(), root: 0);
        Assert.Equal([1, 2, 3], bytes);
        Assert.Equal([4f, 5f], floats);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(-1)]
    public void ABroadcastFromARankOutsideTheWorldIsABadParameter(int root)
    {
        var error = Assert.Throws<ImplicitRegException>(() => _world.Broadcast(new byte[2].AsSpan(), root));
        Assert.Equal(ErrorKind.BadInput, error.Kind);
        Assert.Equal("root", error.Parameter);
        Assert.Equal($"root must be a rank in [0, 1), got {root}", error.Message);
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(long.MinValue)]
    [InlineData(long.MaxValue)]
    public void OneProcessAlwaysAgreesWithItself(long value) => Assert.True(_world.AllAgree(value));

    [Fact]
    public void BarrierAndFinishReturnAndFinishMayBeRepeated()
    {
        _world.Barrier();
        _world.Finish();
        _world.Finish();
    }
}
