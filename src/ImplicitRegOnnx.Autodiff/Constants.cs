using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Onnx.Building;

namespace ImplicitRegOnnx.Autodiff;

/// <summary>Constants typed like the values they combine with (float, double, float16, bfloat16).</summary>
internal static class Constants
{
    public static Value Scalar(GraphBuilder b, double value, Value like)
    {
        var type = like.ElementType;
        return type switch
        {
            ElementType.Float => b.Constant(Tensor.Scalar((float)value)),
            ElementType.Double => b.Constant(Tensor.Scalar(value)),
            ElementType.Float16 => b.Constant(Tensor.Scalar((Half)value)),
            ElementType.Int64 => b.Constant(Tensor.Scalar((long)value)),
            ElementType.Int32 => b.Constant(Tensor.Scalar((int)value)),
            // Unknown or other types: a float constant cast to the type of `like`.
            _ => CastLike(b, b.Constant(Tensor.Scalar((float)value)), like),
        };
    }

    /// <summary>CastLike from opset 15; before that a Cast to the statically known element type of <paramref name="like"/>.</summary>
    public static Value CastLike(GraphBuilder b, Value value, Value like)
    {
        if (value.ElementType != ElementType.Undefined && value.ElementType == like.ElementType)
        {
            return value;
        }
        if (b.Opset >= 15)
        {
            return b.Op("CastLike", [value, like]);
        }
        if (like.ElementType == ElementType.Undefined)
        {
            throw ImplicitRegException.Unsupported($"the element type of '{like.Name}' is unknown and opset {b.Opset} has no CastLike; run shape inference or use opset 15 or newer");
        }
        return b.Cast(value, like.ElementType);
    }

    /// <summary>A tensor of the shape and type of <paramref name="like"/> filled with one value.</summary>
    public static Value Fill(GraphBuilder b, double value, Value like) =>
        b.Expand(Scalar(b, value, like), b.Shape(like));
}
