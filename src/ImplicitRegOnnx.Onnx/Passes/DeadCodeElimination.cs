namespace ImplicitRegOnnx.Onnx.Passes;

/// <summary>
/// Removes computation that cannot affect a graph output: nodes none of whose outputs is read
/// (by a node, by a node inside a subgraph, or as a graph output), initializers nothing reads, and
/// value_info entries of values that no longer exist. Every ONNX operator is a pure function of its
/// inputs and attributes (ONNX IR spec, "Nodes": a graph is a side-effect-free dataflow graph), so
/// this also holds for nodes of other domains. Graph inputs are never removed, and an initializer
/// that is also a graph input stays too, because a caller may feed it.
/// Works on the main graph, every subgraph and every model-local function body; in a function body
/// the roots are the function's outputs.
/// </summary>
internal sealed class DeadCodeElimination : IModelPass
{
    public string Name => "dead-code";

    public int Run(Model model)
    {
        var changes = 0;
        var outputs = PassHelpers.OutputValues(model);
        foreach (var root in new[] { model.Graph }.Concat(model.Functions.Select(f => f.Body)))
        {
            // Reversed pre-order visits every subgraph before the graph that holds it: removing dead
            // nodes inside a body first drops its outer-scope reads, which can make outer nodes dead.
            foreach (var graph in root.SelfAndSubgraphs().Reverse().ToList())
            {
                if (IsDetached(graph, root))
                {
                    continue;
                }
                changes += RemoveDeadNodes(graph, outputs);
            }
            foreach (var graph in root.SelfAndSubgraphs().ToList())
            {
                changes += RemoveUnusedInitializers(graph, outputs);
                changes += RemoveStaleValueInfos(graph);
            }
        }
        return changes;
    }

    /// <summary>Removes nodes whose outputs are unused, latest first, so chains die in one sweep.</summary>
    /// <param name="graph">The graph to clean.</param>
    /// <param name="outputs">Values listed as outputs by any graph (see <see cref="PassHelpers.OutputValues"/>).</param>
    internal static int RemoveDeadNodes(Graph graph, HashSet<Value> outputs)
    {
        var order = TopologicalSort.Order(graph);
        var removed = 0;
        for (var i = order.Count - 1; i >= 0; i--)
        {
            var node = order[i];
            if (IsDead(node, outputs))
            {
                PassHelpers.RemoveNode(graph, node);
                removed++;
            }
        }
        return removed;
    }

    private static bool IsDead(Node node, HashSet<Value> outputs)
    {
        foreach (var output in node.Outputs)
        {
            if (output is not null && (output.Uses.Count > 0 || outputs.Contains(output)))
            {
                return false;
            }
        }
        return true;
    }

    private static int RemoveUnusedInitializers(Graph graph, HashSet<Value> outputs)
    {
        var removed = 0;
        foreach (var value in graph.Initializers.ToList())
        {
            if (value.Uses.Count == 0 && !value.IsGraphInput && !outputs.Contains(value))
            {
                graph.RemoveInitializer(value);
                removed++;
            }
        }
        return removed;
    }

    /// <summary>Drops value_info entries for values no longer declared by any live node, input or initializer.</summary>
    private static int RemoveStaleValueInfos(Graph graph) =>
        graph.ValueInfos.RemoveAll(v => !Exists(v));

    private static bool Exists(Value value)
    {
        if (value.Producer is { } producer)
        {
            return producer.Graph is not null;
        }
        return value.IsInitializer || value.IsGraphInput;
    }

    /// <summary>Whether a graph hangs off a node that was removed earlier in this run.</summary>
    private static bool IsDetached(Graph graph, Graph root)
    {
        var g = graph;
        while (!ReferenceEquals(g, root))
        {
            var parent = g.ParentNode;
            if (parent?.Graph is null)
            {
                return true;
            }
            g = parent.Graph;
        }
        return false;
    }
}
