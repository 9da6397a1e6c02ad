using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Runtime.Data;
using ImplicitRegOnnx.TestSupport;

namespace ImplicitRegOnnx.Runtime.Tests.Data;

public class IdxDataTests
{
    private static readonly byte[] Pixels = [.. Enumerable.Range(0, 3 * 2 * 2).Select(i => (byte)(i * 20))];

    private static void WriteMnistLike(TempDirectory dir, string prefix, bool gzip)
    {
        var suffix = gzip ? ".gz" : "";
        DataFixtures.WriteBytes(dir.File($"{prefix}-images-idx3-ubyte{suffix}"), DataFixtures.Idx(0x08, [3, 2, 2], Pixels), gzip);
        DataFixtures.WriteBytes(dir.File($"{prefix}-labels-idx1-ubyte{suffix}"), DataFixtures.Idx(0x08, [3], [7, 0, 9]), gzip);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Images_and_labels_pair(bool gzip)
    {
        using var dir = new TempDirectory();
        WriteMnistLike(dir, "train", gzip);
        var images = dir.File("train-images-idx3-ubyte" + (gzip ? ".gz" : ""));
        Assert.Equal(DataFormat.Idx, DataLoader.Sniff(images));
        var data = DataLoader.Load(images);
        Assert.Equal(3, data.Count);
        Assert.Equal([2L, 2], data.ExampleShape);
        Assert.Equal(Pixels.Select(p => (float)p), data.FeatureValues.ToArray());
        Assert.Equal([7L, 0, 9], data.Labels.ToArray<long>());
        var shaped = IdxData.Load(images, options: new DataLoadOptions { ExampleShape = [1, 2, 2] });
        Assert.Equal([1L, 2, 2], shaped.ExampleShape);
    }

    [Fact]
    public void Labels_file_found_with_other_compression()
    {
        using var dir = new TempDirectory();
        DataFixtures.WriteBytes(dir.File("t10k-images-idx3-ubyte.gz"), DataFixtures.Idx(0x08, [3, 2, 2], Pixels), gzip: true);
        DataFixtures.WriteBytes(dir.File("t10k-labels-idx1-ubyte"), DataFixtures.Idx(0x08, [3], [1, 2, 3]));
        Assert.Equal([1L, 2, 3], IdxData.Load(dir.File("t10k-images-idx3-ubyte.gz")).Labels.ToArray<long>());
    }

    [Fact]
    public void Big_endian_multi_byte_types()
    {
        using var dir = new TempDirectory();
        DataFixtures.WriteBytes(dir.File("f.idx"), DataFixtures.Idx(0x0D, [2, 2], DataFixtures.BigEndianFloats(1.5f, -2f, 0.25f, 1e6f)));
        DataFixtures.WriteBytes(dir.File("l.idx"), DataFixtures.Idx(0x0B, [2], DataFixtures.BigEndianInt16s(-3, 300)));
        var floats = IdxData.Read(dir.File("f.idx"));
        Assert.Equal(ElementType.Float, floats.ElementType);
        Assert.Equal([1.5f, -2f, 0.25f, 1e6f], floats.ToArray<float>());
        var data = IdxData.Load(dir.File("f.idx"), dir.File("l.idx"));
        Assert.Equal([-3L, 300], data.Labels.ToArray<long>());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Truncated_file_names_the_file(bool gzip)
    {
        using var dir = new TempDirectory();
        var full = DataFixtures.Idx(0x08, [3, 2, 2], Pixels);
        var path = dir.File("cut-images-idx3-ubyte" + (gzip ? ".gz" : ""));
        DataFixtures.WriteBytes(path, full[..^5], gzip);
        var e = Assert.Throws<ImplicitRegException>(() => IdxData.Read(path));
        Assert.Contains("cut-images-idx3-ubyte", e.Message, StringComparison.Ordinal);
        Assert.Contains("truncated", e.Message, StringComparison.Ordinal);
        DataFixtures.WriteBytes(path, full[..6], gzip);
        Assert.Contains("truncated", Assert.Throws<ImplicitRegException>(() => IdxData.Read(path)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Corrupt_gzip_bad_magic_and_count_mismatch()
    {
        using var dir = new TempDirectory();
        var gz = dir.File("bad-images-idx3-ubyte.gz");
        File.WriteAllBytes(gz, [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff, 0xff]);
        Assert.Contains("bad-images-idx3-ubyte.gz", Assert.Throws<ImplicitRegException>(() => IdxData.Read(gz)).Message, StringComparison.Ordinal);

        var text = dir.File("text.idx");
        File.WriteAllText(text, "hello");
        Assert.Contains("not an IDX file", Assert.Throws<ImplicitRegException>(() => IdxData.Read(text)).Message, StringComparison.Ordinal);

        DataFixtures.WriteBytes(dir.File("a-images-idx3-ubyte"), DataFixtures.Idx(0x08, [3, 2, 2], Pixels));
        DataFixtures.WriteBytes(dir.File("a-labels-idx1-ubyte"), DataFixtures.Idx(0x08, [2], [1, 2]));
        var e = Assert.Throws<ImplicitRegException>(() => IdxData.Load(dir.File("a-images-idx3-ubyte")));
        Assert.Contains("3 examples", e.Message, StringComparison.Ordinal);
        Assert.Contains("a-labels-idx1-ubyte", e.Message, StringComparison.Ordinal);

        DataFixtures.WriteBytes(dir.File("b-images-idx3-ubyte"), DataFixtures.Idx(0x08, [3, 2, 2], Pixels));
        Assert.Contains("b-labels-idx1-ubyte", Assert.Throws<ImplicitRegException>(() => IdxData.Load(dir.File("b-images-idx3-ubyte"))).Message, StringComparison.Ordinal);
    }
}
