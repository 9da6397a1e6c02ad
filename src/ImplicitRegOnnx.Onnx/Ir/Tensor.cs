using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace ImplicitRegOnnx.Onnx;

/// <summary>How a tensor's payload was stored in the file, so a save writes it the same way.</summary>
public enum TensorStorage
{
    /// <summary>raw_data: little-endian bytes (the default for tensors this toolkit creates).</summary>
    Raw,

    /// <summary>The typed repeated fields (float_data, int32_data, int64_data, ...).</summary>
    Typed,
}

/// <summary>Where a tensor's payload lived outside the model file (ONNX IR spec, "External Tensor Data").</summary>
/// <param name="Location">Path of the side file, relative to the model file's folder.</param>
/// <param name="Offset">Byte offset in the side file, when given.</param>
/// <param name="Length">Byte length, when given.</param>
/// <param name="Checksum">The SHA1 digest string, when given.</param>
public sealed record ExternalDataInfo(string Location, long? Offset, long? Length, string? Checksum);

/// <summary>
/// A dense constant tensor: element type, dimensions and payload. Numeric payloads are kept as
/// little-endian bytes in row-major order (the raw_data layout); strings as byte strings.
/// </summary>
public sealed class Tensor
{
    private readonly byte[] _bytes;
    private readonly byte[][]? _strings;

    /// <summary>A numeric tensor over little-endian bytes in row-major order (the raw_data layout; sub-byte types packed). The arrays are kept, not copied.</summary>
    /// <param name="elementType">Any element type but <see cref="ElementType.String"/>.</param>
    /// <param name="dims">The shape; each size at least 0.</param>
    /// <param name="rawBytes">Exactly <c>elementType.ByteCount(product of dims)</c> bytes.</param>
    /// <param name="name">The tensor's name; "" for none.</param>
    /// <exception cref="ArgumentException"><paramref name="elementType"/> is <see cref="ElementType.String"/> (use <see cref="FromStrings"/>).</exception>
    /// <exception cref="ImplicitRegException"><see cref="ErrorKind.BadInput"/>: a size is negative, the element count overflows, or the byte count does not fit the shape.</exception>
    public Tensor(ElementType elementType, long[] dims, byte[] rawBytes, string name = "")
    {
        if (elementType == ElementType.String)
        {
            throw new ArgumentException("String tensors hold strings, not bytes; use FromStrings.", nameof(elementType));
        }
        ElementType = elementType;
        Dims = dims;
        _bytes = rawBytes;
        Name = name;
        var expected = elementType.ByteCount(ElementCountOf(dims));
        if (rawBytes.LongLength != expected)
        {
            throw ImplicitRegException.BadInput(
                $"tensor '{name}' of type {elementType.Name()} and shape [{string.Join(",", dims)}] needs {expected} bytes of data but has {rawBytes.LongLength}");
        }
    }

    private Tensor(long[] dims, byte[][] strings, string name)
    {
        ElementType = ElementType.String;
        Dims = dims;
        _bytes = [];
        _strings = strings;
        Name = name;
        if (strings.LongLength != ElementCountOf(dims))
        {
            throw ImplicitRegException.BadInput(
                $"tensor '{name}' of shape [{string.Join(",", dims)}] needs {ElementCountOf(dims)} strings but has {strings.LongLength}");
        }
    }

    /// <summary>A string tensor; each element is a byte string (UTF-8 by convention). The arrays are kept, not copied.</summary>
    /// <param name="dims">The shape.</param>
    /// <param name="strings">The elements in row-major order, as many as the shape holds.</param>
    /// <param name="name">The tensor's name; "" for none.</param>
    /// <exception cref="ImplicitRegException"><see cref="ErrorKind.BadInput"/>: the number of strings does not fit the shape, or a size is negative.</exception>
    public static Tensor FromStrings(long[] dims, byte[][] strings, string name = "") => new(dims, strings, name);

    /// <summary>A tensor holding a copy of <paramref name="data"/>, of the element type of <typeparamref name="T"/> (<see cref="ElementTypeOf{T}"/>).</summary>
    /// <typeparam name="T">float, double, <see cref="Half"/>, an 8- to 64-bit integer type or bool.</typeparam>
    /// <param name="data">The elements in row-major order.</param>
    /// <param name="dims">The shape; its element count must be <c>data.Length</c>.</param>
    /// <param name="name">The tensor's name; "" for none.</param>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> has no ONNX element type.</exception>
    /// <exception cref="ImplicitRegException"><see cref="ErrorKind.BadInput"/>: the shape does not hold <c>data.Length</c> elements.</exception>
    public static Tensor FromArray<T>(T[] data, long[] dims, string name = "")
        where T : unmanaged
    {
        var type = ElementTypeOf<T>();
        var bytes = MemoryMarshal.AsBytes(data.AsSpan()).ToArray();
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("Big-endian hosts are not supported.");
        }
        return new Tensor(type, dims, bytes, name);
    }

    /// <summary>A rank-0 tensor holding <paramref name="value"/>, of the element type of <typeparamref name="T"/> (as <see cref="FromArray{T}"/>).</summary>
    /// <typeparam name="T">float, double, <see cref="Half"/>, an 8- to 64-bit integer type or bool.</typeparam>
    /// <param name="value">The element.</param>
    /// <param name="name">The tensor's name; "" for none.</param>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> has no ONNX element type.</exception>
    public static Tensor Scalar<T>(T value, string name = "")
        where T : unmanaged => FromArray([value], [], name);

    /// <summary>
    /// A tensor of <paramref name="type"/> holding <paramref name="values"/>, the inverse of <see cref="ToDoubles"/>:
    /// floating-point types round to nearest even straight from the double (float16 and bfloat16 too;
    /// beyond the largest finite value is ±infinity), integer types and bool take only values they hold
    /// exactly. Every typed constant of the toolkit is made here, so all layers agree on the rounding.
    /// </summary>
    /// <param name="type">Float, double, float16, bfloat16, an 8- to 64-bit integer type or bool (<see cref="ElementTypes.HoldsNumbers"/>).</param>
    /// <param name="values">The elements in row-major order.</param>
    /// <param name="dims">The shape; its element count must be the number of values.</param>
    /// <param name="name">The tensor's name.</param>
    /// <exception cref="NotSupportedException">The type cannot be made from numbers (strings, complex, float8, 4-bit types).</exception>
    /// <exception cref="ArgumentOutOfRangeException">A value is not one of an integer or bool type.</exception>
    public static Tensor FromDoubles(ElementType type, ReadOnlySpan<double> values, long[] dims, string name = "")
    {
        ArgumentNullException.ThrowIfNull(dims);
        if (!ElementConversion.Supports(type))
        {
            throw new NotSupportedException($"constants of element type {type.Name()} cannot be made from numbers (float, double, float16, bfloat16, integers and bool can)");
        }
        if (ElementCountOf(dims) != values.Length)
        {
            throw new ArgumentException($"shape [{string.Join(",", dims)}] holds {ElementCountOf(dims)} elements, not {values.Length}", nameof(dims));
        }
        var size = type.BitWidth() / 8;
        var bytes = new byte[values.Length * size];
        for (var i = 0; i < values.Length; i++)
        {
            ElementConversion.Write(type, values[i], bytes.AsSpan(i * size, size));
        }
        return new Tensor(type, dims, bytes, name);
    }

    /// <summary>A rank-0 tensor of <paramref name="type"/> holding <paramref name="value"/> (converted as <see cref="FromDoubles"/> does).</summary>
    /// <param name="type">An element type that holds numbers (<see cref="ElementTypes.HoldsNumbers"/>).</param>
    /// <param name="value">The value.</param>
    /// <param name="name">The tensor's name; "" for none.</param>
    /// <exception cref="NotSupportedException">The type cannot be made from numbers.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The value is not one the integer or bool type holds.</exception>
    public static Tensor Scalar(ElementType type, double value, string name = "") => FromDoubles(type, [value], [], name);

    /// <summary>The tensor's name; for an initializer, the name of its value. "" for an unnamed tensor (e.g. a Constant's attribute).</summary>
    public string Name { get; set; }

    /// <summary>The element type.</summary>
    public ElementType ElementType { get; }

    /// <summary>The shape, outermost first; empty for a scalar. The array is shared: do not change it.</summary>
    public long[] Dims { get; }

    /// <summary>The tensor's doc_string; null when none.</summary>
    public string? DocString { get; set; }

    /// <summary>Which TensorProto fields the payload is written to on save: <see cref="TensorStorage.Raw"/> for tensors made in code, what the file used for loaded ones.</summary>
    public TensorStorage Storage { get; set; } = TensorStorage.Raw;

    /// <summary>Where the payload was read from when it came from a side file (and, under <see cref="Serialization.ExternalDataPolicy.Preserve"/>, where it is written back); null for an inline payload. The payload itself is always in memory.</summary>
    public ExternalDataInfo? External { get; set; }

    /// <summary>Fields of TensorProto the IR does not model (segment, metadata, unknown fields), kept for the round trip.</summary>
    internal byte[]? PreservedFields { get; set; }

    /// <summary>The number of elements: the product of <see cref="Dims"/> (1 for a scalar).</summary>
    public long ElementCount => ElementCountOf(Dims);

    /// <summary>The size of the payload in bytes; for a string tensor the total length of its strings.</summary>
    public long ByteSize => _strings is null ? _bytes.LongLength : _strings.Sum(s => (long)s.Length);

    /// <summary>The payload of a numeric tensor as little-endian bytes in row-major order (sub-byte types packed); empty for a string tensor.</summary>
    public ReadOnlySpan<byte> RawBytes => _bytes;

    /// <summary>The payload as memory over the tensor's own bytes (no copy), e.g. for views that outlive a span.</summary>
    public ReadOnlyMemory<byte> RawMemory => _bytes;

    /// <summary>The elements of a string tensor in row-major order.</summary>
    /// <exception cref="InvalidOperationException">The tensor is not a string tensor.</exception>
    public IReadOnlyList<byte[]> Strings => _strings ?? throw new InvalidOperationException($"Tensor '{Name}' is {ElementType.Name()}, not string.");

    /// <summary>A copy of the payload as an array of <typeparamref name="T"/>.</summary>
    /// <typeparam name="T">The CLR type of the element type (<see cref="ElementTypeOf{T}"/>), e.g. float for <see cref="ElementType.Float"/>.</typeparam>
    /// <exception cref="InvalidOperationException"><typeparamref name="T"/> does not match <see cref="ElementType"/>.</exception>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> has no ONNX element type.</exception>
    public T[] ToArray<T>()
        where T : unmanaged
    {
        if (ElementTypeOf<T>() != ElementType)
        {
            throw new InvalidOperationException($"Tensor '{Name}' is {ElementType.Name()}, not {typeof(T).Name}.");
        }
        return MemoryMarshal.Cast<byte, T>(_bytes).ToArray();
    }

    /// <summary>The elements converted to double (exact for every type but int64 and uint64 beyond 2^53), for the types that <see cref="ElementTypes.HoldsNumbers"/>.</summary>
    /// <exception cref="NotSupportedException">The element type is not one of those (string, complex, float8, sub-byte types).</exception>
    public double[] ToDoubles()
    {
        var n = checked((int)ElementCount);
        var result = new double[n];
        var b = _bytes.AsSpan();
        for (var i = 0; i < n; i++)
        {
            result[i] = ElementType switch
            {
                ElementType.Float => BinaryPrimitives.ReadSingleLittleEndian(b[(4 * i)..]),
                ElementType.Double => BinaryPrimitives.ReadDoubleLittleEndian(b[(8 * i)..]),
                ElementType.Float16 => (double)BinaryPrimitives.ReadHalfLittleEndian(b[(2 * i)..]),
                ElementType.BFloat16 => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(b[(2 * i)..]) << 16),
                ElementType.Int8 => (sbyte)b[i],
                ElementType.UInt8 or ElementType.Bool => b[i],
                ElementType.Int16 => BinaryPrimitives.ReadInt16LittleEndian(b[(2 * i)..]),
                ElementType.UInt16 => BinaryPrimitives.ReadUInt16LittleEndian(b[(2 * i)..]),
                ElementType.Int32 => BinaryPrimitives.ReadInt32LittleEndian(b[(4 * i)..]),
                ElementType.UInt32 => BinaryPrimitives.ReadUInt32LittleEndian(b[(4 * i)..]),
                ElementType.Int64 => BinaryPrimitives.ReadInt64LittleEndian(b[(8 * i)..]),
                ElementType.UInt64 => BinaryPrimitives.ReadUInt64LittleEndian(b[(8 * i)..]),
                _ => throw new NotSupportedException($"Tensor '{Name}': conversion of {ElementType.Name()} to double is not supported."),
            };
        }
        return result;
    }

    /// <summary>The elements as int64, e.g. of a shape or axes tensor; uint64 values above <see cref="long.MaxValue"/> do not survive.</summary>
    /// <exception cref="InvalidOperationException">The element type is not an integer type or bool.</exception>
    /// <exception cref="NotSupportedException">The element type is a 2- or 4-bit integer type.</exception>
    public long[] ToInt64s()
    {
        if (!ElementType.IsInteger() && ElementType != ElementType.Bool)
        {
            throw new InvalidOperationException($"Tensor '{Name}' is {ElementType.Name()}, not an integer type.");
        }
        if (ElementType == ElementType.Int64)
        {
            return ToArray<long>();
        }
        return Array.ConvertAll(ToDoubles(), d => (long)d);
    }

    /// <summary>A tensor sharing this one's payload (not copied), with another name and the same doc string, storage and external-data record.</summary>
    /// <param name="name">The new name.</param>
    public Tensor WithName(string name)
    {
        var copy = _strings is null ? new Tensor(ElementType, Dims, _bytes, name) : new Tensor(Dims, _strings, name);
        copy.DocString = DocString;
        copy.Storage = Storage;
        copy.External = External;
        copy.PreservedFields = PreservedFields;
        return copy;
    }

    /// <summary>Whether <paramref name="other"/> has the same element type, dims and payload bytes (names, doc strings and storage ignored; float NaNs compare by bits).</summary>
    /// <param name="other">The other tensor.</param>
    public bool ContentEquals(Tensor other)
    {
        if (ElementType != other.ElementType || !Dims.AsSpan().SequenceEqual(other.Dims))
        {
            return false;
        }
        if (_strings is null)
        {
            return _bytes.AsSpan().SequenceEqual(other._bytes);
        }
        return _strings.Length == other._strings!.Length
            && _strings.Zip(other._strings).All(p => p.First.AsSpan().SequenceEqual(p.Second));
    }

    /// <summary>A hash of element type, dims and payload, consistent with <see cref="ContentEquals"/> (equal content gives equal hashes).</summary>
    public int ContentHash()
    {
        var hash = new HashCode();
        hash.Add(ElementType);
        foreach (var d in Dims)
        {
            hash.Add(d);
        }
        if (_strings is null)
        {
            hash.AddBytes(_bytes);
        }
        else
        {
            foreach (var s in _strings)
            {
                hash.AddBytes(s);
            }
        }
        return hash.ToHashCode();
    }

    internal static long ElementCountOf(long[] dims)
    {
        long count = 1;
        foreach (var d in dims)
        {
            if (d < 0)
            {
                throw ImplicitRegException.BadInput($"negative tensor dimension {d}");
            }
            try
            {
                count = checked(count * d);
            }
            catch (OverflowException)
            {
                throw ImplicitRegException.BadInput($"tensor shape [{string.Join(",", dims)}] has too many elements");
            }
        }
        return count;
    }

    /// <summary>The element type that stores values of the CLR type <typeparamref name="T"/>: float, double, <see cref="Half"/> (float16), sbyte, byte, short, ushort, int, uint, long, ulong or bool.</summary>
    /// <typeparam name="T">The CLR type.</typeparam>
    /// <exception cref="NotSupportedException">Any other type.</exception>
    public static ElementType ElementTypeOf<T>()
        where T : unmanaged => typeof(T) switch
        {
            var t when t == typeof(float) => ElementType.Float,
            var t when t == typeof(double) => ElementType.Double,
            var t when t == typeof(Half) => ElementType.Float16,
            var t when t == typeof(sbyte) => ElementType.Int8,
            var t when t == typeof(byte) => ElementType.UInt8,
            var t when t == typeof(short) => ElementType.Int16,
            var t when t == typeof(ushort) => ElementType.UInt16,
            var t when t == typeof(int) => ElementType.Int32,
            var t when t == typeof(uint) => ElementType.UInt32,
            var t when t == typeof(long) => ElementType.Int64,
            var t when t == typeof(ulong) => ElementType.UInt64,
            var t when t == typeof(bool) => ElementType.Bool,
            _ => throw new NotSupportedException($"No ONNX element type for {typeof(T).Name}."),
        };

    /// <summary>The name, element type and dims, e.g. <c>w: float[10,784]</c>.</summary>
    public override string ToString() => $"{Name}: {ElementType.Name()}[{string.Join(",", Dims)}]";
}

/// <summary>A sparse tensor in coordinate form (SparseTensorProto): the non-zero values, their indices and the dense shape.</summary>
/// <param name="values">The non-zero values, a 1-D tensor of NNZ elements; its name is the sparse tensor's.</param>
/// <param name="indices">int64 indices: [NNZ, rank] coordinates, or [NNZ] linearized (row-major) positions.</param>
/// <param name="dims">The dense shape.</param>
public sealed class SparseTensor(Tensor values, Tensor indices, long[] dims)
{
    /// <summary>The non-zero values (1-D, NNZ elements).</summary>
    public Tensor Values { get; } = values;

    /// <summary>Their positions: an int64 tensor of shape [NNZ, rank] (coordinates) or [NNZ] (row-major linear indices).</summary>
    public Tensor Indices { get; } = indices;

    /// <summary>The dense shape.</summary>
    public long[] Dims { get; } = dims;

    /// <summary>The name of the value this sparse tensor defines (its values tensor's name).</summary>
    public string Name => Values.Name;

    /// <summary>The number of elements of the dense tensor (product of <see cref="Dims"/>), not the number of non-zeros.</summary>
    /// <exception cref="ImplicitRegException"><see cref="ErrorKind.BadInput"/>: a size is negative or the count overflows.</exception>
    public long ElementCount => Tensor.ElementCountOf(Dims);
}
