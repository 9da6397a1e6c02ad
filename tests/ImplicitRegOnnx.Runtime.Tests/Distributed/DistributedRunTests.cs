using System.Diagnostics.CodeAnalysis;
using ImplicitRegOnnx.Runtime.Distributed;

namespace ImplicitRegOnnx.Runtime.Tests.Distributed;

/// <summary>The ending rule: finish on success, abort the job on a failure (with more than one process).</summary>
public sealed class DistributedRunTests
{
    /// <summary>Records how it was ended; its Abort throws <see cref="Aborted"/> where MPI's would end the process.</summary>
    private sealed class RecordingWorld(int size) : ICollectives
    {
        public int Rank => 0;

        public int Size => size;

        public bool Finished { get; private set; }

        public int? AbortedWith { get; private set; }

        public void AllReduceSum(Span<float> values) => throw new NotSupportedException();

        public void AllReduceSum(Span<double> values) => throw new NotSupportedException();

        public void AllReduceMax(Span<long> values) => throw new NotSupportedException();

        public void Broadcast(Span<byte> data, int root) => throw new NotSupportedException();

        public void Barrier() => throw new NotSupportedException();

        [DoesNotReturn]
        public void Abort(int exitCode)
        {
            AbortedWith = exitCode;
            throw new Aborted();
        }

        public void Finish() => Finished = true;
    }

    private sealed class Aborted : Exception;

    [Fact]
    public void SuccessFinishesTheWorldAndReturnsTheWorksCode()
    {
        var world = new RecordingWorld(2);
        var code = DistributedRun.Execute(() => world, w => 5, e => throw new InvalidOperationException("not called"));
        Assert.Equal(5, code);
        Assert.True(world.Finished);
        Assert.Null(world.AbortedWith);
    }

    [Theory]
    [InlineData(2, 2)]
    [InlineData(0, 1)]
    public void AFailureIsReportedAndAbortsTheJobWithoutFinishing(int reportedCode, int abortCode)
    {
        var world = new RecordingWorld(2);
        Exception? reported = null;
        Assert.Throws<Aborted>(() => DistributedRun.Execute(
            () => world,
            w => throw ImplicitRegException.BadInput("bad batch"),
            e => { reported = e; return reportedCode; }));
        Assert.Equal("bad batch", reported?.Message);
        Assert.Equal(abortCode, world.AbortedWith);
        Assert.False(world.Finished);
    }

    [Fact]
    public void AFailureOfOneProcessAloneReturnsTheReportedCode()
    {
        var world = new RecordingWorld(1);
        var code = DistributedRun.Execute(() => world, w => throw new InvalidOperationException("x"), e => 7);
        Assert.Equal(7, code);
        Assert.Null(world.AbortedWith);
    }

    [Fact]
    public void AWorldThatCannotOpenIsReportedWithNothingToEnd()
    {
        var code = DistributedRun.Execute(
            () => throw ImplicitRegException.Unsupported("libmpi.so.40 (Open MPI) cannot be loaded"),
            w => throw new InvalidOperationException("not called"),
            e => e.Message.Contains("libmpi.so.40", StringComparison.Ordinal) ? 2 : 99);
        Assert.Equal(2, code);
    }
}
