using System.Buffers.Binary;

namespace ImplicitRegOnnx.Onnx;

/// <summary>
/// Writes a double as one element of a numeric type: the one conversion behind every typed constant
/// the toolkit makes (<see cref="Tensor.FromDoubles"/>, and through it the <c>GraphBuilder</c> helpers).
/// Floating-point targets round to nearest, ties to even, straight from the double (IEEE 754 §4.3.1),
/// never through float first: that double rounding would move a value just above a float16 tie onto
/// the tie and then to even. Values beyond the largest finite number become ±infinity, values below
/// the smallest subnormal ±0, NaN stays NaN.
/// </summary>
internal static class ElementConversion
{
    /// <summary>Whether <see cref="Write"/> handles the type: float, double, float16, bfloat16, the 8- to 64-bit integers and bool.</summary>
    public static bool Supports(ElementType type) => type is ElementType.Float or ElementType.Double or ElementType.Float16
        or ElementType.BFloat16 or ElementType.Int8 or ElementType.UInt8 or ElementType.Int16 or ElementType.UInt16
        or ElementType.Int32 or ElementType.UInt32 or ElementType.Int64 or ElementType.UInt64 or ElementType.Bool;

    /// <summary>
    /// Writes <paramref name="value"/> little-endian into <paramref name="destination"/> (one element).
    /// Integers and bool take only values they hold exactly (bool: 0 or 1); anything else is an
    /// <see cref="ArgumentOutOfRangeException"/>, since truncating would hide a wrong constant.
    /// </summary>
    public static void Write(ElementType type, double value, Span<byte> destination)
    {
        switch (type)
        {
            case ElementType.Float:
                // The explicit conversion rounds to nearest even and overflows to infinity (ECMA-335 conv.r4).
                BinaryPrimitives.WriteSingleLittleEndian(destination, (float)value);
                break;
            case ElementType.Double:
                BinaryPrimitives.WriteDoubleLittleEndian(destination, value);
                break;
            case ElementType.Float16:
                // System.Half's conversion from double rounds the double's bits directly (no float step).
                BinaryPrimitives.WriteHalfLittleEndian(destination, (Half)value);
                break;
            case ElementType.BFloat16:
                BinaryPrimitives.WriteUInt16LittleEndian(destination, ToBFloat16Bits(value));
                break;
            case ElementType.Int8:
                destination[0] = (byte)(sbyte)Exact(value, sbyte.MinValue, sbyte.MaxValue, type);
                break;
            case ElementType.UInt8:
                destination[0] = (byte)Exact(value, byte.MinValue, byte.MaxValue, type);
                break;
            case ElementType.Bool:
                destination[0] = (byte)Exact(value, 0, 1, type);
                break;
            case ElementType.Int16:
                BinaryPrimitives.WriteInt16LittleEndian(destination, (short)Exact(value, short.MinValue, short.MaxValue, type));
                break;
            case ElementType.UInt16:
                BinaryPrimitives.WriteUInt16LittleEndian(destination, (ushort)Exact(value, ushort.MinValue, ushort.MaxValue, type));
                break;
            case ElementType.Int32:
                BinaryPrimitives.WriteInt32LittleEndian(destination, (int)Exact(value, int.MinValue, int.MaxValue, type));
                break;
            case ElementType.UInt32:
                BinaryPrimitives.WriteUInt32LittleEndian(destination, (uint)Exact(value, uint.MinValue, uint.MaxValue, type));
                break;
            case ElementType.Int64:
                // 2^63 is the first double above long.MaxValue; long.MinValue (−2^63) is exact.
                BinaryPrimitives.WriteInt64LittleEndian(destination, (long)ExactBelow(value, long.MinValue, 9223372036854775808.0, type));
                break;
            case ElementType.UInt64:
                BinaryPrimitives.WriteUInt64LittleEndian(destination, (ulong)ExactBelow(value, 0, 18446744073709551616.0, type));
                break;
            default:
                throw new NotSupportedException($"constants of element type {type.Name()} cannot be made from numbers (float, double, float16, bfloat16, integers and bool can)");
        }
    }

    /// <summary>
    /// bfloat16 (the upper 16 bits of a float32) rounded to nearest even from the double. The double is
    /// rounded to float first, which is exact except where that lands on a bfloat16 tie (low 16 bits
    /// 0x8000) the double was not on: then the double's side of the tie decides.
    /// </summary>
    internal static ushort ToBFloat16Bits(double value)
    {
        var single = (float)value;
        var bits = BitConverter.SingleToUInt32Bits(single);
        if (float.IsNaN(single))
        {
            // A quiet NaN with the sign kept.
            return (ushort)((bits >> 16) | 0x0040);
        }
        var low = bits & 0xFFFF;
        var high = bits >> 16;
        if (low == 0x8000 && (double)single != value)
        {
            // On the tie only after the float rounding: away from zero when the double was beyond it.
            return (ushort)(Math.Abs(value) > Math.Abs((double)single) ? high + 1 : high);
        }
        // Round to nearest even on the float bits; a carry into the exponent is correct (up to infinity).
        return (ushort)((bits + 0x7FFF + (high & 1)) >> 16);
    }

    private static double Exact(double value, double min, double max, ElementType type) =>
        value >= min && value <= max && Math.Floor(value) == value
            ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, $"{value} is not a value of element type {type.Name()}");

    private static double ExactBelow(double value, double min, double limit, ElementType type) =>
        value >= min && value < limit && Math.Floor(value) == value
            ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, $"{value} is not a value of element type {type.Name()}");
}
