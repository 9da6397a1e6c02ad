using ImplicitRegOnnx.Onnx.IO;
using ImplicitRegOnnx.TestSupport;

namespace ImplicitRegOnnx.Onnx.Tests.IO;

public sealed class AtomicFileTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private string[] Names(string folder = "") =>
        [.. Directory.EnumerateFileSystemEntries(_temp.File(folder)).Select(Path.GetFileName).Order(StringComparer.Ordinal)!];

    [Fact]
    public void WritesAndReplacesWholeFilesLeavingNoTemporaryFile()
    {
        var path = _temp.File("a/b/report.json");
        AtomicFile.WriteAllText(path, "first");
        AtomicFile.WriteAllText(path, "second, longer");

        Assert.Equal("second, longer", File.ReadAllText(path));
        Assert.Equal(["report.json"], Names("a/b"));
    }

    [Fact]
    public void AFailingWriterLeavesTheOldFileAndNoTemporaryFile()
    {
        var path = _temp.File("data.bin");
        AtomicFile.WriteAllBytes(path, [1, 2, 3]);

        Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, stream =>
        {
            stream.Write([9, 9, 9, 9, 9]);
            throw new InvalidOperationException("the writer failed half-way");
        }));

        Assert.Equal([1, 2, 3], File.ReadAllBytes(path));
        Assert.Equal(["data.bin"], Names());
    }

    [Fact]
    public void NothingIsInPlaceBeforeTheCommit()
    {
        var path = _temp.File("model.onnx");
        using (var file = AtomicFile.Create(path))
        {
            file.Stream.Write([1, 2]);
            Assert.False(File.Exists(path));
        }
        Assert.Empty(Names());
    }

    [Fact]
    public void ALongNameGetsAShorterTemporaryName()
    {
        var path = _temp.File(new string('n', 250));
        AtomicFile.WriteAllText(path, "x");
        Assert.Equal("x", File.ReadAllText(path));
    }

    [Fact]
    public void AFolderAtTheDestinationIsRefused()
    {
        Directory.CreateDirectory(_temp.File("taken"));
        var error = Assert.Throws<ImplicitRegException>(() => AtomicFile.WriteAllText(_temp.File("taken"), "x"));
        Assert.Equal(ErrorKind.BadInput, error.Kind);
        Assert.Contains("is a folder", error.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void ALinkAtTheDestinationIsRefusedAndItsTargetStaysUntouched()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "symbolic links without privileges");
        var target = _temp.File("target.txt");
        File.WriteAllText(target, "keep me");
        var link = _temp.File("link.txt");
        File.CreateSymbolicLink(link, target);

        var error = Assert.Throws<ImplicitRegException>(() => AtomicFile.WriteAllText(link, "overwritten"));

        Assert.Equal($"{link} is a symbolic link (to {target}) and files are never written through links; remove the link or give the path of a regular file", error.Message);
        Assert.Equal("keep me", File.ReadAllText(target));
        Assert.Equal(["link.txt", "target.txt"], Names());
    }

    [SkippableFact]
    public void WithinAFolderNoFolderOnTheWayMayBeALink()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "symbolic links without privileges");
        Directory.CreateDirectory(_temp.File("out"));
        Directory.CreateDirectory(_temp.File("elsewhere"));
        Directory.CreateSymbolicLink(_temp.File("out/shards"), _temp.File("elsewhere"));

        var error = Assert.Throws<ImplicitRegException>(() => AtomicFile.Create(_temp.File("out/shards/deeper/w.bin"), within: _temp.File("out")));

        Assert.Contains($"through {_temp.File("out/shards")}, a symbolic link", error.Message, StringComparison.Ordinal);
        Assert.Empty(Names("elsewhere"));
    }

    [Fact]
    public void WithinAFolderMissingFoldersAreCreatedAndPathsOutsideRefused()
    {
        using (var file = AtomicFile.Create(_temp.File("out/a/b/w.bin"), within: _temp.File("out")))
        {
            file.Stream.Write([7]);
            file.Commit();
        }
        Assert.Equal([7], File.ReadAllBytes(_temp.File("out/a/b/w.bin")));

        var error = Assert.Throws<ImplicitRegException>(() => AtomicFile.Create(_temp.File("other/w.bin"), within: _temp.File("out")));
        Assert.Contains("lies outside the folder", error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_temp.File("other")));
    }

    [SkippableFact]
    public void TheCallersOwnFolderMayBeReachedThroughALink()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "symbolic links without privileges");
        Directory.CreateDirectory(_temp.File("real"));
        Directory.CreateSymbolicLink(_temp.File("alias"), _temp.File("real"));

        AtomicFile.WriteAllText(_temp.File("alias/results.csv"), "a,b\n");
        using (var file = AtomicFile.Create(_temp.File("alias/w.bin"), within: _temp.File("alias")))
        {
            file.Commit();
        }

        Assert.Equal(["results.csv", "w.bin"], Names("real"));
    }
}
