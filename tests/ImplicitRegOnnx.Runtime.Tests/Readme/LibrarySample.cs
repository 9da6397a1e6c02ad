using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Onnx.Passes;

namespace ImplicitRegOnnx.Runtime.Tests.Readme;

public partial class ReadmeSampleTests
{
    private static void LibrarySample()
    {
        // README library begin
        var model = Model.Load("model.onnx");                 // also Load(Stream) and Load(bytes)
        foreach (var node in model.Graph.Nodes)
        {
            Console.WriteLine($"{node.OpType}: {string.Join(", ", node.Inputs.Select(v => v?.Name))}");
        }
        ModelOptimizer.Optimize(model, OrtConstantEvaluator.Instance);   // constant subgraphs run in ONNX Runtime
        model.Save("model.opt.onnx");                         // atomic: temp file, then rename
        // README library end
    }
}
