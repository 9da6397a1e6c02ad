using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Runtime.Data;
using ImplicitRegOnnx.Runtime.Training;

namespace ImplicitRegOnnx.Runtime.Tests.Readme;

public partial class ReadmeSampleTests
{
    /// <summary>The README's multi-input sample: the BERT-like model trained from arrays in memory.</summary>
    private static IReadOnlyList<EpochEvent> MultiInputSample(long[] ids, long[] mask, long[] labels, int n, TrainerOptions options, Dataset test)
    {
        // README multi-input begin
        var model = Model.Load("tests/BertLike/bert_like.onnx");
        var train = new Dataset([
            DataArray.FromArray("input_ids", ids, n, 10),          // long[n * 10]
            DataArray.FromArray("attention_mask", mask, n, 10),    // long[n * 10]
            DataArray.FromArray("target", labels, n),              // long[n]
        ]);
        using var bert = new Trainer(model, options);              // TrainerOptions as above
        var epochs = bert.Fit(train, test);                        // test: a Dataset of the same arrays
        Console.WriteLine($"test accuracy {epochs[^1].Test?.Accuracy:P1}");
        // README multi-input end
        return epochs;
    }
}
