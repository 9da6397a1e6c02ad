using System.Text;
using ImplicitRegOnnx.Onnx;
using static ImplicitRegOnnx.Autodiff.Rules.ShapeHelpers;

namespace ImplicitRegOnnx.Autodiff.Rules;

/// <summary>
/// The gradient of Einsum (ONNX operator spec, Einsum: explicit "…->out" or implicit mode, where the
/// output is the labels that occur once, sorted, after the ellipsis dims). The result is multilinear,
/// so operand k's gradient is the Einsum of the other operands and the output gradient with operand k's
/// subscripts as the output. Two cases need more: a label repeated inside operand k (a diagonal, as
/// in "ii->i") is renamed and tied to the original by an identity matrix operand; a label that only
/// operand k has (summed away, as j in "ij->i") is absent from the result, which is then unsqueezed and
/// expanded along it.
/// </summary>
internal static class EinsumGradient
{
    public static void Apply(GradientContext c)
    {
        var count = c.Node.Inputs.Count;
        var (inputs, output) = Parse(c);
        for (var k = 0; k < count; k++)
        {
            if (!c.Needs(k))
            {
                continue;
            }
            var operands = new List<Value>();
            var subscripts = new List<string>();
            for (var i = 0; i < count; i++)
            {
                if (i != k)
                {
                    operands.Add(c.X(i));
                    subscripts.Add(inputs[i]);
                }
            }
            operands.Add(c.Dy);
            subscripts.Add(output);

            var x = c.X(k);
            var own = inputs[k];
            var used = new HashSet<char>(inputs.SelectMany(s => s).Concat(output));
            var target = new char[own.Length];
            var seen = new HashSet<char>();
            for (var p = 0; p < own.Length; p++)
            {
                if (seen.Add(own[p]))
                {
                    target[p] = own[p];
                    continue;
                }
                // A repeated label: a fresh label here, tied to the first one by eye(n).
                var fresh = FreshLabel(used);
                target[p] = fresh;
                operands.Add(Eye(c, x, p));
                subscripts.Add($"{own[p]}{fresh}");
            }
            var available = new HashSet<char>(subscripts.SelectMany(s => s));
            var kept = Enumerable.Range(0, own.Length).Where(p => available.Contains(target[p])).ToArray();
            var equation = $"{string.Join(',', subscripts)}->{new string([.. kept.Select(p => target[p])])}";
            var gradient = c.B.Op("Einsum", operands, Attribute.String("equation", equation));
            if (kept.Length == own.Length)
            {
                c.SetGradUnbroadcast(k, gradient);
                continue;
            }
            var missing = Enumerable.Range(0, own.Length).Except(kept).Select(p => (long)p).ToArray();
            c.SetGrad(k, c.B.Expand(c.B.Unsqueeze(gradient, missing), ShapeOf(c, x)));
        }
    }

    /// <summary>An n×n identity typed like the gradient, n = dim <paramref name="axis"/> of <paramref name="x"/>.</summary>
    private static Value Eye(GradientContext c, Value x, int axis)
    {
        var n = Dims(c, x, axis, axis + 1);
        var square = c.B.Op("ConstantOfShape", [ConcatShapes(c, n, n)]);
        return x.ElementType == ElementType.Undefined
            ? c.CastLike(c.B.Op("EyeLike", [square]), x)
            : c.B.Op("EyeLike", [square], Attribute.Int("dtype", (long)x.ElementType));
    }

    private static char FreshLabel(HashSet<char> used)
    {
        foreach (var ch in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
        {
            if (used.Add(ch))
            {
                return ch;
            }
        }
        throw ImplicitRegException.Unsupported("Einsum: no free subscript label left for the gradient");
    }

    /// <summary>Input and output subscripts with the ellipsis replaced by explicit labels (ranks must be known).</summary>
    private static (string[] Inputs, string Output) Parse(GradientContext c)
    {
        var equation = c.String("equation", "").Replace(" ", "", StringComparison.Ordinal);
        var arrow = equation.IndexOf("->", StringComparison.Ordinal);
        var left = arrow >= 0 ? equation[..arrow] : equation;
        var inputs = left.Split(',');
        if (inputs.Length != c.Node.Inputs.Count)
        {
            throw ImplicitRegException.BadInput($"{c.Describe()}: the equation '{equation}' names {inputs.Length} operands, the node has {c.Node.Inputs.Count}");
        }
        var used = new HashSet<char>(equation.Where(char.IsLetter));
        var ellipsis = "";
        if (equation.Contains("...", StringComparison.Ordinal))
        {
            var lengths = inputs.Select((s, i) => s.Contains("...", StringComparison.Ordinal)
                ? c.Rank(c.X(i)) - s.Replace("...", "", StringComparison.Ordinal).Length
                : 0).ToArray();
            var longest = lengths.Max();
            var builder = new StringBuilder();
            for (var i = 0; i < longest; i++)
            {
                builder.Append(FreshLabel(used));
            }
            ellipsis = builder.ToString();
            for (var i = 0; i < inputs.Length; i++)
            {
                inputs[i] = inputs[i].Replace("...", ellipsis[(longest - lengths[i])..], StringComparison.Ordinal);
            }
        }
        string output;
        if (arrow >= 0)
        {
            output = equation[(arrow + 2)..].Replace("...", ellipsis, StringComparison.Ordinal);
        }
        else
        {
            var counts = inputs.SelectMany(s => s).GroupBy(ch => ch).Where(g => g.Count() == 1 && !ellipsis.Contains(g.Key, StringComparison.Ordinal)).Select(g => g.Key);
            output = ellipsis + new string([.. counts.Order()]);
        }
        return (inputs, output);
    }
}

/// <summary>
/// The gradient of Resize (ONNX operator spec, Resize 10-19) for nearest, linear and cubic modes
/// without antialiasing. Each of these is separable: along every resized axis the output is a fixed
/// matrix M [out, in] applied to the input, with the coordinate transform, rounding and edge clamping
/// the spec (and ONNX Runtime, in float32) use. With static shapes and constant scales or sizes the
/// matrices are built here as constants and the gradient applies their transposes (MatMul for the two
/// innermost axes, Einsum otherwise); both are linear, so the gradient is differentiable again.
/// </summary>
internal static class ResizeGradient
{
    public static void Apply(GradientContext c)
    {
        var x = c.X(0);
        var rank = c.Rank(x);
        var mode = c.String("mode", "nearest");
        var transform = c.Opset >= 11 ? c.String("coordinate_transformation_mode", "half_pixel") : "asymmetric";
        var nearest = c.Opset >= 11 ? c.String("nearest_mode", "round_prefer_floor") : "simple";
        if (mode is not ("nearest" or "linear" or "cubic"))
        {
            throw ImplicitRegException.Unsupported($"{c.Describe()}: no gradient for mode '{mode}'");
        }
        if (transform == "tf_crop_and_resize" || c.Int("antialias", 0) != 0)
        {
            throw ImplicitRegException.Unsupported($"{c.Describe()}: no gradient for coordinate_transformation_mode='tf_crop_and_resize' or antialias=1");
        }
        if (ScalesAndSizes(c, x, rank) is not { } parameters || !StaticAxes(x, parameters.Scales, parameters.OutDims, transform))
        {
            RunTimeResizeGradient.Apply(c, x, rank);
            return;
        }
        var (scales, outDims) = parameters;
        var matrices = new Dictionary<int, double[,]>();
        for (var axis = 0; axis < rank; axis++)
        {
            if (x.Shape![axis].Value is not { } inDim)
            {
                continue; // an unresized axis of unknown size (a batch axis) maps identically (StaticAxes)
            }
            var outDim = outDims[axis] ?? (long)(scales[axis] * inDim);
            var matrix = Matrix(c, mode, transform, nearest, scales[axis], inDim, outDim);
            if (!IsIdentity(matrix))
            {
                matrices[axis] = matrix;
            }
        }
        if (BlockSumAdjoint(c, x, rank, matrices) is { } blockSum)
        {
            c.SetGrad(0, blockSum);
            return;
        }
        var gradient = c.Dy;
        if (matrices.Keys.All(a => a >= rank - 2))
        {
            if (matrices.TryGetValue(rank - 2, out var rows))
            {
                gradient = c.B.MatMul(MatrixConstant(c, rows, transpose: true), gradient); // Mᵀ[in, out] · dy[..., out, w]
            }
            if (matrices.TryGetValue(rank - 1, out var columns))
            {
                gradient = c.B.MatMul(gradient, MatrixConstant(c, columns, transpose: false)); // dy[..., out] · M[out, in]
            }
        }
        else
        {
            const string Labels = "abcdefghijklm";
            const string Inner = "nopqrstuvwxyz";
            var operands = new List<Value> { gradient };
            var subscripts = new List<string> { Labels[..rank] };
            var result = Labels[..rank].ToCharArray();
            foreach (var (axis, matrix) in matrices.OrderBy(p => p.Key))
            {
                operands.Add(MatrixConstant(c, matrix, transpose: false));
                subscripts.Add($"{Labels[axis]}{Inner[axis]}");
                result[axis] = Inner[axis];
            }
            gradient = c.B.Op("Einsum", operands, Attribute.String("equation", $"{string.Join(',', subscripts)}->{new string(result)}"));
        }
        c.SetGrad(0, gradient);
    }

    /// <summary>
    /// The adjoint of a Resize that repeats each element over a block (every resized axis is spatial and its
    /// matrix is M[o, i] = 1 exactly when i = floor(o / s) for an integer s, as nearest with asymmetric
    /// coordinates and floor rounding gives): the sum over each block, AveragePool with kernel and strides
    /// s times the block size. ONNX Runtime runs that pool far faster than the MatMuls with M, whose small
    /// matrix broadcast over [N, C, ...] becomes one tiny GEMM per plane. AveragePool and Mul have rules.
    /// Float only (ONNX Runtime's CPU AveragePool); null for any other Resize.
    /// </summary>
    private static Value? BlockSumAdjoint(GradientContext c, Value x, int rank, Dictionary<int, double[,]> matrices)
    {
        if (x.ElementType != ElementType.Float || rank < 3 || matrices.Count == 0 || matrices.Keys.Any(a => a < 2))
        {
            return null;
        }
        var kernel = Enumerable.Repeat(1L, rank - 2).ToArray();
        foreach (var (axis, matrix) in matrices)
        {
            long outDim = matrix.GetLength(0), inDim = matrix.GetLength(1);
            if (inDim == 0 || outDim % inDim != 0)
            {
                return null;
            }
            var block = outDim / inDim;
            for (var o = 0; o < outDim; o++)
            {
                for (var i = 0; i < inDim; i++)
                {
                    if (matrix[o, i] != (o / block == i ? 1.0 : 0.0))
                    {
                        return null;
                    }
                }
            }
            kernel[axis - 2] = block;
        }
        var pooled = c.B.Op("AveragePool", [c.Dy], Attribute.Ints("kernel_shape", kernel), Attribute.Ints("strides", kernel));
        return c.B.Mul(pooled, c.Scalar(kernel.Aggregate(1L, (a, b) => a * b), c.Dy));
    }

    /// <summary>
    /// Whether every axis the static matrices need has a static input size: only an unresized axis
    /// (scale 1, no size given) of unknown size maps identically without one.
    /// </summary>
    private static bool StaticAxes(Value x, float[] scales, long?[] outDims, string transform) =>
        x.Shape is { } shape && Enumerable.Range(0, shape.Rank).All(axis =>
            shape[axis].IsKnown || (scales[axis] == 1f && outDims[axis] is null && transform != "tf_half_pixel_for_nn"));

    /// <summary>
    /// Per-axis scales and (when given by sizes or inferred) output sizes; the spec's axes attribute (opset 18)
    /// picks the axes. Null when scales or sizes are computed at run time, or sizes meet run-time input sizes.
    /// </summary>
    private static (float[] Scales, long?[] OutDims)? ScalesAndSizes(GradientContext c, Value x, int rank)
    {
        if (c.String("keep_aspect_ratio_policy", "stretch") != "stretch")
        {
            throw ImplicitRegException.Unsupported($"{c.Describe()}: no gradient for keep_aspect_ratio_policy other than 'stretch'");
        }
        var axes = c.Ints("axes")?.Select(a => NormalizeAxis(c, a, rank)).ToArray() ?? [.. Enumerable.Range(0, rank)];
        var scales = Enumerable.Repeat(1f, rank).ToArray();
        var outDims = new long?[rank];
        var inferred = c.Y().Shape;
        var sizesInput = c.Opset >= 11 ? 3 : -1;
        if (sizesInput > 0 && c.HasInput(sizesInput))
        {
            if (c.ConstantInts(sizesInput) is not { } sizes)
            {
                return null;
            }
            for (var k = 0; k < axes.Length; k++)
            {
                if (x.Shape![axes[k]].Value is not { } inDim)
                {
                    return null;
                }
                outDims[axes[k]] = sizes[k];
                scales[axes[k]] = (float)sizes[k] / inDim; // ONNX Runtime derives the scale as float(out) / in
            }
            return (scales, outDims);
        }
        var scalesInput = c.Opset >= 11 ? 2 : 1;
        if (Onnx.Inference.ConstantValue.TryGet(c.Node.Input(scalesInput))?.ToDoubles() is not { } given)
        {
            return null;
        }
        for (var k = 0; k < axes.Length; k++)
        {
            scales[axes[k]] = (float)given[k];
            if (inferred is { } s && s.Rank == rank && s[axes[k]].Value is { } known)
            {
                outDims[axes[k]] = known;
            }
        }
        return (scales, outDims);
    }

    /// <summary>M [out, in]: row o holds the weights with which output o mixes the input along one axis.</summary>
    private static double[,] Matrix(GradientContext c, string mode, string transform, string nearest, float scale, long inDim, long outDim)
    {
        var m = new double[outDim, inDim];
        var cubicA = c.Float("cubic_coeff_a", -0.75f);
        var excludeOutside = c.Int("exclude_outside", 0) != 0;
        for (var o = 0L; o < outDim; o++)
        {
            var position = Original(c, transform, o, scale, inDim, outDim);
            switch (mode)
            {
                case "nearest":
                    m[o, Math.Clamp(Round(c, nearest, position, scale < 1), 0, inDim - 1)] += 1;
                    break;
                case "linear":
                    {
                        var clamped = Math.Clamp(position, 0f, inDim - 1);
                        var i1 = Math.Min((long)clamped, inDim - 1);
                        var i2 = Math.Min(i1 + 1, inDim - 1);
                        var d1 = Math.Abs(clamped - i1);
                        var d2 = Math.Abs(clamped - i2);
                        if (i1 == i2)
                        {
                            (d1, d2) = (0.5f, 0.5f);
                        }
                        m[o, i1] += d2;
                        m[o, i2] += d1;
                        break;
                    }
                default:
                    {
                        var floor = MathF.Floor(position);
                        var s = position - floor;
                        var a = cubicA;
                        float[] w =
                        [
                            ((a * (s + 1) - 5 * a) * (s + 1) + 8 * a) * (s + 1) - 4 * a,
                            ((a + 2) * s - (a + 3)) * s * s + 1,
                            ((a + 2) * (1 - s) - (a + 3)) * (1 - s) * (1 - s) + 1,
                            ((a * (2 - s) - 5 * a) * (2 - s) + 8 * a) * (2 - s) - 4 * a,
                        ];
                        var total = 0.0;
                        for (var k = 0; k < 4; k++)
                        {
                            var index = (long)floor - 1 + k;
                            if (excludeOutside && (index < 0 || index >= inDim))
                            {
                                w[k] = 0;
                            }
                            total += w[k];
                        }
                        for (var k = 0; k < 4; k++)
                        {
                            var index = Math.Clamp((long)floor - 1 + k, 0, inDim - 1);
                            m[o, index] += excludeOutside ? w[k] / total : w[k];
                        }
                        break;
                    }
            }
        }
        return m;
    }

    /// <summary>The input coordinate of output index o (ONNX operator spec, coordinate_transformation_mode), in float32 as ONNX Runtime computes it.</summary>
    private static float Original(GradientContext c, string transform, long o, float scale, long inDim, long outDim)
    {
        float x = o;
        return transform switch
        {
            "half_pixel" => ((x + 0.5f) / scale) - 0.5f,
            "half_pixel_symmetric" => HalfPixelSymmetric(x, scale, inDim, outDim),
            "pytorch_half_pixel" => outDim > 1 ? ((x + 0.5f) / scale) - 0.5f : 0f,
            "align_corners" => outDim == 1 ? 0f : x * (inDim - 1) / (outDim - 1),
            "asymmetric" => x / scale,
            "tf_half_pixel_for_nn" => (x + 0.5f) / scale,
            _ => throw ImplicitRegException.BadInput($"{c.Describe()}: unknown coordinate_transformation_mode '{transform}'"),
        };
    }

    private static float HalfPixelSymmetric(float x, float scale, long inDim, long outDim)
    {
        var adjustment = outDim / (scale * inDim);
        var center = inDim / 2f;
        var offset = center * (1 - adjustment);
        return offset + ((x + 0.5f) / scale) - 0.5f;
    }

    /// <summary>The nearest input index (ONNX operator spec, nearest_mode; "simple" is Resize-10's floor, ceil when downsampling).</summary>
    private static long Round(GradientContext c, string nearest, float x, bool downsampling)
    {
        var tie = x == (long)x + 0.5f;
        return nearest switch
        {
            "round_prefer_floor" => tie ? (long)MathF.Floor(x) : (long)MathF.Round(x, MidpointRounding.AwayFromZero),
            "round_prefer_ceil" => tie ? (long)MathF.Ceiling(x) : (long)MathF.Round(x, MidpointRounding.AwayFromZero),
            "floor" => (long)MathF.Floor(x),
            "ceil" => (long)MathF.Ceiling(x),
            "simple" => downsampling ? (long)MathF.Ceiling(x) : (long)x,
            _ => throw ImplicitRegException.BadInput($"{c.Describe()}: unknown nearest_mode '{nearest}'"),
        };
    }

    private static bool IsIdentity(double[,] m)
    {
        if (m.GetLength(0) != m.GetLength(1))
        {
            return false;
        }
        for (var i = 0; i < m.GetLength(0); i++)
        {
            for (var j = 0; j < m.GetLength(1); j++)
            {
                if (m[i, j] != (i == j ? 1 : 0))
                {
                    return false;
                }
            }
        }
        return true;
    }

    /// <summary>M (or Mᵀ) as a constant typed like the gradient.</summary>
    private static Value MatrixConstant(GradientContext c, double[,] m, bool transpose)
    {
        var (rows, columns) = transpose ? (m.GetLength(1), m.GetLength(0)) : (m.GetLength(0), m.GetLength(1));
        var values = new double[rows * columns];
        for (var i = 0; i < rows; i++)
        {
            for (var j = 0; j < columns; j++)
            {
                values[(i * columns) + j] = transpose ? m[j, i] : m[i, j];
            }
        }
        return c.B.ConstantLike(values, [rows, columns], c.Dy);
    }
}
