namespace ImplicitRegOnnx.Onnx.Passes;

/// <summary>Graph walks and edits shared by the optimization passes.</summary>
internal static class PassHelpers
{
    /// <summary>The main graph and its subgraphs (outermost first), then each function body and its subgraphs.</summary>
    public static List<Graph> AllGraphs(Model model, bool includeFunctions = true)
    {
        var graphs = model.Graph.SelfAndSubgraphs().ToList();
        if (includeFunctions)
        {
            graphs.AddRange(model.Functions.SelectMany(f => f.Body.SelfAndSubgraphs()));
        }
        return graphs;
    }

    /// <summary>Nodes of the main graph, its subgraphs and function bodies.</summary>
    public static int CountNodes(Model model, bool includeFunctions = true) =>
        AllGraphs(model, includeFunctions).Sum(g => g.Nodes.Count);

    /// <summary>
    /// Removes a node whose outputs are no longer needed. Nodes inside its subgraphs also stop
    /// counting as uses of outer values, so those values can become dead in turn.
    /// </summary>
    public static void RemoveNode(Graph graph, Node node)
    {
        foreach (var sub in node.Subgraphs)
        {
            foreach (var g in sub.SelfAndSubgraphs())
            {
                foreach (var inner in g.Nodes)
                {
                    inner.DetachInputs();
                }
            }
        }
        graph.Remove(node, force: true);
    }

    /// <summary>
    /// Like <see cref="Value.ReplaceAllUsesWith"/>, and also repoints outputs of nested subgraphs that
    /// name the outer value directly (an If branch may output an outer-scope value unchanged).
    /// </summary>
    public static void ReplaceAllUses(Value value, Value replacement)
    {
        var graph = value.Graph;
        value.ReplaceAllUsesWith(replacement);
        if (graph is null)
        {
            return;
        }
        foreach (var sub in graph.SelfAndSubgraphs().Skip(1))
        {
            for (var i = 0; i < sub.Outputs.Count; i++)
            {
                if (ReferenceEquals(sub.Outputs[i], value))
                {
                    sub.Outputs[i] = replacement;
                }
            }
        }
    }

    /// <summary>Every value that some graph of the model (main, subgraph, function body) lists as an output.</summary>
    public static HashSet<Value> OutputValues(Model model) =>
        AllGraphs(model).SelectMany(g => g.Outputs).ToHashSet();

    /// <summary>
    /// Operators whose results are random or depend on a training flag (ONNX operator spec: the
    /// Random* and Multinomial/Bernoulli generators; Dropout draws a mask when training_mode is true).
    /// Two calls with equal inputs may differ, so they are never merged or evaluated ahead of time.
    /// </summary>
    public static bool IsNonDeterministic(Node node) =>
        node.IsStandard && node.OpType is "RandomNormal" or "RandomUniform" or "RandomNormalLike" or "RandomUniformLike"
            or "Multinomial" or "Bernoulli" or "Dropout";

    /// <summary>Whether the node's input or output positions may hold sequences, maps or optionals rather than tensors.</summary>
    public static bool HasNonTensorValues(Node node) =>
        node.OpType.Contains("Sequence", StringComparison.Ordinal) || node.OpType.Contains("Optional", StringComparison.Ordinal);
}
