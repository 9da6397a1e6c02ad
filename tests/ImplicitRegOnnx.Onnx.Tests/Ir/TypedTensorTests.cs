using System.Buffers.Binary;

namespace ImplicitRegOnnx.Onnx.Tests.Ir;

/// <summary>
/// <see cref="Tensor.FromDoubles"/>, the one conversion behind every typed constant. The expected bit
/// patterns are worked out from the IEEE 754 formats (float16: 5 exponent bits, 10 fraction bits;
/// bfloat16: 8 and 7; float: 8 and 23) and round to nearest, ties to even, from the exact double.
/// </summary>
public class TypedTensorTests
{
    private static ushort Bits16(ElementType type, double value) =>
        BinaryPrimitives.ReadUInt16LittleEndian(Tensor.Scalar(type, value).RawBytes);

    private static uint Bits32(double value) =>
        BinaryPrimitives.ReadUInt32LittleEndian(Tensor.Scalar(ElementType.Float, value).RawBytes);

    [Theory]
    [InlineData(1.0, 0x3C00)]
    [InlineData(-2.0, 0xC000)]
    [InlineData(-0.0, 0x8000)]
    [InlineData(0.0, 0x0000)]
    // 1 + 2⁻¹¹ is halfway between 1 and 1 + 2⁻¹⁰: ties go to the even fraction (1).
    [InlineData(1 + 0.00048828125, 0x3C00)]
    // 1 + 3·2⁻¹¹ is halfway between fractions 1 (odd) and 2 (even).
    [InlineData(1 + 3 * 0.00048828125, 0x3C02)]
    // Just above the tie: rounds up. Through float first it would land on the tie and go to 1 (double rounding).
    [InlineData(1 + 0.00048828125 + 9.094947017729282e-13, 0x3C01)]
    // Just below the tie: rounds down.
    [InlineData(1 + 0.00048828125 - 9.094947017729282e-13, 0x3C00)]
    // The largest finite float16 is 65504 (0x7BFF); 65520 is halfway to 2¹⁶ and ties to even, which is infinity.
    [InlineData(65504.0, 0x7BFF)]
    [InlineData(65519.99, 0x7BFF)]
    [InlineData(65520.0, 0x7C00)]
    [InlineData(1e10, 0x7C00)]
    [InlineData(-1e10, 0xFC00)]
    [InlineData(double.PositiveInfinity, 0x7C00)]
    // Subnormals: 2⁻²⁴ is the smallest; 2⁻²⁵ is halfway to 0 and ties to 0; 3·2⁻²⁵ ties to 2·2⁻²⁴.
    [InlineData(5.960464477539063e-08, 0x0001)]
    [InlineData(2.9802322387695312e-08, 0x0000)]
    [InlineData(2.9802322387695312e-08 + 1e-20, 0x0001)]
    [InlineData(8.940696716308594e-08, 0x0002)]
    [InlineData(6.103515625e-05, 0x0400)]
    [InlineData(6.103515625e-05 - 5.960464477539063e-08, 0x03FF)]
    [InlineData(1e-12, 0x0000)]
    [InlineData(-1e-12, 0x8000)]
    public void Float16RoundsToNearestEvenFromTheDouble(double value, int expected) =>
        Assert.Equal(expected, Bits16(ElementType.Float16, value));

    [Theory]
    [InlineData(1.0, 0x3F80)]
    [InlineData(-0.0, 0x8000)]
    // 1 + 2⁻⁸ is halfway between 1 and 1 + 2⁻⁷: ties to even (1); 1 + 3·2⁻⁸ ties to fraction 2.
    [InlineData(1 + 0.00390625, 0x3F80)]
    [InlineData(1 + 3 * 0.00390625, 0x3F82)]
    // Not a tie: truncating the float's bits would give 0x3F80.
    [InlineData(1 + 0.00390625 + 0.001953125, 0x3F81)]
    // Within a float ulp of the tie on either side: the float rounding lands on the tie, the double decides.
    [InlineData(1 + 0.00390625 + 9.094947017729282e-13, 0x3F81)]
    [InlineData(1 + 0.00390625 - 9.094947017729282e-13, 0x3F80)]
    [InlineData(-(1 + 0.00390625 + 9.094947017729282e-13), 0xBF81)]
    // The largest finite bfloat16 is (2 − 2⁻⁷)·2¹²⁷ (0x7F7F); (2 − 2⁻⁸)·2¹²⁷ is the tie to infinity.
    [InlineData(3.3895313892515355e38, 0x7F7F)]
    [InlineData(3.3961775292304e38, 0x7F7F)]
    [InlineData(3.3962688359919413e38, 0x7F80)]
    [InlineData(1e39, 0x7F80)]
    [InlineData(-1e39, 0xFF80)]
    // Subnormals: 2⁻¹³³ is the smallest; 2⁻¹³⁴ ties to 0, just above it rounds up, 3·2⁻¹³⁴ ties to 2·2⁻¹³³.
    [InlineData(9.183549615799121e-41, 0x0001)]
    [InlineData(4.591774807899561e-41, 0x0000)]
    [InlineData(4.591774807899561e-41 + 1.401298464324817e-45, 0x0001)]
    [InlineData(1.3775324423698682e-40, 0x0002)]
    [InlineData(1e-50, 0x0000)]
    public void BFloat16RoundsToNearestEvenFromTheDouble(double value, int expected) =>
        Assert.Equal(expected, Bits16(ElementType.BFloat16, value));

    [Theory]
    [InlineData(1.0, 0x3F800000u)]
    // 1 + 2⁻²⁴ ties to 1; a little more rounds up.
    [InlineData(1 + 5.960464477539063e-08, 0x3F800000u)]
    [InlineData(1 + 5.960464477539063e-08 + 1e-15, 0x3F800001u)]
    // Beyond the largest float (and its half ulp): infinity.
    [InlineData(3.5e38, 0x7F800000u)]
    [InlineData(-3.5e38, 0xFF800000u)]
    // 2⁻¹⁵⁰ ties between 0 and the smallest subnormal 2⁻¹⁴⁹; a little more rounds up.
    [InlineData(7.006492321624085e-46, 0x00000000u)]
    [InlineData(7.006492321624085e-46 + 1e-60, 0x00000001u)]
    public void FloatRoundsToNearestEven(double value, uint expected) => Assert.Equal(expected, Bits32(value));

    [Fact]
    public void NaNStaysNaN()
    {
        Assert.True(double.IsNaN(Tensor.Scalar(ElementType.Float16, double.NaN).ToDoubles()[0]));
        Assert.True(double.IsNaN(Tensor.Scalar(ElementType.BFloat16, double.NaN).ToDoubles()[0]));
        Assert.True(double.IsNaN(Tensor.Scalar(ElementType.Float, double.NaN).ToDoubles()[0]));
        Assert.Equal(0x7FC0, Bits16(ElementType.BFloat16, double.NaN) & 0x7FC0);
    }

    [Fact]
    public void DoublesAreKeptExactly()
    {
        double[] values = [0.1, -1e-300, 1e300, double.Epsilon];
        var tensor = Tensor.FromDoubles(ElementType.Double, values, [2, 2], "d");
        Assert.Equal(values, tensor.ToDoubles());
        Assert.Equal([2L, 2], tensor.Dims);
        Assert.Equal("d", tensor.Name);
        Assert.Equal(values, tensor.ToArray<double>());
    }

    public static TheoryData<ElementType, double, double> IntegerLimits() => new()
    {
        { ElementType.Int8, sbyte.MinValue, sbyte.MaxValue },
        { ElementType.UInt8, byte.MinValue, byte.MaxValue },
        { ElementType.Int16, short.MinValue, short.MaxValue },
        { ElementType.UInt16, ushort.MinValue, ushort.MaxValue },
        { ElementType.Int32, int.MinValue, int.MaxValue },
        { ElementType.UInt32, uint.MinValue, uint.MaxValue },
        // The largest doubles below 2⁶³ and 2⁶⁴; −2⁶³ itself is exact.
        { ElementType.Int64, -9223372036854775808.0, 9223372036854774784.0 },
        { ElementType.UInt64, 0, 18446744073709549568.0 },
        { ElementType.Bool, 0, 1 },
    };

    [Theory]
    [MemberData(nameof(IntegerLimits))]
    public void IntegersTakeExactlyTheValuesTheyHold(ElementType type, double min, double max)
    {
        var tensor = Tensor.FromDoubles(type, [min, max, 1, 0], [4]);
        Assert.Equal(type, tensor.ElementType);
        Assert.Equal(type.BitWidth() / 8 * 4, tensor.RawBytes.Length);
        Assert.Equal([min, max, 1, 0], tensor.ToDoubles());

        // One step outside the range (2⁶³ and 2⁶⁴ for the 64-bit types) and a fraction are refused, not wrapped or truncated.
        var above = type switch
        {
            ElementType.Int64 => 9223372036854775808.0,
            ElementType.UInt64 => 18446744073709551616.0,
            _ => max + 1,
        };
        Assert.Throws<ArgumentOutOfRangeException>(() => Tensor.Scalar(type, above));
        Assert.Throws<ArgumentOutOfRangeException>(() => Tensor.Scalar(type, min - (type is ElementType.Int64 ? 4096 : 1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => Tensor.Scalar(type, 0.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => Tensor.Scalar(type, double.NaN));
    }

    [Fact]
    public void IntegerPayloadsAreLittleEndianTwosComplement()
    {
        Assert.Equal(new byte[] { 0xFF }, Tensor.Scalar(ElementType.Int8, -1).RawBytes.ToArray());
        Assert.Equal(new byte[] { 0xFE, 0xFF }, Tensor.Scalar(ElementType.Int16, -2).RawBytes.ToArray());
        Assert.Equal(new byte[] { 0x01, 0x02, 0, 0 }, Tensor.Scalar(ElementType.Int32, 513).RawBytes.ToArray());
        Assert.Equal(BitConverter.GetBytes(-3L), Tensor.Scalar(ElementType.Int64, -3).RawBytes.ToArray());
        Assert.Equal(BitConverter.GetBytes(1UL << 63), Tensor.Scalar(ElementType.UInt64, 9223372036854775808.0).RawBytes.ToArray());
    }

    [Theory]
    [InlineData(ElementType.String)]
    [InlineData(ElementType.Complex64)]
    [InlineData(ElementType.Float8E4M3FN)]
    [InlineData(ElementType.Int4)]
    [InlineData(ElementType.Undefined)]
    public void TypesThatDoNotHoldNumbersAreRefused(ElementType type)
    {
        Assert.False(type.HoldsNumbers());
        Assert.Throws<NotSupportedException>(() => Tensor.Scalar(type, 0));
    }

    [Fact]
    public void TheShapeMustHoldTheValues() =>
        Assert.Throws<ArgumentException>(() => Tensor.FromDoubles(ElementType.Float, [1, 2, 3], [2, 2]));
}
