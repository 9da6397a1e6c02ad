namespace ImplicitRegOnnx.Onnx.Tests.Passes;

/// <summary>Small hand-built graphs for the pass tests (independent of the production GraphBuilder).</summary>
internal static class GraphBuilding
{
    public static TensorType Float(params long[] dims) => new(ElementType.Float, new Shape(dims));

    public static Value Input(this Graph graph, string name, params long[] dims) => graph.AddInput(name, Float(dims));

    public static Value Init(this Graph graph, string name, float[] data, params long[] dims) =>
        graph.AddInitializer(Tensor.FromArray(data, dims.Length == 0 && data.Length != 1 ? [data.Length] : dims, name));

    /// <summary>Appends a standard op with one output named <paramref name="output"/>.</summary>
    public static Value Op(this Graph graph, string opType, string output, Value?[] inputs, params Attribute[] attributes) =>
        graph.Append(new Node("", opType, inputs, [output], attributes, name: output + "_node")).Output;

    public static Model ToModel(this Graph graph, long opset = 17)
    {
        var model = new Model(graph) { IrVersion = 8 };
        model.SetOpsetVersion("", opset);
        return model;
    }

    public static Node NodeProducing(this Graph graph, string output) =>
        graph.Nodes.Single(n => n.Outputs.Any(o => o?.Name == output));

    public static string[] OpTypes(this Graph graph) => graph.Nodes.Select(n => n.OpType).ToArray();

    public static string[] OutputNames(this Graph graph) => graph.Outputs.Select(o => o.Name).ToArray();
}
