using ImplicitRegOnnx.Onnx.Building;
using ImplicitRegOnnx.Runtime.Verification;

namespace ImplicitRegOnnx.Autodiff.Tests;

/// <summary>
/// Central differences cannot check ties, so this compares the MaxPool gradient on inputs full of
/// ties with the definition: each dY goes to the first maximal element of its window in row-major
/// order (the element ONNX Runtime's and PyTorch's MaxPool select), for tiling and non-tiling windows.
/// </summary>
public sealed class MaxPoolTiesTests
{
    public static TheoryData<long[], long[], long[]> Windows() => new()
    {
        { [2, 3, 4, 6], [2, 2], [2, 2] },   // windows tile the input
        { [1, 2, 5, 6], [2, 3], [2, 3] },   // remainder row: the general form
        { [2, 2, 6], [3], [3] },            // 1-D tiling
    };

    [Theory]
    [MemberData(nameof(Windows))]
    public void GradientGoesToTheFirstMaximumOfEachWindow(long[] dims, long[] kernel, long[] strides)
    {
        var graph = new Graph("maxpool_ties");
        var model = new Model(graph) { IrVersion = 8 };
        model.Opsets.Add(new OpsetId("", 17));
        var b = new GraphBuilder(graph, 17);
        var x = graph.AddInput("x", new TensorType(ElementType.Float, new Shape(dims)));
        var y = b.Op("MaxPool", [x], Attribute.Ints("kernel_shape", kernel), Attribute.Ints("strides", strides));
        var outputDims = dims.Take(2).Concat(dims.Skip(2).Select((d, i) => ((d - kernel[i]) / strides[i]) + 1)).ToArray();
        var dy = graph.AddInput("dy", new TensorType(ElementType.Float, new Shape(outputDims)));
        var dx = ReverseMode.Vjp(b, [y], [dy], [x])[0]!;
        var output = b.Identity(dx);
        output.Name = "dx";
        graph.Outputs.Add(output);

        var random = new Random(7);
        var count = (int)dims.Aggregate(1L, (p, d) => p * d);
        var xs = Enumerable.Range(0, count).Select(_ => (float)random.Next(3)).ToArray(); // values 0, 1, 2: many ties
        var outCount = (int)outputDims.Aggregate(1L, (p, d) => p * d);
        var dys = Enumerable.Range(0, outCount).Select(_ => (float)(random.NextDouble() + 0.5)).ToArray();
        using var runner = ModelRunner.FromBytes(model.ToBytes());
        var result = runner.Run([Tensor.FromArray(xs, dims, "x"), Tensor.FromArray(dys, outputDims, "dy")])
            .Single(o => o.Name == "dx").Tensor!.ToDoubles();

        Assert.Equal(Expected(xs, dys, dims, outputDims, kernel, strides), result);
    }

    /// <summary>dX by the definition, with an odometer over the output positions and the window offsets.</summary>
    private static double[] Expected(float[] xs, float[] dys, long[] dims, long[] outputDims, long[] kernel, long[] strides)
    {
        var n = kernel.Length;
        var spatial = dims.Skip(2).ToArray();
        var spatialSize = spatial.Aggregate(1L, (p, d) => p * d);
        var outSpatial = outputDims.Skip(2).ToArray();
        var outSize = outSpatial.Aggregate(1L, (p, d) => p * d);
        var windowSize = kernel.Aggregate(1L, (p, d) => p * d);
        var dx = new double[xs.Length];
        for (var plane = 0L; plane < dims[0] * dims[1]; plane++)
        {
            for (var o = 0L; o < outSize; o++)
            {
                var outIndex = Unflatten(o, outSpatial);
                long best = -1;
                for (var t = 0L; t < windowSize; t++)
                {
                    var offset = Unflatten(t, kernel);
                    var position = 0L;
                    for (var i = 0; i < n; i++)
                    {
                        position = (position * spatial[i]) + (outIndex[i] * strides[i]) + offset[i];
                    }
                    var flat = (plane * spatialSize) + position;
                    if (best < 0 || xs[flat] > xs[best])
                    {
                        best = flat;
                    }
                }
                dx[best] += dys[(plane * outSize) + o];
            }
        }
        return dx;
    }

    private static long[] Unflatten(long index, long[] sizes)
    {
        var result = new long[sizes.Length];
        for (var i = sizes.Length - 1; i >= 0; i--)
        {
            result[i] = index % sizes[i];
            index /= sizes[i];
        }
        return result;
    }
}
