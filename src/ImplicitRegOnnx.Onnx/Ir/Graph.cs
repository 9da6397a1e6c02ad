namespace ImplicitRegOnnx.Onnx;

/// <summary>
/// A computation: inputs, initializers (named constants), nodes and outputs. Nodes are kept in a
/// list that passes may reorder and edit through the methods here, which keep producers and uses
/// consistent. Subgraphs (If/Loop/Scan bodies) are graphs whose <see cref="ParentNode"/> is set.
/// </summary>
public sealed class Graph
{
    private readonly List<Node> _nodes = [];
    private readonly List<Value> _inputs = [];
    private readonly List<Value> _initializers = [];

    /// <summary>An empty graph.</summary>
    /// <param name="name">The graph's name; "" for none.</param>
    public Graph(string name = "")
    {
        Name = name;
    }

    /// <summary>The graph's name; "" when it has none.</summary>
    public string Name { get; set; }

    /// <summary>The graph's doc_string; null when the file has none.</summary>
    public string? DocString { get; set; }

    /// <summary>For a subgraph, the node whose attribute holds it; null for a main graph (or a graph not attached yet).</summary>
    public Node? ParentNode { get; internal set; }

    /// <summary>For a subgraph, the graph of <see cref="ParentNode"/>; null for a main graph.</summary>
    public Graph? Parent => ParentNode?.Graph;

    /// <summary>The graph inputs in declaration order. Models of IR version 3 and older also list initializers here; <see cref="RequiredInputs"/> leaves them out.</summary>
    public IReadOnlyList<Value> Inputs => _inputs;

    /// <summary>The dense and sparse initializers (named constants) in declaration order; each has <see cref="Value.Initializer"/> or <see cref="Value.SparseInitializer"/> set.</summary>
    public IReadOnlyList<Value> Initializers => _initializers;

    /// <summary>The graph outputs in order; entries may be replaced in place (a value can be an input, an initializer or a node output).</summary>
    public List<Value> Outputs { get; } = [];

    /// <summary>Values with a value_info entry (declared types of intermediate values), in file order; written back on save.</summary>
    public List<Value> ValueInfos { get; } = [];

    /// <summary>The nodes in list order, which is the file's order and, in a valid model, topological (each node after the producers of its inputs).</summary>
    public IReadOnlyList<Node> Nodes => _nodes;

    /// <summary>GraphProto fields the IR does not model (quantization annotations, metadata, unknown fields).</summary>
    internal byte[]? PreservedFields { get; set; }

    /// <summary>The inputs that are not also initializers: what a caller must feed to run the graph.</summary>
    public IEnumerable<Value> RequiredInputs => _inputs.Where(v => !v.IsInitializer);

    /// <summary>Adds a new value as the last graph input.</summary>
    /// <param name="name">The input's name, unique in the model.</param>
    /// <param name="type">Its type; null when unknown.</param>
    /// <returns>The new value.</returns>
    public Value AddInput(string name, OnnxType? type)
    {
        var value = new Value(name, type);
        AddInput(value);
        return value;
    }

    /// <summary>Adds an existing value as the last graph input, e.g. an initializer that a caller may override (as models of IR version 3 do).</summary>
    /// <param name="value">The value; it must not be the output of a node.</param>
    public void AddInput(Value value)
    {
        value.SetDeclaringGraph(this);
        _inputs.Add(value);
    }

    /// <summary>Removes a graph input; an initializer of the same value stays one. Nodes that read it keep their references.</summary>
    /// <param name="value">The input.</param>
    /// <returns>Whether it was an input.</returns>
    public bool RemoveInput(Value value) => _inputs.Remove(value);

    /// <summary>Adds a constant: a new value named after the tensor, of its element type and static shape, with the tensor as <see cref="Value.Initializer"/>.</summary>
    /// <param name="tensor">The constant; its name must be unique in the model (<see cref="Building.GraphBuilder.Initializer"/> makes one so).</param>
    /// <returns>The new value.</returns>
    public Value AddInitializer(Tensor tensor)
    {
        var value = new Value(tensor.Name, new TensorType(tensor.ElementType, new Shape(tensor.Dims)));
        AttachInitializer(value, tensor);
        return value;
    }

    /// <summary>Makes <paramref name="value"/> an initializer holding <paramref name="tensor"/> (e.g. a graph input of the same name, or to replace an initializer's payload); the value keeps its name and type.</summary>
    /// <param name="value">The value; a graph input or a value not in any graph, not the output of a node.</param>
    /// <param name="tensor">The payload.</param>
    public void AttachInitializer(Value value, Tensor tensor)
    {
        value.Initializer = tensor;
        value.SetDeclaringGraph(this);
        if (!_initializers.Contains(value))
        {
            _initializers.Add(value);
        }
    }

    /// <summary>Makes <paramref name="value"/> a sparse initializer holding <paramref name="tensor"/> (as <see cref="AttachInitializer"/>).</summary>
    /// <param name="value">The value; a graph input or a value not in any graph, not the output of a node.</param>
    /// <param name="tensor">The payload.</param>
    public void AttachSparseInitializer(Value value, SparseTensor tensor)
    {
        value.SparseInitializer = tensor;
        value.SetDeclaringGraph(this);
        if (!_initializers.Contains(value))
        {
            _initializers.Add(value);
        }
    }

    /// <summary>Removes an initializer, and the graph input of the same value if there is one; the value then holds no payload. Nodes that read it keep their references, so replace or remove them too.</summary>
    /// <param name="value">The initializer.</param>
    public void RemoveInitializer(Value value)
    {
        _initializers.Remove(value);
        _inputs.Remove(value);
        value.Initializer = null;
        value.SparseInitializer = null;
    }

    /// <summary>Adds a node at the end of the node list.</summary>
    /// <param name="node">A node that belongs to no graph.</param>
    /// <returns><paramref name="node"/>.</returns>
    /// <exception cref="InvalidOperationException">The node already belongs to a graph.</exception>
    public Node Append(Node node)
    {
        Adopt(node);
        _nodes.Add(node);
        return node;
    }

    /// <summary>Adds a node at a position of the node list.</summary>
    /// <param name="index">From 0 to <c>Nodes.Count</c>.</param>
    /// <param name="node">A node that belongs to no graph.</param>
    /// <returns><paramref name="node"/>.</returns>
    /// <exception cref="InvalidOperationException">The node already belongs to a graph.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is outside the list.</exception>
    public Node Insert(int index, Node node)
    {
        Adopt(node);
        _nodes.Insert(index, node);
        return node;
    }

    /// <summary>Removes a node from the graph and its uses of its inputs; a node not in the graph is ignored. Its output values stay as they are.</summary>
    /// <param name="node">The node.</param>
    /// <param name="force">Remove even when an output is still read or is a graph output (the caller rewires those).</param>
    /// <exception cref="InvalidOperationException">Without <paramref name="force"/>: an output of the node is still read by a node or is a graph output.</exception>
    public void Remove(Node node, bool force = false)
    {
        if (!force)
        {
            foreach (var output in node.Outputs)
            {
                if (output is not null && (output.Uses.Count > 0 || Outputs.Contains(output)))
                {
                    throw new InvalidOperationException($"Cannot remove node '{node.Name}' ({node.OpType}): its output '{output.Name}' is still used.");
                }
            }
        }
        if (_nodes.Remove(node))
        {
            node.DetachInputs();
            node.Graph = null;
        }
    }

    /// <summary>Replaces the node order with <paramref name="order"/>, the same nodes in a new order (e.g. after a topological sort).</summary>
    /// <param name="order">Every node of the graph once.</param>
    /// <exception cref="ArgumentException"><paramref name="order"/> does not list exactly the graph's nodes.</exception>
    public void Reorder(IReadOnlyList<Node> order)
    {
        if (order.Count != _nodes.Count || order.Any(n => !ReferenceEquals(n.Graph, this)))
        {
            throw new ArgumentException("A reorder must list each node of the graph exactly once.", nameof(order));
        }
        _nodes.Clear();
        _nodes.AddRange(order);
    }

    private void Adopt(Node node)
    {
        if (node.Graph is not null)
        {
            throw new InvalidOperationException($"Node '{node.Name}' ({node.OpType}) already belongs to a graph.");
        }
        node.Graph = this;
    }

    /// <summary>This graph and all graphs nested in its nodes' attributes at any depth, outermost first.</summary>
    public IEnumerable<Graph> SelfAndSubgraphs()
    {
        yield return this;
        foreach (var node in _nodes)
        {
            foreach (var sub in node.Subgraphs)
            {
                foreach (var g in sub.SelfAndSubgraphs())
                {
                    yield return g;
                }
            }
        }
    }

    /// <summary>Values declared outside this graph and its nested graphs that their nodes read (for a subgraph: the enclosing scopes' values it uses). Each value once.</summary>
    public IEnumerable<Value> OuterScopeReferences()
    {
        var inner = SelfAndSubgraphs().ToHashSet();
        var seen = new HashSet<Value>();
        foreach (var g in inner)
        {
            foreach (var node in g._nodes)
            {
                foreach (var input in node.Inputs)
                {
                    if (input is not null && (input.Graph is null || !inner.Contains(input.Graph)) && seen.Add(input))
                    {
                        yield return input;
                    }
                }
            }
        }
    }

    /// <summary>A value declared in this graph (not its subgraphs) by name: an input, an initializer or a node output; null when there is none.</summary>
    /// <param name="name">The value's name.</param>
    public Value? FindValue(string name)
    {
        foreach (var v in _inputs)
        {
            if (v.Name == name)
            {
                return v;
            }
        }
        foreach (var v in _initializers)
        {
            if (v.Name == name)
            {
                return v;
            }
        }
        foreach (var n in _nodes)
        {
            foreach (var o in n.Outputs)
            {
                if (o is not null && o.Name == name)
                {
                    return o;
                }
            }
        }
        return null;
    }

    /// <summary>The names of all values of this graph and its subgraphs (inputs, initializers, node outputs), a new set; node names are not included.</summary>
    public HashSet<string> CollectNames()
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var g in SelfAndSubgraphs())
        {
            foreach (var v in g._inputs)
            {
                names.Add(v.Name);
            }
            foreach (var v in g._initializers)
            {
                names.Add(v.Name);
            }
            foreach (var n in g._nodes)
            {
                foreach (var o in n.Outputs)
                {
                    if (o is not null)
                    {
                        names.Add(o.Name);
                    }
                }
            }
        }
        return names;
    }

    /// <summary>A one-line summary for messages, e.g. <c>graph 'main' (1 inputs, 4 initializers, 7 nodes, 1 outputs)</c>.</summary>
    public override string ToString() => $"graph '{Name}' ({_inputs.Count} inputs, {_initializers.Count} initializers, {_nodes.Count} nodes, {Outputs.Count} outputs)";
}
