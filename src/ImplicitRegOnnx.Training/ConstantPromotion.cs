namespace ImplicitRegOnnx.Training;

/// <summary>
/// Some exporters store weights as <c>Constant</c> nodes instead of initializers (paddle2onnx writes
/// every weight that way; spox and some TorchScript exports do it for part of them). Training only
/// updates initializers, so <see cref="Promote"/> turns such nodes into initializers of the same
/// name, which the trainable-parameter selection then picks up like any other weight.
/// </summary>
/// <remarks>
/// What counts as a weight: a main-graph Constant whose value (the <c>value</c> tensor or
/// <c>value_floats</c>) is floating-point and has at least <see cref="MinimumElements"/> elements.
/// Scalars and one-element tensors stay nodes: they are epsilons, activation constants (HardSwish's 3
/// and 6, GELU's 0.5, which exporters often store with shape [1]) or scale factors, not parameters
/// anyone means to train. Integer and bool constants (shapes, axes, indices) always stay as they are.
/// Constants inside If/Loop bodies stay too: the gradient does not go through control flow.
/// </remarks>
internal static class ConstantPromotion
{
    /// <summary>The smallest element count of a promoted constant.</summary>
    public const long MinimumElements = 2;

    /// <summary>Whether a Constant node holds a weight by the rule above; returns its tensor.</summary>
    public static Tensor? WeightOf(Node node)
    {
        ArgumentNullException.ThrowIfNull(node);
        if (!node.IsStandard || node.OpType != "Constant" || node.Outputs.Count != 1 || node.Outputs[0] is null)
        {
            return null;
        }
        Tensor? tensor = null;
        if (node.GetAttribute("value") is { Kind: AttributeKind.Tensor } value)
        {
            tensor = value.AsTensor();
        }
        else if (node.GetAttribute("value_floats") is { Kind: AttributeKind.Floats, Payload: float[] floats })
        {
            tensor = Tensor.FromArray(floats, [floats.Length]);
        }
        return tensor is not null && tensor.External is null && tensor.ElementType.IsFloatingPoint() && tensor.ElementCount >= MinimumElements
            ? tensor
            : null;
    }

    /// <summary>Replaces every weight-holding Constant node of the main graph by an initializer of the same name; returns how many.</summary>
    public static int Promote(Model model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var graph = model.Graph;
        var promoted = 0;
        foreach (var node in graph.Nodes.ToList())
        {
            if (WeightOf(node) is not { } tensor)
            {
                continue;
            }
            var output = node.Outputs[0]!;
            var initializer = graph.AddInitializer(tensor.WithName(output.Name));
            output.ReplaceAllUsesWith(initializer);
            graph.Remove(node);
            promoted++;
        }
        return promoted;
    }
}
