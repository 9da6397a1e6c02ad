using static ImplicitRegOnnx.Onnx.Tests.Inference.InferenceHarness;

namespace ImplicitRegOnnx.Onnx.Tests.Inference;

public class NormalizationTests
{
    private static readonly object?[] BatchNormInputs = ["float[N,8,4,4]", "float[8]", "float[8]", "float[8]", "float[8]"];

    [Fact]
    public void BatchNormalizationInferenceForm() => Assert.Equal("float[N,8,4,4]", One("BatchNormalization", BatchNormInputs));

    [Fact]
    public void BatchNormalizationTrainingOutputsAreChannelVectors() =>
        Assert.Equal(["float[N,8,4,4]", "float[8]", "float[8]"],
            Run("BatchNormalization", BatchNormInputs, [Attribute.Int("training_mode", 1)], outputs: 3, opset: 15));

    [Fact]
    public void BatchNormalizationChannelsComeFromStatisticsWhenXIsUnknown() =>
        Assert.Equal(["float", "float[8]", "float[8]"],
            Run("BatchNormalization", ["float", "float[8]", "float[8]", "float[8]", "float[8]"], [Attribute.Int("training_mode", 1)], outputs: 3));

    [Fact]
    public void LayerNormalizationStatisticsKeepLeadingDims() =>
        Assert.Equal(["float16[N,S,64]", "float[N,S,1]", "float[N,S,1]"],
            Run("LayerNormalization", ["float16[N,S,64]", "float16[64]", "float16[64]"], outputs: 3));

    [Fact]
    public void LayerNormalizationAxisAndStashType() =>
        Assert.Equal(["double[N,S,64]", "double[N,1,1]", "double[N,1,1]"],
            Run("LayerNormalization", ["double[N,S,64]", "double[S,64]"], [Attribute.Int("axis", 1), Attribute.Int("stash_type", 11)], outputs: 3));

    [Fact]
    public void InstanceNormalizationKeepsShape() => Assert.Equal("float[N,3,H,W]", One("InstanceNormalization", ["float[N,3,H,W]", "float[3]", "float[3]"]));
}
