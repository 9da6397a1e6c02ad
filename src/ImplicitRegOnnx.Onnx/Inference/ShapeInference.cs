namespace ImplicitRegOnnx.Onnx.Inference;

/// <summary>A shape rule: reads a node through the context and records the output types it can infer.</summary>
internal delegate void ShapeRule(InferenceContext context);

/// <summary>
/// Type and shape inference for ai.onnx nodes, with symbolic dimensions. Walks nodes in order and sets
/// the types of their outputs where they can be inferred. Unknown stays unknown, never wrong: a rule
/// that cannot decide leaves an output (or a dimension) unknown, unknown operators are left alone, and
/// declared types are only ever refined (a declared size is never replaced, a symbol only by a size).
/// </summary>
public static class ShapeInference
{
    private static readonly Dictionary<string, ShapeRule> Rules = BuildRules();

    /// <summary>Infers types in the main graph and its subgraphs using the model's ai.onnx opset; nothing when the model imports none.</summary>
    /// <param name="model">The model; value types are changed in place.</param>
    /// <returns>How many values got a new or more precise type.</returns>
    public static int InferModel(Model model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return model.OpsetVersion("") is { } opset ? InferGraph(model.Graph, opset) : 0;
    }

    /// <summary>Infers types in a graph, node by node in list order (each subgraph before the node that holds it).</summary>
    /// <param name="graph">The graph; value types are changed in place.</param>
    /// <param name="opset">The ai.onnx opset version the nodes follow.</param>
    /// <returns>How many values got a new or more precise type.</returns>
    public static int InferGraph(Graph graph, long opset)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var changed = 0;
        foreach (var node in graph.Nodes)
        {
            foreach (var subgraph in node.Subgraphs)
            {
                changed += InferGraph(subgraph, opset);
            }
            changed += InferNode(node, opset);
        }
        return changed;
    }

    /// <summary>Infers the output types of one standard node from the types of its inputs (and constant inputs); other domains, operators without a rule and malformed nodes are left alone.</summary>
    /// <param name="node">The node; its output types are changed in place.</param>
    /// <param name="opset">The ai.onnx opset version the node follows.</param>
    /// <returns>How many outputs got a new or more precise type.</returns>
    public static int InferNode(Node node, long opset)
    {
        ArgumentNullException.ThrowIfNull(node);
        if (!node.IsStandard || !Rules.TryGetValue(node.OpType, out var rule))
        {
            return 0;
        }
        var context = new InferenceContext(node, opset);
        try
        {
            rule(context);
        }
        catch (Exception)
        {
            // A malformed node (wrong attribute kinds, absurd sizes): infer nothing rather than fail.
            return 0;
        }
        var changed = 0;
        for (var i = 0; i < node.Outputs.Count; i++)
        {
            if (node.Outputs[i] is { } output && context.Results[i] is { } inferred)
            {
                var merged = Merge(output.Type, inferred);
                if (!Equals(merged, output.Type))
                {
                    output.Type = merged;
                    changed++;
                }
            }
        }
        return changed;
    }

    /// <summary>Whether the toolkit has a shape rule for the ai.onnx operator <paramref name="opType"/>.</summary>
    /// <param name="opType">The operator, e.g. "Conv".</param>
    public static bool HasRule(string opType) => Rules.ContainsKey(opType);

    /// <summary>
    /// Combines an existing (declared) type with an inferred one without losing precision: a non-tensor
    /// or contradicting existing type is kept; known sizes are kept; an inferred size or symbol fills a
    /// dimension the existing type left unknown or symbolic (a size replaces a symbol).
    /// </summary>
    internal static OnnxType Merge(OnnxType? existing, TensorType inferred)
    {
        ArgumentNullException.ThrowIfNull(inferred);
        if (existing is null || existing is UnspecifiedType)
        {
            return inferred;
        }
        if (existing is not TensorType declared)
        {
            return existing;
        }
        if (declared.ElementType != ElementType.Undefined && declared.ElementType != inferred.ElementType)
        {
            return existing;
        }
        var shape = MergeShapes(declared.Shape, inferred.Shape);
        if (shape is null && declared.Shape is not null)
        {
            return existing;
        }
        return declared with { ElementType = inferred.ElementType, Shape = shape };
    }

    /// <summary>Merges dimension by dimension; null only when both are unknown or the ranks differ.</summary>
    private static Shape? MergeShapes(Shape? declared, Shape? inferred)
    {
        if (declared is null)
        {
            return inferred;
        }
        if (inferred is null)
        {
            return declared;
        }
        if (declared.Rank != inferred.Rank)
        {
            return null;
        }
        var dims = new Dim[declared.Rank];
        for (var i = 0; i < dims.Length; i++)
        {
            var d = declared[i];
            var n = inferred[i];
            dims[i] = d.IsKnown || (!n.IsKnown && (d.IsSymbolic || !n.IsSymbolic)) ? d : n with { Denotation = d.Denotation ?? n.Denotation };
        }
        return new Shape(dims);
    }

    private static Dictionary<string, ShapeRule> BuildRules()
    {
        var rules = new Dictionary<string, ShapeRule>(StringComparer.Ordinal);
        ElementwiseRules.Register(rules);
        ActivationRules.Register(rules);
        LinearRules.Register(rules);
        ConvolutionRules.Register(rules);
        PoolingRules.Register(rules);
        NormalizationRules.Register(rules);
        ShapeOpRules.Register(rules);
        IndexingRules.Register(rules);
        ResizeRules.Register(rules);
        GeneratorRules.Register(rules);
        ReductionRules.Register(rules);
        LossRules.Register(rules);
        RecurrentRules.Register(rules);
        ControlFlowRules.Register(rules);
        return rules;
    }
}
