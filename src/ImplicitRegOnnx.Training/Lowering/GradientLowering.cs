using ImplicitRegOnnx.Autodiff;
using ImplicitRegOnnx.Onnx.Building;

namespace ImplicitRegOnnx.Training.Lowering;

/// <summary>
/// Gradient (ai.onnx.preview.training, opset 1): the attributes xs, zs and y name tensors of the same
/// graph; y is a function of xs and zs, and output i is ∂y/∂xs[i] (the gradient of the sum of y's
/// elements, i.e. a vector-Jacobian product seeded with ones). The node's inputs, first one per xs then
/// one per zs, are the points at which the gradient is taken (ONNX operator spec). When they are the
/// named tensors themselves, the backward graph of <see cref="ReverseMode"/> reuses the forward
/// computation; otherwise the computation of y is copied with the inputs substituted, then differentiated.
/// A gradient that is zero (y does not depend on that x) is a tensor of zeros shaped like x.
/// Because a lowered Gradient is made of ops with gradient rules, a later Gradient whose y is an
/// earlier Gradient's output (the spec's second-order example) lowers too.
/// </summary>
internal static class GradientLowering
{
    private static readonly string[] Attributes = ["xs", "y", "zs"];

    public static Value?[] Lower(GraphBuilder b, Node node)
    {
        foreach (var attribute in node.Attributes)
        {
            if (!Attributes.Contains(attribute.Name))
            {
                throw LoweringErrors.At(node, $"unsupported attribute '{attribute.Name}' (the spec defines xs, y and zs)");
            }
        }
        var graph = node.Graph!;
        var xs = Names(node, "xs", required: true);
        var zs = Names(node, "zs", required: false);
        var y = Names(node, "y", required: true);
        if (y.Count != 1)
        {
            throw LoweringErrors.At(node, "attribute 'y' must name one tensor");
        }
        if (node.Inputs.Count != xs.Count + zs.Count || node.Inputs.Any(v => v is null))
        {
            throw LoweringErrors.At(node, $"has {node.Inputs.Count} inputs; the spec needs one per name in xs and zs ({xs.Count + zs.Count})");
        }
        if (node.Outputs.Count > xs.Count)
        {
            throw LoweringErrors.At(node, $"has {node.Outputs.Count} outputs; the spec has one per name in xs ({xs.Count})");
        }
        var named = xs.Concat(zs).Select(name => Resolve(node, graph, name)).ToList();
        var target = Resolve(node, graph, y[0]);

        var substitutions = new Dictionary<Value, Value>();
        for (var i = 0; i < named.Count; i++)
        {
            if (!ReferenceEquals(named[i], node.Inputs[i]))
            {
                substitutions[named[i]] = node.Inputs[i]!;
            }
        }
        var points = node.Inputs.Take(xs.Count).Select(v => v!).ToList();
        IReadOnlyList<Value?> gradients;
        try
        {
            var output = substitutions.Count == 0 ? target : ForwardCloner.Clone(graph, b, substitutions, [target])[0];
            gradients = ReverseMode.Vjp(b, [output], [null], points);
        }
        catch (ImplicitRegException e)
        {
            throw e.Within(LoweringErrors.Where(node));
        }
        var outputs = new Value?[node.Outputs.Count];
        for (var i = 0; i < outputs.Length; i++)
        {
            if (node.Outputs[i] is not null)
            {
                outputs[i] = gradients[i] ?? Zeros(b, points[i]);
            }
        }
        return outputs;
    }

    private static IReadOnlyList<string> Names(Node node, string name, bool required)
    {
        var attribute = node.GetAttribute(name);
        if (attribute is null)
        {
            return required ? throw LoweringErrors.At(node, $"the required attribute '{name}' is missing") : [];
        }
        return attribute.Kind switch
        {
            AttributeKind.Strings => attribute.AsStrings(),
            AttributeKind.String => [attribute.AsString()],
            _ => throw LoweringErrors.At(node, $"attribute '{name}' must name tensors (strings), not {attribute.Kind}"),
        };
    }

    private static Value Resolve(Node node, Graph graph, string name) =>
        graph.FindValue(name) ?? throw LoweringErrors.At(node, $"names '{name}', which no tensor of the graph is called");

    private static Value Zeros(GraphBuilder b, Value like) =>
        b.Expand(OptimizerFragments.Scalar(b, 0, like), b.Shape(like));
}
