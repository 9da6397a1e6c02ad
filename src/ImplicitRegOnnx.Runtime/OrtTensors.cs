using ImplicitRegOnnx.Onnx;
using Microsoft.ML.OnnxRuntime;
using Tensor = ImplicitRegOnnx.Onnx.Tensor;
using TensorElementType = Microsoft.ML.OnnxRuntime.Tensors.TensorElementType;

namespace ImplicitRegOnnx.Runtime;

/// <summary>
/// The one conversion between the IR's <see cref="Tensor"/> and ONNX Runtime's <see cref="OrtValue"/>
/// in host memory. Numeric payloads are copied as bytes: ONNX Runtime's <see cref="TensorElementType"/>
/// uses the numbers of TensorProto.DataType and both keep elements little-endian in row-major order.
/// Strings are copied as byte strings, so payloads that are not UTF-8 survive.
/// </summary>
internal static class OrtTensors
{
    /// <summary>
    /// Element types exchanged with ONNX Runtime: string and the types that hold numbers
    /// (<see cref="ElementTypes.HoldsNumbers"/>: float, double, float16, bfloat16, 8- to 64-bit integers, bool).
    /// Not complex numbers, the packed 4- and 2-bit types, nor float8, whose types the ONNX Runtime
    /// packages this toolkit uses do not register ("Element type: 19 is not registered type").
    /// </summary>
    public static bool Supports(ElementType type) => type == ElementType.String || type.HoldsNumbers();

    /// <summary>A new host OrtValue holding a copy of <paramref name="tensor"/>; the caller disposes it.</summary>
    /// <exception cref="NotSupportedException">The element type is not one <see cref="Supports"/> accepts.</exception>
    public static OrtValue ToOrtValue(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (!Supports(tensor.ElementType))
        {
            throw new NotSupportedException($"tensor '{tensor.Name}' has element type {tensor.ElementType.Name()}, which is not exchanged with ONNX Runtime");
        }
        if (tensor.ElementType == ElementType.String)
        {
            var strings = OrtValue.CreateTensorWithEmptyStrings(OrtAllocator.DefaultInstance, tensor.Dims);
            for (var i = 0; i < tensor.Strings.Count; i++)
            {
                strings.StringTensorSetElementAt(tensor.Strings[i].AsSpan(), i);
            }
            return strings;
        }
        var value = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, (TensorElementType)(int)tensor.ElementType, tensor.Dims);
        CopyInto(tensor, value);
        return value;
    }

    /// <summary>Overwrites the payload of a host OrtValue of the same element type and element count.</summary>
    public static void CopyInto(Tensor tensor, OrtValue value)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        ArgumentNullException.ThrowIfNull(value);
        if (tensor.RawBytes.Length > 0)
        {
            tensor.RawBytes.CopyTo(value.GetTensorMutableRawData());
        }
    }

    /// <summary>A copy of a host tensor OrtValue as a <see cref="Tensor"/> named <paramref name="name"/>.</summary>
    /// <exception cref="NotSupportedException">The value is not a tensor, or its element type is not one <see cref="Supports"/> accepts.</exception>
    public static Tensor ToTensor(OrtValue value, string name)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (!value.IsTensor)
        {
            throw new NotSupportedException($"'{name}' is an ONNX Runtime {value.OnnxType}, not a tensor");
        }
        var info = value.GetTensorTypeAndShape();
        var type = (ElementType)(int)info.ElementDataType;
        if (!Supports(type))
        {
            throw new NotSupportedException($"'{name}' has element type {type.Name()}, which is not exchanged with ONNX Runtime");
        }
        var dims = info.Shape;
        if (type == ElementType.String)
        {
            var strings = new byte[info.ElementCount][];
            for (var i = 0; i < strings.Length; i++)
            {
                strings[i] = value.GetStringElementAsSpan(i).ToArray();
            }
            return Tensor.FromStrings(dims, strings, name);
        }
        var bytes = info.ElementCount == 0 ? [] : value.GetTensorMutableRawData().ToArray();
        return new Tensor(type, dims, bytes, name);
    }
}
