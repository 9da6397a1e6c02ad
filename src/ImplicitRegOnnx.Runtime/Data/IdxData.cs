using System.Buffers.Binary;
using ImplicitRegOnnx.Onnx;

namespace ImplicitRegOnnx.Runtime.Data;

/// <summary>
/// Loads the IDX format of MNIST and Fashion-MNIST (LeCun et al., http://yann.lecun.com/exdb/mnist/):
/// two zero bytes, a type code (0x08 ubyte, 0x09 sbyte, 0x0B int16, 0x0C int32, 0x0D float32,
/// 0x0E float64), the rank, one big-endian int32 per dimension, then the big-endian data.
/// Files may be gzip-compressed (detected from the content). Features keep their values (0..255
/// for MNIST): scaling is a <see cref="Normalization"/>.
/// </summary>
public static class IdxData
{
    private static readonly Dictionary<string, string> CompanionTokens = new(StringComparer.Ordinal)
    {
        ["images"] = "labels",
        ["idx3"] = "idx1",
    };

    /// <summary>
    /// Loads an images file and its labels file (by default found next to it:
    /// train-images-idx3-ubyte[.gz] → train-labels-idx1-ubyte[.gz]). Images [N, rows, cols] stay
    /// [N, rows, cols] unless <see cref="DataLoadOptions.ExampleShape"/> says otherwise.
    /// </summary>
    /// <exception cref="ImplicitRegException">A file is unreadable, not IDX, truncated, or the counts differ.</exception>
    public static Dataset Load(string imagesPath, string? labelsPath = null, DataLoadOptions? options = null)
    {
        options ??= DataLoadOptions.Default;
        labelsPath ??= options.LabelsPath ?? FindLabelsFile(imagesPath);
        var images = Read(imagesPath);
        var labels = Read(labelsPath);
        if (images.Dims.Length == 0 || labels.Dims.Length == 0 || images.Dims[0] != labels.Dims[0])
        {
            throw ImplicitRegException.BadInput(
                $"'{imagesPath}' holds {(images.Dims.Length == 0 ? 0 : images.Dims[0])} examples but '{labelsPath}' holds {(labels.Dims.Length == 0 ? 0 : labels.Dims[0])} labels");
        }
        var where = $"'{imagesPath}' and '{labelsPath}'";
        var data = new Dataset(TensorConversion.ToFeatures(images, where), TensorConversion.ToLabels(labels, options.Labels, where));
        return DataLoader.ApplyShape(data, options, where);
    }

    /// <summary>Reads one IDX file (gzip-compressed or not) as a tensor of its own element type.</summary>
    public static Tensor Read(string path) =>
        DataFiles.Guard(path, () =>
        {
            using var stream = DataFiles.OpenMaybeGzip(path);
            return Read(stream, path);
        });

    /// <summary>Reads IDX data from a stream (not compressed); <paramref name="source"/> names it in errors.</summary>
    public static Tensor Read(Stream stream, string source)
    {
        var where = $"'{source}'";
        Span<byte> magic = stackalloc byte[4];
        var got = stream.ReadAtLeast(magic, 4, throwOnEndOfStream: false);
        if (got < 4 || magic[0] != 0 || magic[1] != 0)
        {
            throw ImplicitRegException.BadInput($"{where} is not an IDX file (it does not start with two zero bytes, a type code and a rank)");
        }
        var (type, size) = magic[2] switch
        {
            0x08 => (ElementType.UInt8, 1),
            0x09 => (ElementType.Int8, 1),
            0x0B => (ElementType.Int16, 2),
            0x0C => (ElementType.Int32, 4),
            0x0D => (ElementType.Float, 4),
            0x0E => (ElementType.Double, 8),
            var code => throw ImplicitRegException.BadInput($"{where} has the unknown IDX type code 0x{code:X2} (known: 08, 09, 0B, 0C, 0D, 0E)"),
        };
        int rank = magic[3];
        if (rank == 0)
        {
            throw ImplicitRegException.BadInput($"{where} is an IDX file of rank 0; examples need at least one dimension");
        }
        var dimBytes = new byte[4 * rank];
        if (stream.ReadAtLeast(dimBytes, dimBytes.Length, throwOnEndOfStream: false) < dimBytes.Length)
        {
            throw ImplicitRegException.BadInput($"{where} is truncated: its header announces {rank} dimensions but ends before them");
        }
        var dims = new long[rank];
        long count = 1;
        for (var i = 0; i < rank; i++)
        {
            dims[i] = BinaryPrimitives.ReadUInt32BigEndian(dimBytes.AsSpan(4 * i));
            count = dims[i] == 0 ? 0 : count <= Array.MaxLength / dims[i] ? count * dims[i] : long.MaxValue;
        }
        var shape = $"[{string.Join(",", dims)}]";
        if (count > Array.MaxLength / size)
        {
            throw ImplicitRegException.BadInput($"{where}: the IDX shape {shape} is too large to load");
        }
        var data = new byte[count * size];
        var read = stream.ReadAtLeast(data, data.Length, throwOnEndOfStream: false);
        if (read < data.Length)
        {
            throw ImplicitRegException.BadInput(
                $"{where} is truncated: shape {shape} of {type.Name()} needs {data.Length} bytes of data, the file has {read}");
        }
        Span<byte> extra = stackalloc byte[1];
        if (stream.Read(extra) > 0)
        {
            throw ImplicitRegException.BadInput($"{where} has data after the {data.Length} bytes its header {shape} announces");
        }
        if (size > 1)
        {
            // IDX stores multi-byte values big-endian; tensors are little-endian.
            for (var offset = 0; offset < data.Length; offset += size)
            {
                data.AsSpan(offset, size).Reverse();
            }
        }
        return new Tensor(type, dims, data, Path.GetFileName(source));
    }

    internal static string FindLabelsFile(string imagesPath) =>
        DataFiles.FindCompanion(imagesPath, CompanionTokens, out var tried)
        ?? throw ImplicitRegException.BadInput(tried.Count == 0
            ? $"'{imagesPath}': no labels file given, and its name (no 'images' part) does not tell where it is"
            : $"'{imagesPath}': no labels file given and none next to it (looked for {string.Join(", ", tried)})");
}
