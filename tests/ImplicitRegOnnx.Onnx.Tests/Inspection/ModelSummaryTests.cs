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

    [Fact]
    public void TextIsAlignedTablesOfTheSummarysValues()
    {
        var summary = ModelSummary.Of(Model.Load(TestPaths.Model("mlp_tanh.onnx")));

        var lines = summary.ToText("m.onnx").Split('\n');

        Assert.Equal("model       m.onnx", lines[0]);
        Assert.Equal($"ir_version  {summary.IrVersion}", lines[2]);
        Assert.Contains(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"parameters  {summary.Parameters.Count} tensors, {summary.Parameters.Elements:N0} elements, {summary.Parameters.Bytes:N0} bytes"), lines);
        Assert.Contains($"inputs ({summary.Inputs.Count})", lines);
        Assert.Contains($"ops (main graph: {summary.NodeCount} nodes, {summary.Ops.Count} kinds)", lines);
        // Columns line up: every row of the op table is as wide as its header, counts right-aligned.
        var ops = lines.SkipWhile(l => !l.StartsWith("ops (", StringComparison.Ordinal)).Skip(1).TakeWhile(l => l.Length > 0).ToList();
        Assert.Equal(summary.Ops.Count + 1, ops.Count);
        Assert.All(ops, row => Assert.Equal(ops[0].Length, row.Length));
        Assert.EndsWith("\n", summary.ToText("m.onnx"), StringComparison.Ordinal);
    }
}
