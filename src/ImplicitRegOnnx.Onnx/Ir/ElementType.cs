namespace ImplicitRegOnnx.Onnx;

/// <summary>Tensor element types; the numbers are those of TensorProto.DataType in the ONNX IR spec.</summary>
public enum ElementType
{
    /// <summary>0 (UNDEFINED): no element type; what <see cref="Value.ElementType"/> gives when the type is unknown.</summary>
    Undefined = 0,
    /// <summary>1 (FLOAT): IEEE 754 binary32, <see cref="float"/>.</summary>
    Float = 1,
    /// <summary>2 (UINT8): unsigned 8-bit integer, <see cref="byte"/>.</summary>
    UInt8 = 2,
    /// <summary>3 (INT8): signed 8-bit integer, <see cref="sbyte"/>.</summary>
    Int8 = 3,
    /// <summary>4 (UINT16): unsigned 16-bit integer, <see cref="ushort"/>.</summary>
    UInt16 = 4,
    /// <summary>5 (INT16): signed 16-bit integer, <see cref="short"/>.</summary>
    Int16 = 5,
    /// <summary>6 (INT32): signed 32-bit integer, <see cref="int"/>.</summary>
    Int32 = 6,
    /// <summary>7 (INT64): signed 64-bit integer, <see cref="long"/> (shapes, axes and indices in ONNX).</summary>
    Int64 = 7,
    /// <summary>8 (STRING): byte strings (UTF-8 by convention); such tensors have <see cref="Tensor.Strings"/>, no raw bytes.</summary>
    String = 8,
    /// <summary>9 (BOOL): one byte per element, 0 or 1, <see cref="bool"/>.</summary>
    Bool = 9,
    /// <summary>10 (FLOAT16): IEEE 754 binary16, <see cref="Half"/>.</summary>
    Float16 = 10,
    /// <summary>11 (DOUBLE): IEEE 754 binary64, <see cref="double"/>.</summary>
    Double = 11,
    /// <summary>12 (UINT32): unsigned 32-bit integer, <see cref="uint"/>.</summary>
    UInt32 = 12,
    /// <summary>13 (UINT64): unsigned 64-bit integer, <see cref="ulong"/>.</summary>
    UInt64 = 13,
    /// <summary>14 (COMPLEX64): a pair of binary32 (real, imaginary), 8 bytes per element.</summary>
    Complex64 = 14,
    /// <summary>15 (COMPLEX128): a pair of binary64 (real, imaginary), 16 bytes per element.</summary>
    Complex128 = 15,
    /// <summary>16 (BFLOAT16): brain float, the upper 16 bits of a binary32 (8 exponent bits, 7 mantissa bits).</summary>
    BFloat16 = 16,
    /// <summary>17 (FLOAT8E4M3FN): 8-bit float, 4 exponent and 3 mantissa bits, finite only (no infinities), one NaN pattern per sign.</summary>
    Float8E4M3FN = 17,
    /// <summary>18 (FLOAT8E4M3FNUZ): 8-bit float, 4 exponent and 3 mantissa bits, finite only, no negative zero, one NaN.</summary>
    Float8E4M3FNUZ = 18,
    /// <summary>19 (FLOAT8E5M2): 8-bit float, 5 exponent and 2 mantissa bits, with infinities and NaNs.</summary>
    Float8E5M2 = 19,
    /// <summary>20 (FLOAT8E5M2FNUZ): 8-bit float, 5 exponent and 2 mantissa bits, finite only, no negative zero, one NaN.</summary>
    Float8E5M2FNUZ = 20,
    /// <summary>21 (UINT4): unsigned 4-bit integer, two per byte in raw data (IR version 10).</summary>
    UInt4 = 21,
    /// <summary>22 (INT4): signed 4-bit integer, two per byte in raw data (IR version 10).</summary>
    Int4 = 22,
    /// <summary>23 (FLOAT4E2M1): 4-bit float, 2 exponent and 1 mantissa bit, two per byte (IR version 11).</summary>
    Float4E2M1 = 23,
    /// <summary>24 (FLOAT8E8M0): an 8-bit power-of-two scale, 8 exponent bits and no mantissa.</summary>
    Float8E8M0 = 24,
    /// <summary>25 (UINT2): unsigned 2-bit integer, four per byte in raw data.</summary>
    UInt2 = 25,
    /// <summary>26 (INT2): signed 2-bit integer, four per byte in raw data.</summary>
    Int2 = 26,
}

/// <summary>Facts about element types: names as the ONNX spec writes them, sizes, categories.</summary>
public static class ElementTypes
{
    /// <summary>Whether <paramref name="code"/> is the TensorProto.DataType number of an element type this toolkit knows (1 to 26; 0, UNDEFINED, is not).</summary>
    /// <param name="code">The number as stored in a file.</param>
    public static bool IsKnown(int code) => code is >= 1 and <= 26;

    /// <summary>The lower-case name the ONNX docs use and the toolkit writes in messages and JSON, e.g. "float", "bfloat16"; "typeN" for a number it does not know.</summary>
    /// <param name="type">The element type.</param>
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

    /// <summary>Parses a name produced by <see cref="Name"/>, ignoring case (e.g. "float16", "Int64").</summary>
    /// <param name="name">The name.</param>
    /// <param name="type">The element type, or <see cref="ElementType.Undefined"/> when the name is not known.</param>
    /// <returns>Whether the name is known.</returns>
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

    /// <summary>Bits per element in raw data (e.g. 32 for float, 4 for int4, 128 for complex128); 0 for strings, undefined and unknown numbers.</summary>
    /// <param name="type">The element type.</param>
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

    /// <summary>Bytes that <paramref name="count"/> elements take in raw data: sub-byte types are packed, and the total is rounded up to whole bytes.</summary>
    /// <param name="type">The element type.</param>
    /// <param name="count">The number of elements, not negative.</param>
    /// <exception cref="OverflowException">The byte count does not fit in a <see cref="long"/>.</exception>
    public static long ByteCount(this ElementType type, long count)
    {
        var bits = type.BitWidth();
        return checked(count * bits + 7) / 8;
    }

    /// <summary>Whether tensors of the type convert to and from doubles (<see cref="Tensor.FromDoubles"/>, <see cref="Tensor.ToDoubles"/>):
    /// float, double, float16, bfloat16, the 8- to 64-bit integers and bool.</summary>
    /// <param name="type">The element type.</param>
    public static bool HoldsNumbers(this ElementType type) => ElementConversion.Supports(type);

    /// <summary>Whether the type is a real floating-point type: float, double, float16, bfloat16, the float8 types or float4e2m1 (complex types are not).</summary>
    /// <param name="type">The element type.</param>
    public static bool IsFloatingPoint(this ElementType type) => type is ElementType.Float or ElementType.Double
        or ElementType.Float16 or ElementType.BFloat16 or ElementType.Float8E4M3FN or ElementType.Float8E4M3FNUZ
        or ElementType.Float8E5M2 or ElementType.Float8E5M2FNUZ or ElementType.Float4E2M1 or ElementType.Float8E8M0;

    /// <summary>Whether the type is a signed or unsigned integer type of 2 to 64 bits (bool is not).</summary>
    /// <param name="type">The element type.</param>
    public static bool IsInteger(this ElementType type) => type is ElementType.Int8 or ElementType.Int16
        or ElementType.Int32 or ElementType.Int64 or ElementType.UInt8 or ElementType.UInt16 or ElementType.UInt32
        or ElementType.UInt64 or ElementType.Int4 or ElementType.UInt4 or ElementType.Int2 or ElementType.UInt2;
}
