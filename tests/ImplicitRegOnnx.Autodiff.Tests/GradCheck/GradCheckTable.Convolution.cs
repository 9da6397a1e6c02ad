namespace ImplicitRegOnnx.Autodiff.Tests.GradCheck;

/// <summary>Conv and ConvTranspose run in float32 only on ONNX Runtime CPU.</summary>
public static partial class GradCheckTable
{
    private static Attribute Ints(string name, params long[] values) => Attribute.Ints(name, values);

    public static IEnumerable<GradCheckCase> Convolution() =>
    [
        GradCheckCase.Op("Conv 2-D with bias", "Conv", [InputSpec.Float(2, 3, 5, 5), InputSpec.Float(4, 3, 3, 3), InputSpec.Float(4)]),
        GradCheckCase.Op("Conv 1-D strides pads", "Conv", [InputSpec.Float(2, 2, 7), InputSpec.Float(3, 2, 3)],
            Ints("strides", 2), Ints("pads", 1, 0)),
        // 29 kernel elements: more than the unfolded-patches form takes, so the general form runs.
        GradCheckCase.Op("Conv 1-D long kernel general form", "Conv", [InputSpec.Float(2, 2, 33), InputSpec.Float(2, 2, 29)],
            Ints("pads", 1, 0)),
        GradCheckCase.Op("Conv 1-D stride 3 remainder", "Conv", [InputSpec.Float(2, 2, 7), InputSpec.Float(2, 2, 2)],
            Ints("strides", 3)),
        GradCheckCase.Op("Conv 1-D group bias opset 15", "Conv", [InputSpec.Float(2, 4, 7), InputSpec.Float(2, 2, 2), InputSpec.Float(2)],
            Ints("strides", 3), Attribute.Int("group", 2)) with { Opset = 15 },
        GradCheckCase.Op("Conv 2-D strides dilations asymmetric pads", "Conv", [InputSpec.Float(1, 2, 7, 6), InputSpec.Float(2, 2, 2, 3)],
            Ints("strides", 2, 2), Ints("dilations", 2, 1), Ints("pads", 1, 0, 0, 1)),
        GradCheckCase.Op("Conv 3-D with bias", "Conv", [InputSpec.Float(1, 2, 4, 4, 3), InputSpec.Float(2, 2, 2, 2, 2), InputSpec.Float(2)],
            Ints("strides", 2, 1, 1), Ints("pads", 0, 1, 0, 1, 0, 1)),
        GradCheckCase.Op("Conv SAME_UPPER stride 2", "Conv", [InputSpec.Float(1, 2, 6, 5), InputSpec.Float(2, 2, 3, 3)],
            Attribute.String("auto_pad", "SAME_UPPER"), Ints("strides", 2, 2)),
        GradCheckCase.Op("Conv SAME_LOWER", "Conv", [InputSpec.Float(1, 2, 5, 5), InputSpec.Float(2, 2, 2, 2)],
            Attribute.String("auto_pad", "SAME_LOWER"), Ints("strides", 2, 1)),
        GradCheckCase.Op("Conv VALID kernel_shape", "Conv", [InputSpec.Float(1, 2, 5, 4), InputSpec.Float(3, 2, 2, 3)],
            Attribute.String("auto_pad", "VALID"), Ints("kernel_shape", 2, 3)),
        GradCheckCase.Op("Conv group 2", "Conv", [InputSpec.Float(2, 4, 5, 5), InputSpec.Float(6, 2, 3, 3), InputSpec.Float(6)],
            Attribute.Int("group", 2), Ints("pads", 1, 1, 1, 1)),
        GradCheckCase.Op("Conv depthwise stride 2", "Conv", [InputSpec.Float(2, 3, 5, 5), InputSpec.Float(3, 1, 3, 3)],
            Attribute.Int("group", 3), Ints("strides", 2, 2), Ints("pads", 1, 1, 1, 1)),
        GradCheckCase.Op("ConvTranspose 2-D stride output_padding", "ConvTranspose", [InputSpec.Float(1, 3, 3, 3), InputSpec.Float(3, 2, 3, 3), InputSpec.Float(2)],
            Ints("strides", 2, 2), Ints("pads", 1, 1, 1, 1), Ints("output_padding", 1, 1)),
        GradCheckCase.Op("ConvTranspose 1-D group dilation", "ConvTranspose", [InputSpec.Float(2, 4, 4), InputSpec.Float(4, 1, 3)],
            Attribute.Int("group", 2), Ints("dilations", 2), Ints("pads", 0, 1)),
        GradCheckCase.Op("ConvTranspose output_shape", "ConvTranspose", [InputSpec.Float(1, 2, 3, 3), InputSpec.Float(2, 2, 3, 3)],
            Ints("strides", 2, 2), Ints("output_shape", 6, 5)),
        GradCheckCase.Op("ConvTranspose SAME_UPPER", "ConvTranspose", [InputSpec.Float(1, 2, 3, 2), InputSpec.Float(2, 3, 2, 3)],
            Attribute.String("auto_pad", "SAME_UPPER"), Ints("strides", 2, 2)),
        GradCheckCase.Op("ConvTranspose SAME_LOWER", "ConvTranspose", [InputSpec.Float(1, 2, 3, 2), InputSpec.Float(2, 3, 2, 3)],
            Attribute.String("auto_pad", "SAME_LOWER"), Ints("strides", 2, 2)),
        GradCheckCase.Op("ConvTranspose 3-D", "ConvTranspose", [InputSpec.Float(1, 2, 2, 3, 2), InputSpec.Float(2, 1, 2, 2, 2)],
            Ints("strides", 1, 2, 1)),
    ];
}
