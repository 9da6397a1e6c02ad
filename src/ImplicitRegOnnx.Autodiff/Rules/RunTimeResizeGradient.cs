using ImplicitRegOnnx.Onnx;
using static ImplicitRegOnnx.Autodiff.Rules.ShapeHelpers;

namespace ImplicitRegOnnx.Autodiff.Rules;

/// <summary>
/// The gradient of Resize when its sizes or scales, or the input sizes, are known only at run time. Resize
/// (nearest, linear, cubic, no antialiasing) is separable, and along one axis it is a matrix M [out, in]
/// (see <see cref="ResizeGradient"/>). Instead of building M here, the same Resize (same attributes, so the
/// same coordinate transform, rounding and clamping as ONNX Runtime) is applied at run time to an
/// in × in identity along that axis only: resizing axis 1 gives Mᵀ [in, out], resizing axis 0 gives M
/// [out, in]. The identity comes from shapes alone (ConstantOfShape, EyeLike), so the matrices are
/// constants of the backward graph, and the gradient is MatMul/Einsum with them: linear in dY, so it can
/// be differentiated again.
/// </summary>
internal static class RunTimeResizeGradient
{
    private const string Labels = "abcdefghijklm";
    private const string Inner = "nopqrstuvwxyz";
    private static readonly float[] UnitScale = [1f];

    public static void Apply(GradientContext c, Value x, int rank)
    {
        RequireOpset(c, 13, "Resize with optional roi and scales inputs (for sizes or scales computed at run time)");
        var y = c.Y();
        var sizesGiven = c.HasInput(3);
        if (!sizesGiven && !c.HasInput(2))
        {
            throw ImplicitRegException.BadInput($"{c.Describe()}: Resize has neither scales nor sizes");
        }
        if (c.String("coordinate_transformation_mode", "half_pixel") == "tf_half_pixel_for_nn")
        {
            // It shifts even unscaled axes, so resizing an identity along one axis would shift the other too.
            throw ImplicitRegException.Unsupported($"{c.Describe()}: the gradient of tf_half_pixel_for_nn needs constant scales or sizes and static input sizes; {GradientContext.StaticSizesHint}");
        }
        var axes = c.Ints("axes")?.Select(a => (long)NormalizeAxis(c, a, rank)).ToArray() ?? [.. Enumerable.Range(0, rank).Select(a => (long)a)];
        var attributes = c.Node.Attributes.Where(a => a.Name != "axes").ToArray();
        var resized = new List<(int Axis, int Index)>();
        for (var k = 0; k < axes.Length; k++)
        {
            var axis = (int)axes[k];
            // With sizes, an axis whose output size is the input size has scale 1, which every coordinate
            // transform left here maps identically.
            var same = x.Shape is { } xs && y.Shape is { } ys && ys.Rank == rank && xs[axis].SameAs(ys[axis]);
            if (!(sizesGiven && same))
            {
                resized.Add((axis, k));
            }
        }
        var gradient = c.Dy;
        if (resized.TrueForAll(r => r.Axis >= rank - 2))
        {
            foreach (var (axis, index) in resized)
            {
                gradient = axis == rank - 2
                    ? c.B.MatMul(AxisMatrix(c, x, axis, index, sizesGiven, attributes, alongRows: false), gradient) // Mᵀ[in, out] · dy[..., out, w]
                    : c.B.MatMul(gradient, AxisMatrix(c, x, axis, index, sizesGiven, attributes, alongRows: true)); // dy[..., out] · M[out, in]
            }
        }
        else if (resized.Count > 0)
        {
            var operands = new List<Value> { gradient };
            var subscripts = new List<string> { Labels[..rank] };
            var result = Labels[..rank].ToCharArray();
            foreach (var (axis, index) in resized)
            {
                operands.Add(AxisMatrix(c, x, axis, index, sizesGiven, attributes, alongRows: true));
                subscripts.Add($"{Labels[axis]}{Inner[axis]}");
                result[axis] = Inner[axis];
            }
            gradient = c.B.Op("Einsum", operands, Attribute.String("equation", $"{string.Join(',', subscripts)}->{new string(result)}"));
        }
        c.SetGrad(0, gradient);
    }

    /// <summary>
    /// M [out, in] of one axis (<paramref name="alongRows"/>: the identity resized along axis 0) or Mᵀ
    /// [in, out] (along axis 1), typed like dY. ONNX Runtime computes coordinates in float32 whatever the
    /// data type, so the identity is float32.
    /// </summary>
    private static Value AxisMatrix(GradientContext c, Value x, int axis, int index, bool sizesGiven, Attribute[] attributes, bool alongRows)
    {
        var inSize = Dims(c, x, axis, axis + 1);
        var identity = c.B.Op("EyeLike", [c.B.Op("ConstantOfShape", [ConcatShapes(c, inSize, inSize)])]);
        Value matrix;
        if (sizesGiven)
        {
            // Y has dY's sizes; its Shape is the forward one, which ONNX Runtime's own shape inference follows best.
            var outSize = Dims(c, c.Y(), axis, axis + 1);
            var sizes = alongRows ? ConcatShapes(c, outSize, inSize) : ConcatShapes(c, inSize, outSize);
            matrix = c.B.Op("Resize", [identity, null, null, sizes], attributes);
        }
        else
        {
            var scale = c.B.Op("Slice", [c.X(2), c.B.Ints(index), c.B.Ints(index + 1)]);
            var one = c.CastLike(c.B.Constant(Tensor.FromArray(UnitScale, [1])), c.X(2));
            var scales = c.B.Op("Concat", alongRows ? [scale, one] : [one, scale], Attribute.Int("axis", 0));
            matrix = c.B.Op("Resize", [identity, null, scales], attributes);
        }
        return c.CastLike(matrix, c.Dy);
    }
}
