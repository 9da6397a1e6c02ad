using System.Buffers.Binary;
using System.Text;
using ImplicitRegOnnx.Onnx.Numpy;

namespace ImplicitRegOnnx.Onnx.Tests.Numpy;

public class NpyFormatTests
{
    public static TheoryData<string> SupportedNpy() => NumpyFixtures.SupportedNpy();

    [Theory]
    [MemberData(nameof(SupportedNpy))]
    public void ReadsWhatNumpyWrote(string file)
    {
        var tensor = NpyFormat.Read(NumpyFixtures.File(file));
        NumpyFixtures.AssertMatches(NumpyFixtures.Manifest.GetProperty(file), tensor);
        Assert.Equal(Path.GetFileNameWithoutExtension(file), tensor.Name);
    }

    [Theory]
    [MemberData(nameof(SupportedNpy))]
    public void WritesWhatNumpyWouldWrite(string file)
    {
        // Little-endian C-order 1.0 files must come back byte for byte (header text, padding,
        // growth space); big-endian and Fortran ones as the little-endian C-order file numpy
        // would write for the same array, which for be_* is the matching le_* fixture.
        var description = NumpyFixtures.Manifest.GetProperty(file);
        var tensor = NpyFormat.Read(NumpyFixtures.File(file));
        using var written = new MemoryStream();
        NpyFormat.Write(written, tensor);
        var descr = description.GetProperty("descr").GetString()!;
        var plain = descr[0] != '>' && !description.GetProperty("fortran_order").GetBoolean()
            && description.GetProperty("version").GetString() == "1.0";
        if (plain)
        {
            Assert.Equal(File.ReadAllBytes(NumpyFixtures.File(file)), written.ToArray());
        }
        else if (file.StartsWith("be_", StringComparison.Ordinal) && File.Exists(NumpyFixtures.File("le_" + file[3..])))
        {
            Assert.Equal(File.ReadAllBytes(NumpyFixtures.File("le_" + file[3..])), written.ToArray());
        }
        written.Position = 0;
        Assert.True(tensor.ContentEquals(NpyFormat.Read(written)));
    }

    public static TheoryData<string, string> Unsupported() => new()
    {
        { "unsupported_complex.npy", "complex" },
        { "unsupported_object.npy", "object" },
        { "unsupported_unicode.npy", "unicode string" },
        { "unsupported_structured.npy", "structured" },
        { "unsupported_datetime.npy", "datetime" },
    };

    [Theory]
    [MemberData(nameof(Unsupported))]
    public void RefusesUnsupportedDtypesInOneLineNamingTheFile(string file, string what)
    {
        var e = Assert.Throws<ImplicitRegException>(() => NpyFormat.Read(NumpyFixtures.File(file)));
        Assert.Contains(what, e.Message, StringComparison.Ordinal);
        Assert.Contains(file, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
        Assert.Equal(ErrorKind.BadInput, e.Kind);
    }

    public static TheoryData<ElementType> WritableTypes() =>
        [ElementType.Float, ElementType.Double, ElementType.Float16, ElementType.Int8, ElementType.UInt8, ElementType.Int16,
         ElementType.UInt16, ElementType.Int32, ElementType.UInt32, ElementType.Int64, ElementType.UInt64, ElementType.Bool];

    [Theory]
    [MemberData(nameof(WritableTypes))]
    public void RoundTripsEveryNumericTypeAndShape(ElementType type)
    {
        long[][] shapes = [[], [0], [1], [5], [2, 3], [2, 0, 3], [1, 2, 3, 4]];
        var random = new Random(17);
        foreach (var shape in shapes)
        {
            var count = shape.Aggregate(1L, (a, b) => a * b);
            var bytes = new byte[type.ByteCount(count)];
            random.NextBytes(bytes);
            if (type == ElementType.Bool)
            {
                for (var i = 0; i < bytes.Length; i++)
                {
                    bytes[i] &= 1;
                }
            }
            var tensor = new Tensor(type, shape, bytes, "x");
            var back = RoundTrip(tensor);
            Assert.True(tensor.ContentEquals(back), $"{type.Name()} [{string.Join(",", shape)}]");
        }
    }

    [Fact]
    public void HeadersAreNumpysLayout()
    {
        using var stream = new MemoryStream();
        NpyFormat.Write(stream, Tensor.FromArray(new float[] { 1, 2, 3, 4, 5, 6 }, [2, 3]));
        var bytes = stream.ToArray();
        int headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8));
        Assert.Equal(1, bytes[6]);
        Assert.Equal(0, (10 + headerLength) % 64);
        Assert.Equal((byte)'\n', bytes[10 + headerLength - 1]);
        var header = Encoding.Latin1.GetString(bytes, 10, headerLength).TrimEnd();
        Assert.Equal("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", header);
        Assert.Equal(10 + headerLength + 24, bytes.Length);
    }

    [Fact]
    public void HeadersTooLongForVersion1UseVersion2()
    {
        // 30000 axes of length 1: the shape alone is ~90000 characters, past 1.0's 16-bit length.
        var dims = Enumerable.Repeat(1L, 30000).ToArray();
        var tensor = new Tensor(ElementType.Double, dims, new byte[8]);
        using var stream = new MemoryStream();
        NpyFormat.Write(stream, tensor);
        var bytes = stream.ToArray();
        Assert.Equal(2, bytes[6]);
        var headerLength = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8));
        Assert.Equal(0u, (12 + headerLength) % 64);
        stream.Position = 0;
        Assert.True(tensor.ContentEquals(NpyFormat.Read(stream)));
    }

    [Fact]
    public void ReadsPython2StyleHeadersAndLeavesTheStreamAfterTheData()
    {
        // Old numpy on Python 2 wrote longs with an L suffix and 16-byte alignment.
        var header = "{'descr': '<i4', 'fortran_order': False, 'shape': (2L,), }";
        var bytes = Npy(1, header, [1, 0, 0, 0, 2, 0, 0, 0]).Concat(new byte[] { 42 }).ToArray();
        using var stream = new MemoryStream(bytes);
        var tensor = NpyFormat.Read(stream);
        Assert.Equal([1, 2], tensor.ToArray<int>());
        Assert.Equal(42, stream.ReadByte());
    }

    public static TheoryData<string, byte[], string> Malformed() => new()
    {
        { "not npy", Encoding.ASCII.GetBytes("PK\u0003\u0004 not an npy file"), "magic" },
        { "empty", [], "truncated" },
        { "version 4", [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 4, 0, 0, 0], "version 4.0" },
        { "truncated header", Npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", [])[..20], "truncated" },
        { "truncated data", Npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", [0, 0, 128, 63]), "truncated" },
        { "missing key", Npy(1, "{'descr': '<f4', 'shape': (2,), }", []), "keys" },
        { "extra key", Npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), 'x': 1}", []), "keys" },
        { "not a dict", Npy(1, "['descr', '<f4']", []), "not a dict" },
        { "syntax", Npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,}", []), "malformed" },
        { "negative dim", Npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", []), "non-negative" },
        { "bad order", Npy(1, "{'descr': '<f4', 'fortran_order': 'C', 'shape': (), }", []), "fortran_order" },
        { "long double", Npy(1, "{'descr': '<f16', 'fortran_order': False, 'shape': (), }", []), "<f16" },
        { "garbage dtype", Npy(1, "{'descr': 'zz', 'fortran_order': False, 'shape': (), }", []), "zz" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void MalformedFilesThrowOneLineErrorsNamingTheSource(string label, byte[] bytes, string fragment)
    {
        using var stream = new MemoryStream(bytes);
        var e = Assert.Throws<ImplicitRegException>(() => NpyFormat.Read(stream, "batch.npz: entry 'x'"));
        Assert.Contains(fragment, e.Message, StringComparison.Ordinal);
        Assert.Contains("entry 'x'", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
        Assert.False(string.IsNullOrEmpty(label));
    }

    [Fact]
    public void TypesWithoutANumpyDtypeAreRefusedOnWrite()
    {
        using var stream = new MemoryStream();
        var bf16 = new Tensor(ElementType.BFloat16, [2], new byte[4], "w");
        var e = Assert.Throws<ImplicitRegException>(() => NpyFormat.Write(stream, bf16));
        Assert.Contains("'w'", e.Message, StringComparison.Ordinal);
        Assert.Throws<ImplicitRegException>(() => NpyFormat.Write(stream, Tensor.FromStrings([1], [[65]], "s")));
    }

    private static Tensor RoundTrip(Tensor tensor)
    {
        using var stream = new MemoryStream();
        NpyFormat.Write(stream, tensor);
        stream.Position = 0;
        return NpyFormat.Read(stream);
    }

    /// <summary>A hand-made .npy: magic, version, header padded to 64 bytes, data.</summary>
    private static byte[] Npy(int major, string header, byte[] data)
    {
        var prefix = major == 1 ? 10 : 12;
        var text = Encoding.Latin1.GetBytes(header);
        var padded = text.Length + 1 + ((64 - ((prefix + text.Length + 1) % 64)) % 64);
        var bytes = new byte[prefix + padded + data.Length];
        bytes[0] = 0x93;
        Encoding.ASCII.GetBytes("NUMPY").CopyTo(bytes, 1);
        bytes[6] = (byte)major;
        if (major == 1)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)padded);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), (uint)padded);
        }
        text.CopyTo(bytes, prefix);
        bytes.AsSpan(prefix + text.Length, padded - text.Length - 1).Fill((byte)' ');
        bytes[prefix + padded - 1] = (byte)'\n';
        data.CopyTo(bytes, prefix + padded);
        return bytes;
    }
}
