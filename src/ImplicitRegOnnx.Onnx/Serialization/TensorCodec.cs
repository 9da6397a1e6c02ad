using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Google.Protobuf;
using ImplicitRegOnnx.Onnx.Serialization.Proto;

namespace ImplicitRegOnnx.Onnx.Serialization;

/// <summary>
/// Converts tensor payloads between the IR's raw little-endian bytes and TensorProto's fields.
/// Which typed field holds which element type follows the comments of TensorProto in the ONNX spec:
/// float_data (float, complex64), double_data (double, complex128), int64_data (int64),
/// uint64_data (uint32, uint64), string_data (string), int32_data (everything else, one element
/// per entry; sub-byte types one packed byte per entry).
/// </summary>
internal static class TensorCodec
{
    /// <summary>Decodes the inline payload (raw_data or a typed field) of a tensor.</summary>
    public static Tensor Decode(TensorProto proto, byte[]? externalBytes)
    {
        var name = proto.Name;
        if (!ElementTypes.IsKnown(proto.DataType))
        {
            throw ImplicitRegException.BadInput($"tensor '{name}' has unknown element type {proto.DataType}");
        }
        var type = (ElementType)proto.DataType;
        var dims = proto.Dims.ToArray();
        var count = CheckedElementCount(name, type, dims);

        if (type == ElementType.String)
        {
            if (proto.StringData.Count != count)
            {
                throw ImplicitRegException.BadInput($"string tensor '{name}' of {count} elements has {proto.StringData.Count} strings");
            }
            return Tensor.FromStrings(dims, proto.StringData.Select(s => s.ToByteArray()).ToArray(), name);
        }

        if (externalBytes is not null)
        {
            return new Tensor(type, dims, externalBytes, name);
        }
        if (proto.HasRawData)
        {
            return new Tensor(type, dims, proto.RawData.ToByteArray(), name);
        }
        return new Tensor(type, dims, FromTypedFields(proto, type, count), name) { Storage = TensorStorage.Typed };
    }

    /// <summary>
    /// The element count of a shape whose byte size also fits in a long; a damaged file can claim
    /// dims so large that the size overflows, which must be a format error, not an OverflowException.
    /// </summary>
    public static long CheckedElementCount(string name, ElementType type, long[] dims)
    {
        var count = Tensor.ElementCountOf(dims);
        if (count > long.MaxValue / Math.Max(type.BitWidth(), 8))
        {
            throw ImplicitRegException.BadInput($"tensor '{name}' of shape [{string.Join(",", dims)}] is too large to be real");
        }
        return count;
    }

    private static byte[] FromTypedFields(TensorProto proto, ElementType type, long count)
    {
        var name = proto.Name;
        var byteCount = type.ByteCount(count);
        if (byteCount > Array.MaxLength)
        {
            throw ImplicitRegException.BadInput($"tensor '{name}' is too large to hold inline");
        }
        var bytes = new byte[byteCount];
        void Expect(int have, long want)
        {
            if (have != want)
            {
                throw ImplicitRegException.BadInput($"tensor '{name}' of type {type.Name()} and {count} elements has {have} values in its data field");
            }
        }
        switch (type)
        {
            case ElementType.Float:
            case ElementType.Complex64:
                Expect(proto.FloatData.Count, type == ElementType.Float ? count : 2 * count);
                MemoryMarshal.AsBytes(proto.FloatData.ToArray().AsSpan()).CopyTo(bytes);
                break;
            case ElementType.Double:
            case ElementType.Complex128:
                Expect(proto.DoubleData.Count, type == ElementType.Double ? count : 2 * count);
                MemoryMarshal.AsBytes(proto.DoubleData.ToArray().AsSpan()).CopyTo(bytes);
                break;
            case ElementType.Int64:
                Expect(proto.Int64Data.Count, count);
                MemoryMarshal.AsBytes(proto.Int64Data.ToArray().AsSpan()).CopyTo(bytes);
                break;
            case ElementType.UInt64:
                Expect(proto.Uint64Data.Count, count);
                MemoryMarshal.AsBytes(proto.Uint64Data.ToArray().AsSpan()).CopyTo(bytes);
                break;
            case ElementType.UInt32:
                Expect(proto.Uint64Data.Count, count);
                for (var i = 0; i < count; i++)
                {
                    BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4 * i), (uint)proto.Uint64Data[i]);
                }
                break;
            case ElementType.Int32:
                Expect(proto.Int32Data.Count, count);
                MemoryMarshal.AsBytes(proto.Int32Data.ToArray().AsSpan()).CopyTo(bytes);
                break;
            default:
                var width = type.BitWidth();
                if (width == 16)
                {
                    Expect(proto.Int32Data.Count, count);
                    for (var i = 0; i < count; i++)
                    {
                        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(2 * i), unchecked((ushort)proto.Int32Data[i]));
                    }
                }
                else if (width == 8)
                {
                    Expect(proto.Int32Data.Count, count);
                    for (var i = 0; i < count; i++)
                    {
                        bytes[i] = unchecked((byte)proto.Int32Data[i]);
                    }
                }
                else
                {
                    // Sub-byte types: one packed byte per int32_data entry.
                    Expect(proto.Int32Data.Count, byteCount);
                    for (var i = 0; i < byteCount; i++)
                    {
                        bytes[i] = unchecked((byte)proto.Int32Data[i]);
                    }
                }
                break;
        }
        return bytes;
    }

    /// <summary>Writes the payload into the proto, inline, in the tensor's storage form.</summary>
    public static void EncodeInline(Tensor tensor, TensorProto proto)
    {
        var type = tensor.ElementType;
        if (type == ElementType.String)
        {
            foreach (var s in tensor.Strings)
            {
                proto.StringData.Add(ByteString.CopyFrom(s));
            }
            return;
        }
        var raw = tensor.RawBytes;
        if (tensor.Storage == TensorStorage.Raw)
        {
            proto.RawData = ByteString.CopyFrom(raw);
            return;
        }
        switch (type)
        {
            case ElementType.Float:
            case ElementType.Complex64:
                proto.FloatData.AddRange(MemoryMarshal.Cast<byte, float>(raw).ToArray());
                break;
            case ElementType.Double:
            case ElementType.Complex128:
                proto.DoubleData.AddRange(MemoryMarshal.Cast<byte, double>(raw).ToArray());
                break;
            case ElementType.Int64:
                proto.Int64Data.AddRange(MemoryMarshal.Cast<byte, long>(raw).ToArray());
                break;
            case ElementType.UInt64:
                proto.Uint64Data.AddRange(MemoryMarshal.Cast<byte, ulong>(raw).ToArray());
                break;
            case ElementType.UInt32:
                foreach (var v in MemoryMarshal.Cast<byte, uint>(raw))
                {
                    proto.Uint64Data.Add(v);
                }
                break;
            case ElementType.Int32:
                proto.Int32Data.AddRange(MemoryMarshal.Cast<byte, int>(raw).ToArray());
                break;
            case ElementType.Int16:
                foreach (var v in MemoryMarshal.Cast<byte, short>(raw))
                {
                    proto.Int32Data.Add(v);
                }
                break;
            case ElementType.Int8:
                foreach (var v in raw)
                {
                    proto.Int32Data.Add(unchecked((sbyte)v));
                }
                break;
            default:
                if (type.BitWidth() == 16)
                {
                    foreach (var v in MemoryMarshal.Cast<byte, ushort>(raw))
                    {
                        proto.Int32Data.Add(v);
                    }
                }
                else
                {
                    foreach (var v in raw)
                    {
                        proto.Int32Data.Add(v);
                    }
                }
                break;
        }
    }
}
