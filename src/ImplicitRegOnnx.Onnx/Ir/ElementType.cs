namespace ImplicitRegOnnx.Onnx;

/// <summary>Tensor element types; the numbers are those of TensorProto.DataType in the ONNX IR spec.</summary>
public enum ElementType
{
    Undefined = 0,
    Float = 1,
    UInt8 = 2,
    Int8 = 3,
    UInt16 = 4,
    Int16 = 5,
    Int32 = 6,
    Int64 = 7,
    String = 8,
    Bool = 9,
    Float16 = 10,
    Double = 11,
    UInt32 = 12,
    UInt64 = 13,
    Complex64 = 14,
    Complex128 = 15,
    BFloat16 = 16,
    Float8E4M3FN = 17,
    Float8E4M3FNUZ = 18,
    Float8E5M2 = 19,
    Float8E5M2FNUZ = 20,
    UInt4 = 21,
    Int4 = 22,
    Float4E2M1 = 23,
    Float8E8M0 = 24,
    UInt2 = 25,
    Int2 = 26,
}

/// <summary>Facts about element types: names as the ONNX spec writes them, sizes, categories.</summary>
public static class ElementTypes
{
    /// <summary>Whether the number names an element type this toolkit knows.</summary>
    public static bool IsKnown(int code) => code is >= 1 and <= 26;

    /// <summary>The lower-case name used in the ONNX docs and in our JSON output, e.g. "float", "bfloat16".</summary>
    public static string Name(this ElementType type) => type switch
    {
        ElementType.Undefined => "undefined",
        ElementType.Float => "float",
        ElementType.UInt8 => "uint8",
        ElementType.Int8 => "int8",
        ElementType.UInt16 => "uint16",
        ElementType.Int16 => "int16",
        ElementType.Int32 => "int32",
        ElementType.Int64 => "int64",
        ElementType.String => "string",
        ElementType.Bool => "bool",
        ElementType.Float16 => "float16",
        ElementType.Double => "double",
        ElementType.UInt32 => "uint32",
        ElementType.UInt64 => "uint64",
        ElementType.Complex64 => "complex64",
        ElementType.Complex128 => "complex128",
        ElementType.BFloat16 => "bfloat16",
        ElementType.Float8E4M3FN => "float8e4m3fn",
        ElementType.Float8E4M3FNUZ => "float8e4m3fnuz",
        ElementType.Float8E5M2 => "float8e5m2",
        ElementType.Float8E5M2FNUZ => "float8e5m2fnuz",
        ElementType.UInt4 => "uint4",
        ElementType.Int4 => "int4",
        ElementType.Float4E2M1 => "float4e2m1",
        ElementType.Float8E8M0 => "float8e8m0",
        ElementType.UInt2 => "uint2",
        ElementType.Int2 => "int2",
        _ => $"type{(int)type}",
    };

    /// <summary>Parses a name produced by <see cref="Name"/>.</summary>
    public static bool TryParse(string name, out ElementType type)
    {
        for (var code = 0; code <= 26; code++)
        {
            if (string.Equals(((ElementType)code).Name(), name, StringComparison.OrdinalIgnoreCase))
            {
                type = (ElementType)code;
                return true;
            }
        }
        type = ElementType.Undefined;
        return false;
    }

    /// <summary>Bits per element in raw_data; 0 for strings and undefined.</summary>
    public static int BitWidth(this ElementType type) => type switch
    {
        ElementType.Float or ElementType.Int32 or ElementType.UInt32 => 32,
        ElementType.Double or ElementType.Int64 or ElementType.UInt64 or ElementType.Complex64 => 64,
        ElementType.Complex128 => 128,
        ElementType.Float16 or ElementType.BFloat16 or ElementType.Int16 or ElementType.UInt16 => 16,
        ElementType.UInt8 or ElementType.Int8 or ElementType.Bool
            or ElementType.Float8E4M3FN or ElementType.Float8E4M3FNUZ
            or ElementType.Float8E5M2 or ElementType.Float8E5M2FNUZ or ElementType.Float8E8M0 => 8,
        ElementType.UInt4 or ElementType.Int4 or ElementType.Float4E2M1 => 4,
        ElementType.UInt2 or ElementType.Int2 => 2,
        _ => 0,
    };

    /// <summary>Bytes that <paramref name="count"/> elements take in raw_data (sub-byte types are packed, rounded up).</summary>
    public static long ByteCount(this ElementType type, long count)
    {
        var bits = type.BitWidth();
        return checked(count * bits + 7) / 8;
    }

    /// <summary>Whether tensors of the type convert to and from doubles (<see cref="Tensor.FromDoubles"/>, <see cref="Tensor.ToDoubles"/>):
    /// float, double, float16, bfloat16, the 8- to 64-bit integers and bool.</summary>
    public static bool HoldsNumbers(this ElementType type) => ElementConversion.Supports(type);

    public static bool IsFloatingPoint(this ElementType type) => type is ElementType.Float or ElementType.Double
        or ElementType.Float16 or ElementType.BFloat16 or ElementType.Float8E4M3FN or ElementType.Float8E4M3FNUZ
        or ElementType.Float8E5M2 or ElementType.Float8E5M2FNUZ or ElementType.Float4E2M1 or ElementType.Float8E8M0;

    public static bool IsInteger(this ElementType type) => type is ElementType.Int8 or ElementType.Int16
        or ElementType.Int32 or ElementType.Int64 or ElementType.UInt8 or ElementType.UInt16 or ElementType.UInt32
        or ElementType.UInt64 or ElementType.Int4 or ElementType.UInt4 or ElementType.Int2 or ElementType.UInt2;
}
