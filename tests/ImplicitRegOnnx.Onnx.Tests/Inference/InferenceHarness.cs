using ImplicitRegOnnx.Onnx.Inference;

namespace ImplicitRegOnnx.Onnx.Tests.Inference;

/// <summary>
/// Runs shape inference on one node. Types are written as text: "float[N,3,?]" (N a symbol, ? unknown),
/// "float" for a known element type with unknown rank, "" for no type at all.
/// </summary>
internal static class InferenceHarness
{
    /// <summary>
    /// Builds a graph with one <paramref name="opType"/> node and returns its output types as text. Each input is a
    /// type text (a graph input), a <see cref="Tensor"/> (a constant initializer) or null (an omitted input).
    /// </summary>
    public static string[] Run(string opType, object?[] inputs, Attribute[]? attributes = null, int outputs = 1, long opset = 17)
    {
        var graph = new Graph("g");
        var values = new List<Value?>();
        for (var i = 0; i < inputs.Length; i++)
        {
            values.Add(inputs[i] switch
            {
                null => null,
                string type => graph.AddInput($"in{i}", type.Length == 0 ? null : Parse(type)),
                Tensor tensor => graph.AddInitializer(tensor.WithName($"in{i}")),
                _ => throw new ArgumentException("inputs are type texts, tensors or null"),
            });
        }
        var node = new Node("", opType, values, Enumerable.Range(0, outputs).Select(i => $"out{i}"), attributes);
        graph.Append(node);
        ShapeInference.InferNode(node, opset);
        return node.Outputs.Select(o => Format(o!.Type)).ToArray();
    }

    /// <summary>The first output's type of <see cref="Run"/>.</summary>
    public static string One(string opType, object?[] inputs, params Attribute[] attributes) => Run(opType, inputs, attributes)[0];

    public static TensorType Parse(string text)
    {
        var bracket = text.IndexOf('[', StringComparison.Ordinal);
        var elementName = bracket < 0 ? text : text[..bracket];
        Assert.True(ElementTypes.TryParse(elementName, out var elementType), $"element type '{elementName}'");
        if (bracket < 0)
        {
            return new TensorType(elementType, null);
        }
        var inner = text[(bracket + 1)..^1];
        var dims = inner.Length == 0
            ? []
            : inner.Split(',').Select(d => d == "?" ? Dim.Unknown : long.TryParse(d, out var v) ? Dim.Of(v) : Dim.Named(d));
        return new TensorType(elementType, new Shape(dims));
    }

    public static string Format(OnnxType? type) => type switch
    {
        null => "",
        TensorType t => t.ElementType.Name() + (t.Shape?.ToString() ?? ""),
        _ => type.ToString(),
    };

    public static Tensor Ints(params long[] values) => Tensor.FromArray(values, [values.Length]);

    public static Tensor Scalar(long value) => Tensor.Scalar(value);
}
