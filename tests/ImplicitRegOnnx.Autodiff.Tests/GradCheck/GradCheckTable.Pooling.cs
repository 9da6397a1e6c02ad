namespace ImplicitRegOnnx.Autodiff.Tests.GradCheck;

/// <summary>Pools (float32 only on ONNX Runtime CPU, except MaxPool): distinct, well-separated values keep the central differences from changing the maximum.</summary>
public static partial class GradCheckTable
{
    /// <summary>A shuffled grid of values 0.05 apart, so no two elements are within the step of each other.</summary>
    private static InputSpec Distinct(ElementType type, params long[] dims)
    {
        var n = (int)dims.Aggregate(1L, (a, b) => a * b);
        var random = new Random(n);
        var values = Enumerable.Range(0, n).Select(i => (i - (n / 2)) * 0.05).OrderBy(_ => random.Next()).ToArray();
        var tensor = type == ElementType.Double
            ? Tensor.FromArray(values, dims)
            : Tensor.FromArray(Array.ConvertAll(values, v => (float)v), dims);
        return new InputSpec(dims, type, Fixed: tensor);
    }

    public static IEnumerable<GradCheckCase> Pooling() =>
    [
        GradCheckCase.Op("MaxPool 2-D strides pads", "MaxPool", [Distinct(ElementType.Float, 2, 3, 5, 5)],
            Ints("kernel_shape", 3, 3), Ints("strides", 2, 2), Ints("pads", 1, 1, 1, 1)),
        GradCheckCase.Op("MaxPool 1-D ceil_mode dilations", "MaxPool", [Distinct(ElementType.Float, 2, 2, 8)],
            Ints("kernel_shape", 2), Ints("strides", 2), Ints("dilations", 2), Attribute.Int("ceil_mode", 1)),
        GradCheckCase.Op("MaxPool 3-D", "MaxPool", [Distinct(ElementType.Float, 1, 2, 3, 4, 3)],
            Ints("kernel_shape", 2, 2, 2), Ints("pads", 0, 1, 0, 1, 0, 1)),
        GradCheckCase.Op("MaxPool storage_order SAME_UPPER", "MaxPool", [Distinct(ElementType.Float, 1, 2, 5, 4)],
            Ints("kernel_shape", 2, 3), Attribute.String("auto_pad", "SAME_UPPER"), Attribute.Int("storage_order", 1)),
        GradCheckCase.Op("AveragePool 2-D exclude pads", "AveragePool", [InputSpec.Float(2, 3, 5, 5)],
            Ints("kernel_shape", 3, 3), Ints("strides", 2, 2), Ints("pads", 1, 1, 1, 1)),
        GradCheckCase.Op("AveragePool 2-D include pads", "AveragePool", [InputSpec.Float(2, 3, 5, 5)],
            Ints("kernel_shape", 3, 3), Ints("strides", 2, 2), Ints("pads", 1, 0, 1, 2), Attribute.Int("count_include_pad", 1)),
        GradCheckCase.Op("AveragePool 1-D ceil_mode include pads", "AveragePool", [InputSpec.Float(2, 2, 8)],
            Ints("kernel_shape", 3), Ints("strides", 2), Ints("pads", 1, 1), Attribute.Int("ceil_mode", 1), Attribute.Int("count_include_pad", 1)),
        GradCheckCase.Op("AveragePool 1-D ceil_mode exclude pads", "AveragePool", [InputSpec.Float(2, 2, 8)],
            Ints("kernel_shape", 3), Ints("strides", 2), Attribute.Int("ceil_mode", 1)),
        GradCheckCase.Op("AveragePool 3-D", "AveragePool", [InputSpec.Float(1, 2, 3, 4, 3)],
            Ints("kernel_shape", 2, 2, 2), Ints("strides", 1, 2, 1)),
        GradCheckCase.Op("AveragePool SAME_LOWER", "AveragePool", [InputSpec.Float(1, 2, 5, 4)],
            Ints("kernel_shape", 2, 3), Attribute.String("auto_pad", "SAME_LOWER")),
        GradCheckCase.Op("AveragePool dilations opset 19", "AveragePool", [InputSpec.Float(1, 2, 7)],
            Ints("kernel_shape", 2), Ints("dilations", 2), Ints("pads", 1, 1)) with { Opset = 19 },
        GradCheckCase.Op("AveragePool run-time sizes strides remainder", "AveragePool", [InputSpec.Float(2, 2, 7, 8).Symbolic(2, 3)],
            Ints("kernel_shape", 3, 2), Ints("strides", 3, 3)),
        GradCheckCase.Op("AveragePool run-time sizes include pads", "AveragePool", [InputSpec.Float(2, 3, 5, 6).Symbolic(0, 2, 3)],
            Ints("kernel_shape", 3, 3), Ints("strides", 2, 2), Ints("pads", 1, 0, 1, 2), Attribute.Int("count_include_pad", 1)),
        GradCheckCase.Op("MaxPool 2-D tiling windows", "MaxPool", [Distinct(ElementType.Float, 2, 3, 4, 6)],
            Ints("kernel_shape", 2, 2), Ints("strides", 2, 2)),
        GradCheckCase.Op("MaxPool 1-D tiling windows double", "MaxPool", [Distinct(ElementType.Double, 2, 2, 6)],
            Ints("kernel_shape", 3), Ints("strides", 3)),
        GradCheckCase.Op("MaxPool 3-D tiling windows", "MaxPool", [Distinct(ElementType.Float, 1, 2, 2, 4, 2)],
            Ints("kernel_shape", 1, 2, 2), Ints("strides", 1, 2, 2)),
        GradCheckCase.Op("MaxPool 2-D double", "MaxPool", [Distinct(ElementType.Double, 1, 2, 4, 5)],
            Ints("kernel_shape", 2, 2), Ints("strides", 1, 2)),
        GradCheckCase.MultiOutput("MaxPool with Indices output", "MaxPool", 2, [Distinct(ElementType.Float, 1, 2, 5, 5)],
            Ints("kernel_shape", 3, 3), Ints("strides", 2, 2), Attribute.Int("ceil_mode", 1)),
        GradCheckCase.Op("LpPool p=2 strides pads", "LpPool", [InputSpec.Float(2, 2, 5, 5) with { AwayFromZero = 0.1 }],
            Ints("kernel_shape", 3, 3), Ints("strides", 2, 2), Ints("pads", 1, 1, 1, 1)),
        GradCheckCase.Op("LpPool p=1 1-D", "LpPool", [InputSpec.Float(2, 2, 7) with { AwayFromZero = 0.1 }],
            Ints("kernel_shape", 3), Ints("strides", 2), Attribute.Int("p", 1)),
        GradCheckCase.Op("LpPool p=3 3-D", "LpPool", [InputSpec.Float(1, 2, 3, 4, 3) with { AwayFromZero = 0.1 }],
            Ints("kernel_shape", 2, 2, 2), Attribute.Int("p", 3)),
        GradCheckCase.Op("GlobalAveragePool (float)", "GlobalAveragePool", [InputSpec.Float(2, 3, 4, 5)]),
        GradCheckCase.Op("GlobalAveragePool 1-D (float)", "GlobalAveragePool", [InputSpec.Float(2, 3, 5)]),
        GradCheckCase.Op("GlobalMaxPool (float)", "GlobalMaxPool", [Distinct(ElementType.Float, 2, 3, 3, 5)]),
    ];
}
