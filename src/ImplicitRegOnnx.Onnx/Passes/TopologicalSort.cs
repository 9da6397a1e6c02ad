namespace ImplicitRegOnnx.Onnx.Passes;

/// <summary>
/// Orders nodes so each comes after the producers of its inputs (ONNX IR spec: graph nodes must be
/// topologically sorted). Stable: nodes already in order keep their relative order. Subgraph
/// reads of outer values count as inputs of the node that holds the subgraph.
/// </summary>
internal sealed class TopologicalSort : IModelPass
{
    public string Name => "topological-sort";

    public int Run(Model model)
    {
        var moved = 0;
        foreach (var graph in model.Graph.SelfAndSubgraphs().Concat(model.Functions.SelectMany(f => f.Body.SelfAndSubgraphs())).ToList())
        {
            moved += Sort(graph);
        }
        return moved;
    }

    /// <summary>Sorts one graph's nodes; returns how many changed position. Throws on a cycle.</summary>
    public static int Sort(Graph graph)
    {
        var order = Order(graph);
        var moved = 0;
        for (var i = 0; i < order.Count; i++)
        {
            if (!ReferenceEquals(order[i], graph.Nodes[i]))
            {
                moved++;
            }
        }
        if (moved > 0)
        {
            graph.Reorder(order);
        }
        return moved;
    }

    /// <summary>A topological order of the graph's nodes (Kahn's algorithm, stable), or an error naming a node on a cycle.</summary>
    public static List<Node> Order(Graph graph)
    {
        var nodes = graph.Nodes;
        var position = new Dictionary<Node, int>(nodes.Count);
        for (var i = 0; i < nodes.Count; i++)
        {
            position[nodes[i]] = i;
        }
        var pending = new int[nodes.Count];
        var consumers = new List<int>[nodes.Count];
        for (var i = 0; i < nodes.Count; i++)
        {
            consumers[i] = [];
        }
        for (var i = 0; i < nodes.Count; i++)
        {
            foreach (var input in Dependencies(nodes[i]))
            {
                var producer = ProducerIn(graph, input);
                if (producer is not null && position.TryGetValue(producer, out var p))
                {
                    pending[i]++;
                    consumers[p].Add(i);
                }
            }
        }
        // A min-heap on the original position keeps the sort stable.
        var ready = new PriorityQueue<int, int>();
        for (var i = 0; i < nodes.Count; i++)
        {
            if (pending[i] == 0)
            {
                ready.Enqueue(i, i);
            }
        }
        var order = new List<Node>(nodes.Count);
        while (ready.TryDequeue(out var i, out _))
        {
            order.Add(nodes[i]);
            foreach (var c in consumers[i])
            {
                if (--pending[c] == 0)
                {
                    ready.Enqueue(c, c);
                }
            }
        }
        if (order.Count != nodes.Count)
        {
            var stuck = Enumerable.Range(0, nodes.Count).First(i => pending[i] > 0);
            var node = nodes[stuck];
            var label = string.IsNullOrEmpty(node.Name) ? $"{node.OpType} -> {(node.Outputs.Count > 0 ? node.Outputs[0]?.Name : "")}" : $"'{node.Name}' ({node.OpType})";
            throw ImplicitRegException.BadInput($"graph '{graph.Name}' has a cycle through node {label}; ONNX graphs must be acyclic, re-export the model");
        }
        return order;
    }

    private static IEnumerable<Value> Dependencies(Node node) =>
        node.Inputs.OfType<Value>().Concat(node.ImplicitInputs());

    /// <summary>The node of <paramref name="graph"/> that (directly or through a subgraph) yields the value.</summary>
    private static Node? ProducerIn(Graph graph, Value value)
    {
        var producer = value.Producer;
        while (producer is not null && !ReferenceEquals(producer.Graph, graph))
        {
            // A value computed inside a subgraph cannot be read from outside it; stop at unrelated graphs.
            producer = producer.Graph?.ParentNode;
        }
        return producer;
    }
}
