using System.Text.Json.Nodes;
using ImplicitRegOnnx.Onnx.Inspection;
using ImplicitRegOnnx.TestSupport;

namespace ImplicitRegOnnx.Onnx.Tests.Inspection;

public class ModelSummaryTests
{
    public static TheoryData<string> CommittedModels() => [.. TestPaths.CommittedModels()];

    /// <summary>The summary's JSON is the format of models/*.inspect.json, written by the onnx python package (tools/onnx_inspect_reference.py).</summary>
    [Theory]
    [MemberData(nameof(CommittedModels))]
    public void JsonMatchesTheOnnxPythonReference(string relativePath)
    {
        var path = TestPaths.Model(relativePath);
        var reference = JsonNode.Parse(File.ReadAllText(Path.ChangeExtension(path, ".inspect.json")))!;

        var json = ModelSummary.Of(Model.Load(path)).ToJson();

        var ours = JsonNode.Parse(json)!;
        Assert.True(JsonNode.DeepEquals(reference, ours), $"reference:\n{reference}\nours:\n{ours}");
        Assert.Equal(reference.AsObject().Select(p => p.Key), ours.AsObject().Select(p => p.Key));
        Assert.EndsWith("}\n", json, StringComparison.Ordinal);
    }

    [Fact]
    public void CountsTheMainGraphsNodesAndParameters()
    {
        var model = Model.Load(TestPaths.Model("mlp_tanh.onnx"));

        var summary = ModelSummary.Of(model);

        Assert.Equal(model.Graph.Nodes.Count, summary.NodeCount);
        Assert.Equal(model.Graph.Initializers.Count, summary.Parameters.Count);
        Assert.Equal(model.Graph.Initializers.Sum(v => v.Initializer!.ElementCount), summary.Parameters.Elements);
        Assert.Equal(4 * summary.Parameters.Elements, summary.Parameters.Bytes);   // float32
        Assert.Equal(model.Graph.RequiredInputs.Select(v => v.Name), summary.Inputs.Select(v => v.Name));
    }
}
