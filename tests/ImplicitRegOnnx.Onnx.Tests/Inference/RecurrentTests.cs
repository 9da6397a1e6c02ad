using static ImplicitRegOnnx.Onnx.Tests.Inference.InferenceHarness;

namespace ImplicitRegOnnx.Onnx.Tests.Inference;

public class RecurrentTests
{
    [Fact]
    public void LstmOutputs() =>
        Assert.Equal(["float[S,1,N,8]", "float[1,N,8]", "float[1,N,8]"],
            Run("LSTM", ["float[S,N,4]", "float[1,32,4]", "float[1,32,8]"], [Attribute.Int("hidden_size", 8)], outputs: 3));

    [Fact]
    public void BidirectionalBatchFirstGru() =>
        Assert.Equal(["float[N,S,2,8]", "float[N,2,8]"],
            Run("GRU", ["float[N,S,4]", "float[2,24,4]", "float[2,24,8]"],
                [Attribute.Int("hidden_size", 8), Attribute.String("direction", "bidirectional"), Attribute.Int("layout", 1)], outputs: 2));
}
