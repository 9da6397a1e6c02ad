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

    public Graph(string name = "")
    {
        Name = name;
    }

    public string Name { get; set; }

    public string? DocString { get; set; }

    /// <summary>The node whose attribute holds this graph, for subgraphs.</summary>
    public Node? ParentNode { get; internal set; }

    /// <summary>The enclosing graph, for subgraphs.</summary>
    public Graph? Parent => ParentNode?.Graph;

    /// <summary>Graph inputs in declaration order. Older models also list initializers here.</summary>
    public IReadOnlyList<Value> Inputs => _inputs;

    /// <summary>Dense and sparse initializers in declaration order.</summary>
    public IReadOnlyList<Value> Initializers => _initializers;

    /// <summary>Graph outputs; entries may be replaced in place.</summary>
    public List<Value> Outputs { get; } = [];

    /// <summary>Values with an explicit value_info entry (types of intermediates), in file order.</summary>
    public List<Value> ValueInfos { get; } = [];

    public IReadOnlyList<Node> Nodes => _nodes;

    /// <summary>GraphProto fields the IR does not model (quantization annotations, metadata, unknown fields).</summary>
    internal byte[]? PreservedFields { get; set; }

    /// <summary>Inputs that are not also initializers: what a caller must feed.</summary>
    public IEnumerable<Value> RequiredInputs => _inputs.Where(v => !v.IsInitializer);

    public Value AddInput(string name, OnnxType? type)
    {
        var value = new Value(name, type);
        AddInput(value);
        return value;
    }

    /// <summary>Adds an existing value (e.g. an initializer, as IR version 3 models do) as a graph input.</summary>
    public void AddInput(Value value)
    {
        value.SetDeclaringGraph(this);
        _inputs.Add(value);
    }

    public bool RemoveInput(Value value) => _inputs.Remove(value);

    /// <summary>Adds a constant; its value takes the tensor's name and type.</summary>
    public Value AddInitializer(Tensor tensor)
    {
        var value = new Value(tensor.Name, new TensorType(tensor.ElementType, new Shape(tensor.Dims)));
        AttachInitializer(value, tensor);
        return value;
    }

    /// <summary>Makes an existing value (e.g. a graph input of the same name) an initializer.</summary>
    public void AttachInitializer(Value value, Tensor tensor)
    {
        value.Initializer = tensor;
        value.SetDeclaringGraph(this);
        if (!_initializers.Contains(value))
        {
            _initializers.Add(value);
        }
    }

    public void AttachSparseInitializer(Value value, SparseTensor tensor)
    {
        value.SparseInitializer = tensor;
        value.SetDeclaringGraph(this);
        if (!_initializers.Contains(value))
        {
            _initializers.Add(value);
        }
    }

    /// <summary>Removes an initializer (and the graph input of the same value, if any).</summary>
    public void RemoveInitializer(Value value)
    {
        _initializers.Remove(value);
        _inputs.Remove(value);
        value.Initializer = null;
        value.SparseInitializer = null;
    }

    /// <summary>Appends a node at the end of the list.</summary>
    public Node Append(Node node)
    {
        Adopt(node);
        _nodes.Add(node);
        return node;
    }

    /// <summary>Inserts a node at a position of the list.</summary>
    public Node Insert(int index, Node node)
    {
        Adopt(node);
        _nodes.Insert(index, node);
        return node;
    }

    /// <summary>Removes a node. Its outputs must be unused unless <paramref name="force"/>.</summary>
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

    /// <summary>Replaces the node order (same set of nodes), e.g. after a topological sort.</summary>
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

    /// <summary>This graph and all graphs nested in its nodes' attributes, outermost first.</summary>
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

    /// <summary>Values declared outside this graph (and its nested graphs) that its nodes read.</summary>
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

    /// <summary>Finds a value declared in this graph by name (inputs, initializers, node outputs).</summary>
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

    /// <summary>All names used by values in this graph and its subgraphs.</summary>
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

    public override string ToString() => $"graph '{Name}' ({_inputs.Count} inputs, {_initializers.Count} initializers, {_nodes.Count} nodes, {Outputs.Count} outputs)";
}
