using ImplicitRegOnnx.Onnx.IO;
using ImplicitRegOnnx.TestSupport;

namespace ImplicitRegOnnx.Onnx.Tests.IO;

public sealed class SafePathsTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public SafePathsTests()
    {
        // The temporary folder may itself be reached through a link (macOS's /tmp); expectations start from its real path.
        Root = SafePaths.RealPath(_temp.Path);
        Directory.CreateDirectory(Path.Combine(Root, "a", "b"));
    }

    public void Dispose() => _temp.Dispose();

    private string Root { get; }

    private string In(params string[] parts) => Path.Combine([Root, .. parts]);

    [Fact]
    public void APathWithoutLinksIsItsNormalizedSelf()
    {
        Assert.Equal(In("a", "b"), SafePaths.RealPath(In("a", ".", "b", "..", "b")));
        Assert.Equal(In("a", "missing", "file"), SafePaths.RealPath(In("a", "missing", "file")));
    }

    [SkippableFact]
    public void LinksInAnyComponentAreFollowedAndDotDotClimbsFromWhereTheyLed()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "symbolic links without privileges");
        Directory.CreateSymbolicLink(In("rel"), Path.Combine("a", "b"));
        Directory.CreateSymbolicLink(In("abs"), In("a", "b"));
        Directory.CreateSymbolicLink(In("chain"), "rel");
        File.WriteAllText(In("a", "b", "f"), "");
        File.CreateSymbolicLink(In("a", "f-link"), Path.Combine("..", "chain", "f"));

        Assert.Equal(In("a", "b", "f"), SafePaths.RealPath(In("rel", "f")));
        Assert.Equal(In("a", "b", "f"), SafePaths.RealPath(In("abs", "f")));
        Assert.Equal(In("a", "b", "f"), SafePaths.RealPath(In("chain", "f")));
        Assert.Equal(In("a", "b", "f"), SafePaths.RealPath(In("a", "f-link")));
        // rel/.. is a/ (the kernel climbs from a/b), not the root folder the text suggests.
        Assert.Equal(In("a", "x"), SafePaths.RealPath(In("rel", "..", "x")));
    }

    [SkippableFact]
    public void ALoopOfLinksIsAnError()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "symbolic links without privileges");
        File.CreateSymbolicLink(In("one"), "two");
        File.CreateSymbolicLink(In("two"), "one");

        var error = Assert.Throws<ImplicitRegException>(() => SafePaths.RealPath(In("one")));
        Assert.Contains("more than 40 symbolic links", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void InsideMeansStrictlyBelow()
    {
        Assert.True(SafePaths.IsInside(In("a", "b"), In("a")));
        Assert.False(SafePaths.IsInside(In("a"), In("a")));
        Assert.False(SafePaths.IsInside(In("ab"), In("a")));
        Assert.True(SafePaths.IsInside(In("a", "b"), In("a") + Path.DirectorySeparatorChar));
    }
}
