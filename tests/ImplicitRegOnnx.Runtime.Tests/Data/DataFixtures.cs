using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using ImplicitRegOnnx.TestSupport;

namespace ImplicitRegOnnx.Runtime.Tests.Data;

/// <summary>Paths of committed fixtures and writers for files the tests create themselves.</summary>
internal static class DataFixtures
{
    public static string Fixture(string name) =>
        Path.Combine(TestPaths.RepositoryRoot, "tests", "ImplicitRegOnnx.Runtime.Tests", "Data", "Fixtures", name);

    public static string DigitsPath => Path.Combine(TestPaths.Models, "data", "digits.csv.gz");

    public static void WriteText(string path, string text, bool gzip = false)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        WriteBytes(path, bytes, gzip);
    }

    public static void WriteBytes(string path, byte[] bytes, bool gzip = false)
    {
        if (!gzip)
        {
            File.WriteAllBytes(path, bytes);
            return;
        }
        using var file = File.Create(path);
        using var zip = new GZipStream(file, CompressionLevel.Optimal);
        zip.Write(bytes);
    }

    /// <summary>An IDX file: 0, 0, type code, rank, big-endian int32 dims, big-endian data.</summary>
    public static byte[] Idx(byte typeCode, int[] dims, byte[] bigEndianData)
    {
        var bytes = new byte[4 + 4 * dims.Length + bigEndianData.Length];
        bytes[2] = typeCode;
        bytes[3] = (byte)dims.Length;
        for (var i = 0; i < dims.Length; i++)
        {
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * i), dims[i]);
        }
        bigEndianData.CopyTo(bytes, 4 + 4 * dims.Length);
        return bytes;
    }

    public static byte[] BigEndianFloats(params float[] values)
    {
        var bytes = new byte[4 * values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleBigEndian(bytes.AsSpan(4 * i), values[i]);
        }
        return bytes;
    }

    public static byte[] BigEndianInt16s(params short[] values)
    {
        var bytes = new byte[2 * values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteInt16BigEndian(bytes.AsSpan(2 * i), values[i]);
        }
        return bytes;
    }
}
