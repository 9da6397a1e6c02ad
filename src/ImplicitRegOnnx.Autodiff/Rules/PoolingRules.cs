using ImplicitRegOnnx.Onnx;
using static ImplicitRegOnnx.Autodiff.Rules.ConvolutionHelpers;

namespace ImplicitRegOnnx.Autodiff.Rules;

/// <summary>
/// Pools (ONNX operator spec: MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool). MaxPool sends
/// each output gradient to the input element its Indices output names; AveragePool is linear and its
/// adjoint is a depthwise ConvTranspose with a ones kernel; the global pools spread over the spatial axes.
/// </summary>
internal static class PoolingRules
{
    public static void Register(RuleRegistry r)
    {
        r.Add("MaxPool", MaxPool);
        r.Add("AveragePool", AveragePool);
        r.Add("GlobalAveragePool", GlobalAveragePool);
        r.Add("GlobalMaxPool", GlobalMaxPool);
        r.Add("LpPool", LpPool);
    }

    /// <summary>
    /// MaxPool's Indices output holds, for each output, the position of the selected input element in
    /// the flattened [N·C·d1·...] input (padding not counted; storage_order 0 = row major). A second
    /// MaxPool with the same window yields them, and ScatterElements with reduction=add (opset 16)
    /// accumulates dY there (overlapping windows may pick the same element). Windows that tile the
    /// input take a faster form with the same result (<see cref="TilingMaxPoolGradient"/>).
    /// </summary>
    private static void MaxPool(GradientContext c)
    {
        if (c.Opset < 16)
        {
            throw ImplicitRegException.Unsupported($"{c.Describe()}: the MaxPool gradient needs opset 16 or newer (ScatterElements with reduction)");
        }
        var (x, dy) = (c.X(0), c.Dy);
        if (TilingMaxPoolGradient(c, x, dy) is { } tiled)
        {
            c.SetGrad(0, tiled);
            return;
        }
        var attributes = c.Node.Attributes.Where(a => a.Name != "storage_order").ToArray();
        var indices = c.B.Op("MaxPool", 2, [x], attributes)[1];
        // ONNX Runtime's CPU ScatterElements has no float16 kernel with reduction=add: sum in float32.
        var halfPrecision = dy.ElementType == ElementType.Float16;
        var flatGrad = c.B.Reshape(halfPrecision ? c.B.Cast(dy, ElementType.Float) : dy, -1);
        var zeros = c.ZerosLike(c.B.Reshape(x, -1));
        var scattered = c.B.Op("ScatterElements",
            [halfPrecision ? c.B.Cast(zeros, ElementType.Float) : zeros, c.B.Reshape(indices, -1), flatGrad],
            Attribute.Int("axis", 0), Attribute.String("reduction", "add"));
        var gradient = c.B.Reshape(scattered, c.B.Shape(x));
        c.SetGrad(0, halfPrecision ? c.B.Cast(gradient, ElementType.Float16) : gradient);
    }

    /// <summary>
    /// The MaxPool gradient where the windows tile the input (strides = kernel, no pads, dilations 1,
    /// spatial sizes divisible by the kernel), without MaxPool's Indices output (ONNX Runtime's CPU
    /// kernel for it is about 10× slower than the plain one) and without a scatter. Each window is a
    /// block of the input, so Up(v), v repeated over each block, lines a pooled value up with its
    /// window's elements: M = (X == Up(Y)) marks the maxima. The spec'd gradient goes to one element
    /// per window, the one Indices names: the first maximum in row-major order (as PyTorch's). To pick
    /// it, S = M·(K − t), with t the element's offset in its window (row major, K elements), is
    /// largest at the first maximum and 0 off the maxima, so F = (S == Up(MaxPool(S))) marks exactly
    /// the first maximum of each window, and dX = Where(F, Up(dY), 0). Null where the windows do not tile.
    /// Up is Resize (nearest, asymmetric, floor) with scales 1, 1, k1, k2, ...: x_in = floor(x_out / k),
    /// exactly the block (ONNX operator spec, Resize); ONNX Runtime runs it about 100× faster than the
    /// same repetition as an Expand of [N, C, o1, 1, o2, 1, ...]. Resize and Where have rules (Equal and
    /// MaxPool only feed the mask), so the exact penalty differentiates it again. Float only (ONNX
    /// Runtime's CPU Resize has no double or float16 kernel); other types keep the Indices form.
    /// </summary>
    private static Value? TilingMaxPoolGradient(GradientContext c, Value x, Value dy)
    {
        // ONNX Runtime's CPU Resize has float kernels but none for double or float16.
        if (x.ElementType != ElementType.Float || Spatial(x) is not { } input || Spatial(dy) is not { } output)
        {
            return null;
        }
        var n = input.Length;
        var kernel = Window.Attr(c, "kernel_shape", n, 1);
        var window = Window.Read(c, kernel, input);
        for (var i = 0; i < n; i++)
        {
            if (window.Strides[i] != kernel[i] || window.Dilations[i] != 1 || window.Begin[i] != 0 || window.End[i] != 0
                || input[i] % kernel[i] != 0 || output[i] != input[i] / kernel[i])
            {
                return null;
            }
        }
        var windowSize = kernel.Aggregate(1L, (a, b) => a * b);
        var spatialSize = input.Aggregate(1L, (a, b) => a * b);
        var rank = new double[spatialSize];
        for (var flat = 0L; flat < spatialSize; flat++)
        {
            // The offset of this element in its window, row major over the spatial axes.
            long rest = flat, offset = 0, scale = 1;
            for (var i = n - 1; i >= 0; i--)
            {
                offset += rest % input[i] % kernel[i] * scale;
                scale *= kernel[i];
                rest /= input[i];
            }
            rank[flat] = windowSize - offset;
        }
        var scales = c.B.Constant(Tensor.FromArray([1f, 1f, .. kernel.Select(k => (float)k)], [n + 2]));
        Value Up(Value pooled) => c.B.Op("Resize", [pooled, null, scales],
            Attribute.String("mode", "nearest"), Attribute.String("coordinate_transformation_mode", "asymmetric"), Attribute.String("nearest_mode", "floor"));
        var maxima = c.B.Op("Equal", [x, Up(c.Y())]);
        var score = c.B.Op("Where", [maxima, ConstantLike(c, rank, [1, 1, .. input], x), c.Scalar(0, x)]);
        var attributes = c.Node.Attributes.Where(a => a.Name != "storage_order").ToArray();
        var best = c.B.Op("MaxPool", [score], attributes);
        var first = c.B.Op("Equal", [score, Up(best)]);
        return c.B.Op("Where", [first, Up(dy), c.Scalar(0, dy)]);
    }

    /// <summary>
    /// Y[o] = (1/D[o])·Σ of X over window o (padding counts as zeros). The divisor D is the number of
    /// input elements in the window (count_include_pad=0) or includes the pads (1); for the latter it is
    /// read from ONNX Runtime's own AveragePool of ones, V/D, with V the in-input count, so that
    /// ceil_mode windows match the runtime exactly. dX = ConvTranspose(dY/D, ones[C, 1, k], group=C).
    /// </summary>
    private static void AveragePool(GradientContext c)
    {
        var (x, dy) = (c.X(0), c.Dy);
        if (Spatial(x) is not { } input || Spatial(c.Y()) is not { } output)
        {
            AveragePoolOverRunTimeSizes(c);
            return;
        }
        var channels = StaticDim(c, x, 1);
        var kernel = Window.Attr(c, "kernel_shape", input.Length, 1);
        var window = Window.Read(c, kernel, input);
        var inside = InsideCounts(window, input, output);
        var reciprocal = Array.ConvertAll(inside, v => v == 0 ? 0.0 : 1.0 / v);
        Value scale = ConstantLike(c, reciprocal, output, dy);
        if (c.Int("count_include_pad", 0) != 0)
        {
            var ones = ConstantLike(c, [1.0], [.. Enumerable.Repeat(1L, input.Length + 2)], x);
            var onesInput = c.B.Expand(ones, c.B.Ints([1, 1, .. input]));
            var insideOverDivisor = c.B.Op("AveragePool", [onesInput], [.. c.Node.Attributes]);
            scale = c.B.Mul(c.B.Reshape(insideOverDivisor, output), scale);
        }
        var kernelOnes = c.B.Expand(ConstantLike(c, [1.0], [1], x), c.B.Ints([channels, 1, .. kernel]));
        c.SetGrad(0, ConvAdjointInput(c, c.B.Mul(dy, scale), kernelOnes, window, channels, input, output));
    }

    /// <summary>
    /// AveragePool over run-time spatial sizes where every window has the full kernel as divisor (no pads, or
    /// pads counted, and no ceil_mode): dX = ConvTranspose(dY/K, ones[C, 1, k], group=C) cropped or padded
    /// to X's run-time size. Other divisors depend on the sizes and keep an error.
    /// </summary>
    private static void AveragePoolOverRunTimeSizes(GradientContext c)
    {
        var (x, dy) = (c.X(0), c.Dy);
        var spatialRank = c.Rank(x) - 2;
        var channels = StaticDim(c, x, 1);
        var kernel = Window.Attr(c, "kernel_shape", spatialRank, 1);
        var window = Window.Read(c, kernel, null);
        var padded = window.Begin.Concat(window.End).Any(p => p != 0);
        if (c.Int("ceil_mode", 0) != 0 || (padded && c.Int("count_include_pad", 0) == 0))
        {
            throw ImplicitRegException.Unsupported($"{c.Describe()}: the gradient of an AveragePool with ceil_mode or uncounted pads needs static spatial sizes of '{x.Name}'; {GradientContext.StaticSizesHint}");
        }
        var kernelSize = kernel.Aggregate(1L, (a, b) => a * b);
        var scaled = c.B.Mul(dy, ConstantLike(c, [1.0 / kernelSize], [], dy));
        var kernelOnes = c.B.Expand(ConstantLike(c, [1.0], [1], x), c.B.Ints([channels, 1, .. kernel]));
        var runTimeWindow = new RunTimeWindow(kernel, window.Strides, window.Dilations, window.Begin, window.End);
        c.SetGrad(0, RunTimeConvolutionHelpers.ConvAdjointInput(c, scaled, kernelOnes, x, runTimeWindow, channels));
    }

    /// <summary>
    /// Y[o] = (Σ over window o of |X|^p)^(1/p) (padding contributes zeros): ∂Y[o]/∂X[j] = |X[j]|^(p−1)·sign(X[j])·Y[o]^(1−p),
    /// so dX = X·|X|^(p−2) ⊙ ConvTranspose(dY·Y^(1−p), ones[C, 1, k], group=C), with p = 1 and 2 written without powers.
    /// </summary>
    private static void LpPool(GradientContext c)
    {
        var (x, dy, y) = (c.X(0), c.Dy, c.Y());
        var input = StaticSpatial(c, x);
        var output = StaticSpatial(c, y);
        var channels = StaticDim(c, x, 1);
        var window = Window.Read(c, Window.Attr(c, "kernel_shape", input.Length, 1), input);
        var p = c.Int("p", 2);
        var kernelOnes = c.B.Expand(ConstantLike(c, [1.0], [1], x), c.B.Ints([channels, 1, .. window.Kernel]));
        var weighted = p switch
        {
            1 => dy,
            2 => c.B.Div(dy, y),
            _ => c.B.Mul(dy, c.B.Op("Pow", [y, c.Scalar(1 - p, y)])),
        };
        var spread = ConvAdjointInput(c, weighted, kernelOnes, window, channels, input, output);
        var local = p switch
        {
            1 => c.B.Op("Sign", [x]),
            2 => x,
            _ => c.B.Mul(x, c.B.Op("Pow", [c.B.Op("Abs", [x]), c.Scalar(p - 2, x)])),
        };
        c.SetGrad(0, c.B.Mul(local, spread));
    }

    /// <summary>The number of window elements inside the input for each output position (row major over the spatial axes).</summary>
    private static double[] InsideCounts(Window window, long[] input, long[] output)
    {
        var perAxis = new long[input.Length][];
        for (var axis = 0; axis < input.Length; axis++)
        {
            perAxis[axis] = new long[output[axis]];
            for (var o = 0; o < output[axis]; o++)
            {
                for (var t = 0; t < window.Kernel[axis]; t++)
                {
                    var position = (o * window.Strides[axis]) - window.Begin[axis] + (t * window.Dilations[axis]);
                    if (position >= 0 && position < input[axis])
                    {
                        perAxis[axis][o]++;
                    }
                }
            }
        }
        var total = output.Aggregate(1L, (a, b) => a * b);
        var counts = new double[total];
        for (var flat = 0L; flat < total; flat++)
        {
            var rest = flat;
            double count = 1;
            for (var axis = input.Length - 1; axis >= 0; axis--)
            {
                count *= perAxis[axis][rest % output[axis]];
                rest /= output[axis];
            }
            counts[flat] = count;
        }
        return counts;
    }

    /// <summary>Y[n, c] = mean of X[n, c, ...]: dX = dY broadcast over the spatial axes / their size.</summary>
    private static void GlobalAveragePool(GradientContext c)
    {
        var (x, dy) = (c.X(0), c.Dy);
        Value size = Spatial(x) is { } spatial
            ? c.Scalar(spatial.Aggregate(1L, (a, b) => a * b), dy)
            : c.CastLike(c.B.Div(c.B.Op("Size", [x]), c.B.Op("Size", [dy])), dy);
        c.SetGrad(0, c.B.Expand(c.B.Div(dy, size), c.B.Shape(x)));
    }

    /// <summary>Y[n, c] = max of X[n, c, ...]: the gradient goes to the maximal elements, shared evenly among ties (as PyTorch's amax).</summary>
    private static void GlobalMaxPool(GradientContext c)
    {
        var (x, dy) = (c.X(0), c.Dy);
        var mask = c.CastLike(c.B.Op("Equal", [x, c.Y()]), dy);
        var axes = Enumerable.Range(2, c.Rank(x) - 2).Select(i => (long)i).ToArray();
        var count = c.B.ReduceSum(mask, axes, keepDims: true);
        c.SetGrad(0, c.B.Mul(mask, c.B.Div(dy, count)));
    }
}
