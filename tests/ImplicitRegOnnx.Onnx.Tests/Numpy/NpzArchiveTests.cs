using System.IO.Compression;
using ImplicitRegOnnx.Onnx.Numpy;
using ImplicitRegOnnx.TestSupport;

namespace ImplicitRegOnnx.Onnx.Tests.Numpy;

public class NpzArchiveTests
{
    [Theory]
    [InlineData("stored.npz")]
    [InlineData("compressed.npz")]
    public void ReadsNumpysSavezAndSavezCompressedInOrder(string file)
    {
        var arrays = NpzArchive.Read(NumpyFixtures.File(file));
        var manifest = NumpyFixtures.Manifest.GetProperty(file);
        Assert.Equal(manifest.EnumerateObject().Select(p => p.Name), arrays.Keys);
        foreach (var entry in manifest.EnumerateObject())
        {
            NumpyFixtures.AssertMatches(entry.Value, arrays[entry.Name]);
            Assert.Equal(entry.Name, arrays[entry.Name].Name);
        }
        Assert.Contains("grad/fc.weight", arrays.Keys);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void WritesArchivesThatReadBack(bool compress)
    {
        using var temp = new TempDirectory();
        var arrays = new Dictionary<string, Tensor>
        {
            ["loss"] = Tensor.Scalar(0.5),
            ["grad/fc.weight"] = Tensor.FromArray(new float[] { 1, 2, 3, 4, 5, 6 }, [2, 3]),
            ["objective_grad/deep/name.with.dots"] = Tensor.FromArray(Array.Empty<long>(), [0, 2]),
            ["mask"] = Tensor.FromArray(new[] { true, false }, [2]),
        };
        var path = temp.File("out.npz");
        NpzArchive.Write(path, arrays, compress);
        var back = NpzArchive.Read(path);
        Assert.Equal(arrays.Keys, back.Keys);
        foreach (var (name, tensor) in arrays)
        {
            Assert.True(tensor.ContentEquals(back[name]), name);
        }
        using var zip = ZipFile.OpenRead(path);
        Assert.Equal(arrays.Keys.Select(k => k + ".npy"), zip.Entries.Select(e => e.FullName));
        Assert.Equal(["out.npz"], Directory.GetFiles(temp.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void StoredEntriesAreNotCompressed()
    {
        using var temp = new TempDirectory();
        var zeros = Tensor.FromArray(new double[1000], [1000]);
        NpzArchive.Write(temp.File("s.npz"), [new("z", zeros)]);
        NpzArchive.Write(temp.File("c.npz"), [new("z", zeros)], compress: true);
        using var stored = ZipFile.OpenRead(temp.File("s.npz"));
        using var deflated = ZipFile.OpenRead(temp.File("c.npz"));
        Assert.Equal(stored.Entries[0].Length, stored.Entries[0].CompressedLength);
        Assert.True(deflated.Entries[0].CompressedLength < deflated.Entries[0].Length / 10);
    }

    [Fact]
    public void WriteReplacesAtomicallyAndLeavesTheOldFileWhenItFails()
    {
        using var temp = new TempDirectory();
        var path = temp.File("r.npz");
        NpzArchive.Write(path, [new("a", Tensor.Scalar(1L))]);
        NpzArchive.Write(path, [new("b", Tensor.Scalar(2L))]);
        Assert.Equal(["b"], NpzArchive.Read(path).Keys);

        var unwritable = Tensor.FromStrings([1], [[65]], "s");
        Assert.Throws<ImplicitRegException>(() => NpzArchive.Write(path, [new("ok", Tensor.Scalar(1f)), new("s", unwritable)]));
        Assert.Equal(["b"], NpzArchive.Read(path).Keys);
        Assert.Throws<ArgumentException>(() => NpzArchive.Write(path, [new("a", Tensor.Scalar(1f)), new("a", Tensor.Scalar(2f))]));
        Assert.Throws<ArgumentException>(() => NpzArchive.Write(path, [new("", Tensor.Scalar(1f))]));
        Assert.Equal(["r.npz"], Directory.GetFiles(temp.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void MalformedArchivesNameTheFileAndEntry()
    {
        using var temp = new TempDirectory();

        var notZip = temp.File("not_zip.npz");
        File.WriteAllText(notZip, "hello");
        var e = Assert.Throws<ImplicitRegException>(() => NpzArchive.Read(notZip));
        Assert.Contains("not_zip.npz", e.Message, StringComparison.Ordinal);

        var foreign = temp.File("foreign.npz");
        using (var zip = ZipFile.Open(foreign, ZipArchiveMode.Create))
        {
            using var writer = new StreamWriter(zip.CreateEntry("readme.txt").Open());
            writer.Write("not an array");
        }
        e = Assert.Throws<ImplicitRegException>(() => NpzArchive.Read(foreign));
        Assert.Contains("'readme.txt'", e.Message, StringComparison.Ordinal);

        var truncated = temp.File("truncated.npz");
        using (var zip = ZipFile.Open(truncated, ZipArchiveMode.Create))
        {
            using var stream = zip.CreateEntry("grad/w.npy").Open();
            var full = new MemoryStream();
            NpyFormat.Write(full, Tensor.FromArray(new float[] { 1, 2, 3 }, [3]));
            stream.Write(full.ToArray().AsSpan(0, (int)full.Length - 4));
        }
        e = Assert.Throws<ImplicitRegException>(() => NpzArchive.Read(truncated));
        Assert.Contains("entry 'grad/w'", e.Message, StringComparison.Ordinal);
        Assert.Contains("truncated", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);

        var unsupported = temp.File("complex.npz");
        using (var zip = ZipFile.Open(unsupported, ZipArchiveMode.Create))
        {
            using var stream = zip.CreateEntry("z.npy").Open();
            stream.Write(File.ReadAllBytes(NumpyFixtures.File("unsupported_complex.npy")));
        }
        e = Assert.Throws<ImplicitRegException>(() => NpzArchive.Read(unsupported));
        Assert.Contains("entry 'z'", e.Message, StringComparison.Ordinal);
        Assert.Contains("complex", e.Message, StringComparison.Ordinal);
    }
}
