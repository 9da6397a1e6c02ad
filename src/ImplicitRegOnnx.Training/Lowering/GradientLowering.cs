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
        var bindings = named.Select((value, i) => new Binding(i, node.Inputs[i]!, value, i < xs.Count ? "xs" : "zs")).ToList();
        foreach (var binding in bindings)
        {
            if (binding.Clash() is { } clash)
            {
                throw LoweringErrors.At(node, $"{binding} and their shapes clash: {clash}; feed the point at which to take the gradient with the type of '{binding.Named.Name}'");
            }
        }

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
            // A point of unknown shape passes the check above but can still break the copied
            // computation; say which bindings the failure may come from.
            var uncertain = bindings.Where(x => !x.ShapesKnownEqual()).Select(x => x.ToString()).ToList();
            var context = substitutions.Count > 0 && uncertain.Count > 0
                ? $" (the gradient is taken at points whose shapes may not fit the named tensors: {string.Join("; ", uncertain)})"
                : "";
            throw new ImplicitRegException(e.Kind, $"{LoweringErrors.Where(node)}: {e.Message}{context}", e, e.Parameter);
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

    /// <summary>
    /// Input <see cref="Index"/> of the node is the point at which the tensor <see cref="Named"/> (of
    /// <see cref="List"/>, xs or zs) is taken. The spec's inputs are values of those tensors, so a point
    /// must have their type: a point of another rank or size would change what y computes (a broadcast
    /// where there was none), and an output would no longer be shaped like its x.
    /// </summary>
    private sealed record Binding(int Index, Value Point, Value Named, string List)
    {
        /// <summary>Why the two types cannot be the same tensor's, or null when they can (unknown parts fit anything).</summary>
        public string? Clash()
        {
            var (p, n) = (Point.ElementType, Named.ElementType);
            if (p != ElementType.Undefined && n != ElementType.Undefined && p != n)
            {
                return $"element type {p.Name()} against {n.Name()}";
            }
            if (Point.Shape is not { } ps || Named.Shape is not { } ns)
            {
                return null;
            }
            if (ps.Rank != ns.Rank)
            {
                return $"rank {ps.Rank} against {ns.Rank}";
            }
            for (var d = 0; d < ps.Rank; d++)
            {
                if (ps[d].Value is { } a && ns[d].Value is { } b && a != b)
                {
                    return $"dim {d} is {a} against {b}";
                }
            }
            return null;
        }

        /// <summary>Both shapes are known and the same (a point that certainly fits).</summary>
        public bool ShapesKnownEqual() =>
            ReferenceEquals(Point, Named) || (Point.Shape is { } ps && Named.Shape is { } ns && ps.Equals(ns));

        public override string ToString() =>
            $"input {Index} '{Point.Name}' ({Describe(Point)}) is bound to '{Named.Name}' of {List} ({Describe(Named)})";

        private static string Describe(Value value) => value.TensorType switch
        {
            null => "type unknown",
            { Shape: null } t => $"{t.ElementType.Name()}, rank unknown",
            { } t => t.ToString(),
        };
    }

    private static Value Zeros(GraphBuilder b, Value like) =>
        b.Expand(OptimizerFragments.Scalar(b, 0, like), b.Shape(like));
}
