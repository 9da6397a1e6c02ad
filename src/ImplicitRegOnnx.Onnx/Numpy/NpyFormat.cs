using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using ImplicitRegOnnx.Onnx.IO;

namespace ImplicitRegOnnx.Onnx.Numpy;

/// <summary>
/// Reads and writes NumPy's .npy format (numpy/lib/format.py, NEP 1): the magic string
/// "\x93NUMPY", a version, a little-endian header length (2 bytes in 1.0, 4 bytes in 2.0 and 3.0),
/// a Python dict literal with 'descr', 'fortran_order' and 'shape', then the raw array data.
/// Arrays become <see cref="Tensor"/>s: little-endian, C (row-major) order, whatever the file used.
/// </summary>
internal static class NpyFormat
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    // numpy/lib/format.py: headers are padded so that the data starts on a 64-byte boundary, and
    // room is left for the growing axis to reach 21 digits (GROWTH_AXIS_MAX_DIGITS).
    private const int ArrayAlign = 64;
    private const int GrowthAxisMaxDigits = 21;

    // numpy refuses headers over 10000 bytes unless told otherwise; this only guards allocation.
    private const int MaxHeaderLength = 1 << 24;

    /// <summary>Reads one array from a .npy file; the tensor is named after the file (without extension).</summary>
    public static Tensor Read(string path)
    {
        using var stream = UserFiles.OpenRead(path);
        var tensor = Read(stream, path);
        tensor.Name = Path.GetFileNameWithoutExtension(path);
        return tensor;
    }

    /// <summary>
    /// Reads one array from the stream's current position, leaving the stream after the data.
    /// <paramref name="source"/> names the file or archive entry in error messages.
    /// </summary>
    /// <exception cref="ImplicitRegException">The data is not .npy or has an unsupported dtype.</exception>
    public static Tensor Read(Stream stream, string? source = null)
    {
        var where = source is null ? ".npy data" : $"'{source}'";
        var prefix = new byte[8];
        ReadExactly(stream, prefix, where, "the .npy magic string");
        if (!prefix.AsSpan(0, 6).SequenceEqual(Magic))
        {
            throw ImplicitRegException.BadInput($"{where} is not a .npy file (no \\x93NUMPY magic string)");
        }
        int major = prefix[6], minor = prefix[7];
        if (major is < 1 or > 3 || minor != 0)
        {
            throw ImplicitRegException.BadInput($"{where} has .npy format version {major}.{minor}; supported are 1.0, 2.0 and 3.0");
        }
        var lengthBytes = new byte[major == 1 ? 2 : 4];
        ReadExactly(stream, lengthBytes, where, "the header length");
        long headerLength = major == 1 ? BinaryPrimitives.ReadUInt16LittleEndian(lengthBytes) : BinaryPrimitives.ReadUInt32LittleEndian(lengthBytes);
        if (headerLength > MaxHeaderLength)
        {
            throw ImplicitRegException.BadInput($"{where} has an implausible .npy header length of {headerLength} bytes");
        }
        var headerBytes = new byte[headerLength];
        ReadExactly(stream, headerBytes, where, "the header");
        // Versions 1.0 and 2.0 encode the header in latin-1, 3.0 in UTF-8.
        var headerText = major == 3 ? Encoding.UTF8.GetString(headerBytes) : Encoding.Latin1.GetString(headerBytes);
        var header = ParseHeader(headerText, where);

        long count;
        try
        {
            count = Tensor.ElementCountOf(header.Shape);
        }
        catch (ImplicitRegException e)
        {
            throw e.Within(where);
        }
        var byteCount = count * header.ItemSize;
        if (count > Array.MaxLength / header.ItemSize)
        {
            throw ImplicitRegException.BadInput($"{where}: array of shape {FormatShape(header.Shape)} is too large ({count} elements) to load");
        }
        var data = new byte[byteCount];
        ReadExactly(stream, data, where, $"{byteCount} bytes of array data");

        if (header.BigEndian && header.ItemSize > 1)
        {
            for (var i = 0; i < data.Length; i += header.ItemSize)
            {
                data.AsSpan(i, header.ItemSize).Reverse();
            }
        }
        if (header.FortranOrder && header.Shape.Length > 1)
        {
            data = FortranToC(data, header.Shape, header.ItemSize);
        }
        return new Tensor(header.ElementType, header.Shape, data, source ?? "");
    }

    /// <summary>Writes the tensor to a .npy file atomically (see <see cref="Write(Stream, Tensor)"/> and <c>AtomicFile</c>).</summary>
    public static void Write(string path, Tensor tensor) => AtomicFile.Write(path, stream => Write(stream, tensor));

    /// <summary>
    /// Writes the tensor as numpy's np.save does: format 1.0 (2.0 when the header exceeds 65535
    /// bytes), little-endian descr, C order, header padded to a multiple of 64 bytes.
    /// </summary>
    /// <exception cref="ImplicitRegException">The element type has no numpy dtype here (strings, bfloat16, float8, 4-bit, complex).</exception>
    public static void Write(Stream stream, Tensor tensor)
    {
        var descr = DescrOf(tensor.ElementType)
            ?? throw ImplicitRegException.BadInput($"tensor '{tensor.Name}' of type {tensor.ElementType.Name()} cannot be written to .npy");
        stream.Write(HeaderBytes(descr, tensor.Dims));
        stream.Write(tensor.RawBytes);
    }

    /// <summary>The numpy dtype string written for an element type, or null when there is none.</summary>
    public static string? DescrOf(ElementType type) => type switch
    {
        ElementType.Float => "<f4",
        ElementType.Double => "<f8",
        ElementType.Float16 => "<f2",
        ElementType.Int8 => "|i1",
        ElementType.UInt8 => "|u1",
        ElementType.Int16 => "<i2",
        ElementType.UInt16 => "<u2",
        ElementType.Int32 => "<i4",
        ElementType.UInt32 => "<u4",
        ElementType.Int64 => "<i8",
        ElementType.UInt64 => "<u8",
        ElementType.Bool => "|b1",
        _ => null,
    };

    internal static byte[] HeaderBytes(string descr, long[] shape)
    {
        // Same text, key order and spacing as numpy's _write_array_header (keys sorted, repr values).
        var text = new StringBuilder("{'descr': '").Append(descr).Append("', 'fortran_order': False, 'shape': ")
            .Append(FormatShape(shape)).Append(", }");
        if (shape.Length > 0)
        {
            text.Append(' ', Math.Max(0, GrowthAxisMaxDigits - shape[0].ToString(CultureInfo.InvariantCulture).Length));
        }
        var header = Encoding.Latin1.GetBytes(text.ToString());
        // As numpy's _wrap_header_guess_version: 1.0 unless its 2-byte length field overflows.
        var version = 1;
        var prefixLength = 10;
        var unpadded = prefixLength + header.Length + 1;
        var padding = ArrayAlign - (unpadded % ArrayAlign);
        if (unpadded + padding - prefixLength > ushort.MaxValue)
        {
            version = 2;
            prefixLength = 12;
            unpadded = prefixLength + header.Length + 1;
            padding = ArrayAlign - (unpadded % ArrayAlign);
        }
        var total = unpadded + padding;
        var bytes = new byte[total];
        Magic.CopyTo(bytes, 0);
        bytes[6] = (byte)version;
        bytes[7] = 0;
        var headerLength = total - prefixLength;
        if (version == 1)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)headerLength);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), (uint)headerLength);
        }
        header.CopyTo(bytes, prefixLength);
        bytes.AsSpan(prefixLength + header.Length, padding).Fill((byte)' ');
        bytes[^1] = (byte)'\n';
        return bytes;
    }

    /// <summary>A shape as Python's repr of a tuple: (), (3,), (2, 3).</summary>
    internal static string FormatShape(long[] shape) => shape.Length switch
    {
        0 => "()",
        1 => $"({shape[0].ToString(CultureInfo.InvariantCulture)},)",
        _ => "(" + string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture))) + ")",
    };

    private sealed record Header(ElementType ElementType, int ItemSize, bool BigEndian, bool FortranOrder, long[] Shape);

    private static Header ParseHeader(string text, string where)
    {
        object? literal;
        try
        {
            literal = PythonLiteral.Parse(text);
        }
        catch (FormatException e)
        {
            throw ImplicitRegException.BadInput($"{where} has a malformed .npy header ({e.Message}): {Shorten(text)}");
        }
        if (literal is not List<KeyValuePair<object?, object?>> dict)
        {
            throw ImplicitRegException.BadInput($"{where}: the .npy header is not a dict: {Shorten(text)}");
        }
        var keys = dict.Select(p => p.Key as string).ToList();
        string[] required = ["descr", "fortran_order", "shape"];
        if (keys.Count != 3 || required.Any(k => !keys.Contains(k)))
        {
            throw ImplicitRegException.BadInput(
                $"{where}: the .npy header must have exactly the keys 'descr', 'fortran_order' and 'shape': {Shorten(text)}");
        }
        var values = dict.ToDictionary(p => (string)p.Key!, p => p.Value);

        if (values["fortran_order"] is not bool fortran)
        {
            throw ImplicitRegException.BadInput($"{where}: 'fortran_order' in the .npy header is not True or False");
        }
        var shapeItems = values["shape"] switch
        {
            PythonLiteral.Tuple t => t.Items,
            List<object?> l => l,
            long n => [n], // "(3)" without the comma parses as an int; numpy would refuse, but the intent is clear
            _ => throw ImplicitRegException.BadInput($"{where}: 'shape' in the .npy header is not a tuple of integers"),
        };
        var shape = new long[shapeItems.Count];
        for (var i = 0; i < shape.Length; i++)
        {
            if (shapeItems[i] is not long d || d < 0)
            {
                throw ImplicitRegException.BadInput($"{where}: 'shape' in the .npy header is not a tuple of non-negative integers");
            }
            shape[i] = d;
        }

        var descr = values["descr"] switch
        {
            string s => s,
            List<object?> => throw ImplicitRegException.BadInput($"{where}: structured dtypes (records with named fields) are not supported"),
            var other => throw ImplicitRegException.BadInput($"{where}: 'descr' in the .npy header is not a dtype string ({other})"),
        };
        var (type, itemSize, bigEndian) = ParseDescr(descr, where);
        return new Header(type, itemSize, bigEndian, fortran, shape);
    }

    private static (ElementType Type, int ItemSize, bool BigEndian) ParseDescr(string descr, string where)
    {
        var body = descr;
        var order = '=';
        if (body.Length > 0 && body[0] is '<' or '>' or '|' or '=')
        {
            order = body[0];
            body = body[1..];
        }
        if (body.Length == 0)
        {
            throw ImplicitRegException.BadInput($"{where}: empty dtype in the .npy header");
        }
        var kind = body[0];
        var sizeText = body[1..];
        var unsupported = kind switch
        {
            'c' => "complex",
            'O' => "object (Python objects, pickled)",
            'U' => "unicode string",
            'S' or 'a' => "byte string",
            'M' => "datetime",
            'm' => "timedelta",
            'V' => "void/structured",
            _ => null,
        };
        if (unsupported is not null)
        {
            throw ImplicitRegException.BadInput($"{where}: dtype '{descr}' ({unsupported}) is not supported; numeric and bool arrays only");
        }
        if (kind == '?' && sizeText.Length == 0)
        {
            return (ElementType.Bool, 1, false);
        }
        if (!int.TryParse(sizeText, NumberStyles.None, CultureInfo.InvariantCulture, out var size))
        {
            throw ImplicitRegException.BadInput($"{where}: unrecognised dtype '{descr}' in the .npy header");
        }
        ElementType? type = (kind, size) switch
        {
            ('f', 2) => ElementType.Float16,
            ('f', 4) => ElementType.Float,
            ('f', 8) => ElementType.Double,
            ('i', 1) => ElementType.Int8,
            ('i', 2) => ElementType.Int16,
            ('i', 4) => ElementType.Int32,
            ('i', 8) => ElementType.Int64,
            ('u', 1) => ElementType.UInt8,
            ('u', 2) => ElementType.UInt16,
            ('u', 4) => ElementType.UInt32,
            ('u', 8) => ElementType.UInt64,
            ('b', 1) => ElementType.Bool,
            _ => null,
        };
        if (type is null)
        {
            throw ImplicitRegException.BadInput($"{where}: dtype '{descr}' is not supported; numeric and bool arrays only");
        }
        // '=' is the writer's native order; every host numpy runs on today is little-endian.
        return (type.Value, size, order == '>');
    }

    /// <summary>Reorders a Fortran-order (column-major) payload of the given shape into C order.</summary>
    private static byte[] FortranToC(byte[] source, long[] shape, int itemSize)
    {
        var rank = shape.Length;
        var count = source.Length / itemSize;
        var result = new byte[source.Length];
        if (count == 0)
        {
            return result;
        }
        // Column-major strides in elements: the first axis varies fastest.
        var strides = new long[rank];
        long stride = 1;
        for (var axis = 0; axis < rank; axis++)
        {
            strides[axis] = stride;
            stride *= shape[axis];
        }
        var index = new long[rank];
        long offset = 0;
        for (var i = 0; i < count; i++)
        {
            Buffer.BlockCopy(source, checked((int)(offset * itemSize)), result, i * itemSize, itemSize);
            // Advance the C-order odometer (last axis fastest), keeping the Fortran offset in step.
            for (var axis = rank - 1; axis >= 0; axis--)
            {
                index[axis]++;
                offset += strides[axis];
                if (index[axis] < shape[axis])
                {
                    break;
                }
                offset -= strides[axis] * shape[axis];
                index[axis] = 0;
            }
        }
        return result;
    }

    private static void ReadExactly(Stream stream, byte[] buffer, string where, string what)
    {
        try
        {
            stream.ReadExactly(buffer);
        }
        catch (EndOfStreamException)
        {
            throw ImplicitRegException.BadInput($"{where} is truncated: it ends before {what}");
        }
        catch (InvalidDataException e)
        {
            throw ImplicitRegException.BadInput($"{where} cannot be decompressed: {e.Message}");
        }
    }

    private static string Shorten(string header)
    {
        var oneLine = header.Replace("\n", " ", StringComparison.Ordinal).Trim();
        return oneLine.Length <= 120 ? oneLine : oneLine[..117] + "...";
    }
}
