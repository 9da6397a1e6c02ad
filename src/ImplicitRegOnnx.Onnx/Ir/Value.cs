namespace ImplicitRegOnnx.Onnx;

/// <summary>A place where a value is consumed: input <see cref="InputIndex"/> of <see cref="Node"/>.</summary>
public readonly record struct Use(Node Node, int InputIndex);

/// <summary>
/// A named value of a graph: a graph input, an initializer (constant), or an output of a node.
/// Each value knows its producer and its uses, so passes can rewrite the graph without name lookups.
/// </summary>
public sealed class Value
{
    private readonly List<Use> _uses = [];
    private Graph? _declaringGraph;

    public Value(string name, OnnxType? type = null)
    {
        Name = name;
        Type = type;
    }

    /// <summary>The name in the file; unique within the graph and the graphs it encloses.</summary>
    public string Name { get; set; }

    /// <summary>Declared or inferred type; null when unknown.</summary>
    public OnnxType? Type { get; set; }

    /// <summary>The type when it is a tensor type, else null.</summary>
    public TensorType? TensorType => Type as TensorType;

    /// <summary>The element type when known.</summary>
    public ElementType ElementType => TensorType?.ElementType ?? ElementType.Undefined;

    /// <summary>The shape when known (null: unknown rank).</summary>
    public Shape? Shape => TensorType?.Shape;

    /// <summary>The node that computes this value, or null for graph inputs and initializers.</summary>
    public Node? Producer { get; internal set; }

    /// <summary>Which output of <see cref="Producer"/> this is.</summary>
    public int ProducerOutputIndex { get; internal set; }

    /// <summary>The nodes that read this value (including nodes inside subgraphs).</summary>
    public IReadOnlyList<Use> Uses => _uses;

    /// <summary>The constant payload when this value is a graph initializer.</summary>
    public Tensor? Initializer { get; internal set; }

    /// <summary>The constant payload when this value is a sparse initializer.</summary>
    public SparseTensor? SparseInitializer { get; internal set; }

    /// <summary>The graph that declares this value (as input, initializer or node output), if any.</summary>
    public Graph? Graph => Producer?.Graph ?? _declaringGraph;

    /// <summary>Doc string of the value's ValueInfoProto.</summary>
    public string? DocString { get; set; }

    /// <summary>ValueInfoProto fields the IR does not model, kept for the round trip.</summary>
    internal byte[]? PreservedFields { get; set; }

    public bool IsInitializer => Initializer is not null || SparseInitializer is not null;

    public bool IsGraphInput => _declaringGraph?.Inputs.Contains(this) == true;

    public bool IsGraphOutput => Graph?.Outputs.Contains(this) == true;

    internal void SetDeclaringGraph(Graph? graph) => _declaringGraph = graph;

    internal void AddUse(Node node, int index) => _uses.Add(new Use(node, index));

    internal void RemoveUse(Node node, int index) => _uses.Remove(new Use(node, index));

    /// <summary>Points every use of this value (node inputs, graph outputs of its graph) at <paramref name="replacement"/>.</summary>
    public void ReplaceAllUsesWith(Value replacement)
    {
        if (ReferenceEquals(replacement, this))
        {
            return;
        }
        foreach (var use in _uses.ToArray())
        {
            use.Node.SetInput(use.InputIndex, replacement);
        }
        var graph = Graph;
        if (graph is not null)
        {
            for (var i = 0; i < graph.Outputs.Count; i++)
            {
                if (ReferenceEquals(graph.Outputs[i], this))
                {
                    graph.Outputs[i] = replacement;
                }
            }
        }
    }

    public override string ToString() => Type is null ? Name : $"{Name}: {Type}";
}
