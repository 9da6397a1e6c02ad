using System.Runtime.InteropServices;
using ImplicitRegOnnx.Onnx;

namespace ImplicitRegOnnx.Runtime.Data;

/// <summary>
/// One named array of a <see cref="Dataset"/>: an element type, dims [N, ...] (row i is example i)
/// and the payload as little-endian, row-major values. The payload is held, not copied: an array made
/// from a <see cref="Tensor"/>, a T[] or a <see cref="ReadOnlyMemory{T}"/> reads the caller's memory,
/// so the caller must not change it while the array is in use. Batches are gathered with one block
/// copy per example row.
/// </summary>
public sealed class DataArray
{
    private readonly Storage _storage;
    private readonly Tensor? _tensor;

    private DataArray(string name, ElementType elementType, long[] dims, Storage storage, Tensor? tensor)
    {
        if (string.IsNullOrEmpty(name))
        {
            throw new ArgumentException("A data array needs a name.", nameof(name));
        }
        if (!elementType.HoldsNumbers())
        {
            throw ImplicitRegException.BadInput($"array '{name}' is {elementType.Name()}; data arrays hold numbers (float32, float16, int64, int32, bool, ...)");
        }
        if (dims.Length == 0)
        {
            throw ImplicitRegException.BadInput($"array '{name}' is a scalar; a data array needs a leading example axis (rank ≥ 1)");
        }
        if (dims.Any(d => d < 0))
        {
            throw ImplicitRegException.BadInput($"array '{name}' has the negative dimension in [{string.Join(",", dims)}]");
        }
        if (dims[0] > int.MaxValue)
        {
            throw ImplicitRegException.BadInput($"array '{name}' has {dims[0]} examples, more than a data set holds");
        }
        var expected = elementType.ByteCount(Dataset.Product(dims));
        if (storage.ByteLength != expected)
        {
            throw ImplicitRegException.BadInput(
                $"array '{name}' of type {elementType.Name()} and shape [{string.Join(",", dims)}] needs {expected} bytes of data but has {storage.ByteLength}");
        }
        Name = name;
        ElementType = elementType;
        Dims = dims;
        _storage = storage;
        _tensor = tensor;
        RowBytes = checked((int)elementType.ByteCount(ValuesPerRow));
    }

    /// <summary>An array over a tensor's payload (no copy), named <paramref name="name"/> or as the tensor.</summary>
    public static DataArray FromTensor(Tensor tensor, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        name ??= tensor.Name;
        if (tensor.ElementType == ElementType.String)
        {
            throw ImplicitRegException.BadInput($"array '{name}' holds strings; data arrays hold numbers");
        }
        return new DataArray(name, tensor.ElementType, (long[])tensor.Dims.Clone(), new Storage<byte>(tensor.RawMemory),
            tensor.Name == name ? tensor : tensor.WithName(name));
    }

    /// <summary>An array of shape <paramref name="dims"/> over the caller's memory (no copy).</summary>
    /// <typeparam name="T">float, Half, long, int, bool or another type with an ONNX element type (<see cref="Tensor.ElementTypeOf{T}"/>).</typeparam>
    public static DataArray FromMemory<T>(string name, ReadOnlyMemory<T> values, params long[] dims)
        where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(dims);
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("Big-endian hosts are not supported.");
        }
        return new DataArray(name, Tensor.ElementTypeOf<T>(), (long[])dims.Clone(), new Storage<T>(values), null);
    }

    /// <summary>An array of shape <paramref name="dims"/> over the caller's memory (no copy).</summary>
    public static DataArray FromMemory<T>(string name, Memory<T> values, params long[] dims)
        where T : unmanaged => FromMemory(name, (ReadOnlyMemory<T>)values, dims);

    /// <summary>An array of shape <paramref name="dims"/> holding a copy of <paramref name="values"/> (a span cannot be held).</summary>
    public static DataArray FromSpan<T>(string name, ReadOnlySpan<T> values, params long[] dims)
        where T : unmanaged => FromMemory(name, (ReadOnlyMemory<T>)values.ToArray(), dims);

    /// <summary>An array of shape <paramref name="dims"/> over the caller's array (no copy).</summary>
    public static DataArray FromArray<T>(string name, T[] values, params long[] dims)
        where T : unmanaged => FromMemory(name, (ReadOnlyMemory<T>)values, dims);

    /// <summary>The array's name: the model input it feeds, or the target.</summary>
    public string Name { get; }

    /// <summary>The element type of the values.</summary>
    public ElementType ElementType { get; }

    /// <summary>[N, ...]: the number of examples, then the shape of one example's row.</summary>
    public long[] Dims { get; }

    /// <summary>Number of examples N (the first dimension).</summary>
    public int Count => (int)Dims[0];

    /// <summary>The shape of one example's row (the dims after the first).</summary>
    public long[] RowShape => Dims[1..];

    /// <summary>Values per example.</summary>
    public int ValuesPerRow => checked((int)Dataset.Product(RowShape));

    /// <summary>Bytes per example.</summary>
    public int RowBytes { get; }

    /// <summary>The payload: little-endian values, row-major.</summary>
    public ReadOnlySpan<byte> Bytes => _storage.Span;

    /// <summary>The values as <typeparamref name="T"/> (no copy).</summary>
    /// <exception cref="InvalidOperationException">T is not the array's element type.</exception>
    public ReadOnlySpan<T> Values<T>()
        where T : unmanaged =>
        Tensor.ElementTypeOf<T>() == ElementType
            ? MemoryMarshal.Cast<byte, T>(Bytes)
            : throw new InvalidOperationException($"Array '{Name}' is {ElementType.Name()}, not {Tensor.ElementTypeOf<T>().Name()}.");

    /// <summary>The same payload under another name (no copy).</summary>
    public DataArray WithName(string name) =>
        name == Name ? this : new DataArray(name, ElementType, Dims, _storage, _tensor?.WithName(name));

    /// <summary>The same payload with rows of another shape holding as many values (no copy).</summary>
    public DataArray WithRowShape(long[] rowShape) =>
        new(Name, ElementType, [Dims[0], .. rowShape], _storage, null);

    /// <summary>The array as a tensor named as it: over the payload of the tensor it was made from (no copy), else a copy.</summary>
    public Tensor ToTensor() => _tensor ?? new Tensor(ElementType, (long[])Dims.Clone(), Bytes.ToArray(), Name);

    /// <summary>Gathers the rows at <paramref name="indices"/>, in that order, into a new tensor [B, ...] named as the array.</summary>
    public Tensor Gather(ReadOnlySpan<int> indices)
    {
        var bytes = new byte[(long)indices.Length * RowBytes];
        Gather(indices, bytes);
        return new Tensor(ElementType, [indices.Length, .. RowShape], bytes, Name);
    }

    /// <summary>Gathers the rows at <paramref name="indices"/> into a caller-owned buffer (e.g. a pinned ONNX Runtime input).</summary>
    public void Gather(ReadOnlySpan<int> indices, Span<byte> destination)
    {
        var row = RowBytes;
        if (destination.Length < (long)indices.Length * row)
        {
            throw new ArgumentException($"The destination buffer is too small for a batch of {indices.Length} rows of array '{Name}'.", nameof(destination));
        }
        var source = Bytes;
        var count = Count;
        for (var i = 0; i < indices.Length; i++)
        {
            var index = indices[i];
            if ((uint)index >= (uint)count)
            {
                throw new ArgumentOutOfRangeException(nameof(indices), $"Example index {index} is outside 0..{count - 1}.");
            }
            source.Slice(index * row, row).CopyTo(destination.Slice(i * row, row));
        }
    }

    /// <summary>Rows [start, start + count) as a new tensor (one block copy).</summary>
    public Tensor Range(int start, int count)
    {
        CheckRange(start, count);
        return new Tensor(ElementType, [count, .. RowShape], Bytes.Slice(start * RowBytes, count * RowBytes).ToArray(), Name);
    }

    /// <summary>Rows [start, start + count) as an array over the same memory (no copy).</summary>
    public DataArray Rows(int start, int count)
    {
        CheckRange(start, count);
        if (start == 0 && count == Count)
        {
            return this;
        }
        return new DataArray(Name, ElementType, [count, .. RowShape], _storage.Slice((long)start * RowBytes, (long)count * RowBytes), null);
    }

    /// <summary>Name, element type and full shape, e.g. "x: float32[100,4]".</summary>
    public override string ToString() => $"{Name}: {ElementType.Name()}[{string.Join(",", Dims)}]";

    private void CheckRange(int start, int count)
    {
        if (start < 0 || count < 0 || start > Count - count)
        {
            throw new ArgumentOutOfRangeException(nameof(count), $"Rows [{start}, {start}+{count}) are outside the {Count} examples of '{Name}'.");
        }
    }

    /// <summary>Where the payload lives: a typed memory, read as bytes.</summary>
    private abstract class Storage
    {
        public abstract long ByteLength { get; }

        public abstract ReadOnlySpan<byte> Span { get; }

        /// <summary>The bytes [start, start + length), which are whole elements.</summary>
        public abstract Storage Slice(long start, long length);
    }

    private sealed class Storage<T>(ReadOnlyMemory<T> memory) : Storage
        where T : unmanaged
    {
        private static readonly int Size = System.Runtime.CompilerServices.Unsafe.SizeOf<T>();

        public override long ByteLength => (long)memory.Length * Size;

        public override ReadOnlySpan<byte> Span => MemoryMarshal.AsBytes(memory.Span);

        public override Storage Slice(long start, long length) => new Storage<T>(memory.Slice((int)(start / Size), (int)(length / Size)));
    }
}
