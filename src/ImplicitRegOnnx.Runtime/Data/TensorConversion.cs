using System.Runtime.InteropServices;
using ImplicitRegOnnx.Onnx;

namespace ImplicitRegOnnx.Runtime.Data;

/// <summary>Converts loaded arrays of any numeric dtype to the data set's float32 features and int64/float32 labels.</summary>
internal static class TensorConversion
{
    /// <summary>Features as float32 [N, ...]; a rank-1 array becomes [N, 1].</summary>
    public static Tensor ToFeatures(Tensor tensor, string where)
    {
        if (tensor.Dims.Length == 0)
        {
            throw ImplicitRegException.BadInput($"{where}: features '{tensor.Name}' are a scalar, not one row per example");
        }
        long[] dims = tensor.Dims.Length == 1 ? [tensor.Dims[0], 1] : tensor.Dims;
        var values = ToFloats(tensor, where, "features");
        return new Tensor(ElementType.Float, dims, MemoryMarshal.AsBytes(values.AsSpan()).ToArray(), "features");
    }

    /// <summary>Labels: int64 for integer (and bool) dtypes, float32 for floating point, unless <paramref name="kind"/> says otherwise.</summary>
    public static Tensor ToLabels(Tensor tensor, LabelKind kind, string where)
    {
        if (tensor.Dims.Length == 0)
        {
            throw ImplicitRegException.BadInput($"{where}: labels '{tensor.Name}' are a scalar, not one per example");
        }
        var integral = tensor.ElementType.IsInteger() || tensor.ElementType == ElementType.Bool;
        if (!integral && !tensor.ElementType.IsFloatingPoint())
        {
            throw ImplicitRegException.BadInput($"{where}: labels '{tensor.Name}' have the non-numeric type {tensor.ElementType.Name()}");
        }
        var asClass = kind == LabelKind.Class || (kind == LabelKind.Auto && integral);
        if (!asClass)
        {
            var floats = ToFloats(tensor, where, "labels");
            return new Tensor(ElementType.Float, tensor.Dims, MemoryMarshal.AsBytes(floats.AsSpan()).ToArray(), "labels");
        }
        long[] classes;
        if (tensor.ElementType == ElementType.Int64)
        {
            classes = tensor.ToArray<long>();
        }
        else if (integral && tensor.ElementType != ElementType.UInt64)
        {
            classes = tensor.ToInt64s();
        }
        else
        {
            var values = tensor.ToDoubles();
            classes = new long[values.Length];
            for (var i = 0; i < values.Length; i++)
            {
                var v = values[i];
                if (v != Math.Floor(v) || Math.Abs(v) > (1L << 53))
                {
                    throw ImplicitRegException.BadInput($"{where}: label {i} is {v}, not an integer class label");
                }
                classes[i] = (long)v;
            }
        }
        return Tensor.FromArray(classes, tensor.Dims, "labels");
    }

    public static float[] ToFloats(Tensor tensor, string where, string role)
    {
        var bytes = tensor.RawBytes;
        switch (tensor.ElementType)
        {
            case ElementType.Float:
                return MemoryMarshal.Cast<byte, float>(bytes).ToArray();
            case ElementType.UInt8:
            case ElementType.Bool:
            {
                var result = new float[bytes.Length];
                for (var i = 0; i < result.Length; i++)
                {
                    result[i] = bytes[i];
                }
                return result;
            }
            case ElementType.Double:
                return Convert(MemoryMarshal.Cast<byte, double>(bytes), static v => (float)v);
            case ElementType.Float16:
                return Convert(MemoryMarshal.Cast<byte, Half>(bytes), static v => (float)v);
            case ElementType.Int8:
                return Convert(MemoryMarshal.Cast<byte, sbyte>(bytes), static v => v);
            case ElementType.Int16:
                return Convert(MemoryMarshal.Cast<byte, short>(bytes), static v => v);
            case ElementType.UInt16:
                return Convert(MemoryMarshal.Cast<byte, ushort>(bytes), static v => v);
            case ElementType.Int32:
                return Convert(MemoryMarshal.Cast<byte, int>(bytes), static v => v);
            case ElementType.UInt32:
                return Convert(MemoryMarshal.Cast<byte, uint>(bytes), static v => v);
            case ElementType.Int64:
                return Convert(MemoryMarshal.Cast<byte, long>(bytes), static v => v);
            case ElementType.UInt64:
                return Convert(MemoryMarshal.Cast<byte, ulong>(bytes), static v => v);
            default:
                if (tensor.ElementType == ElementType.String)
                {
                    throw ImplicitRegException.BadInput($"{where}: {role} '{tensor.Name}' are strings, not numbers");
                }
                return Array.ConvertAll(tensor.ToDoubles(), static v => (float)v);
        }
    }

    private static float[] Convert<T>(ReadOnlySpan<T> source, Func<T, float> convert)
    {
        var result = new float[source.Length];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = convert(source[i]);
        }
        return result;
    }
}
