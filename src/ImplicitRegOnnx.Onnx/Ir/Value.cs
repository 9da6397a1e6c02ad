namespace ImplicitRegOnnx.Onnx;

/// <summary>A place where a value is read: input <paramref name="InputIndex"/> of <paramref name="Node"/>.</summary>
/// <param name="Node">The node that reads the value (possibly inside a subgraph).</param>
/// <param name="InputIndex">The position in <see cref="Onnx.Node.Inputs"/>.</param>
public readonly record struct Use(Node Node, int InputIndex);

/// <summary>
/// A named value of a graph: a graph input, an initializer (constant), or an output of a node.
/// Each value knows its producer and its uses, so passes can rewrite the graph without name lookups.
/// </summary>
public sealed class Value
{
    private readonly List<Use> _uses = [];
    private Graph? _declaringGraph;

    /// <summary>A value that belongs to no graph yet: add it with <see cref="Onnx.Graph.AddInput(Value)"/> or <see cref="Onnx.Graph.AttachInitializer"/>. Node outputs are made by <see cref="Onnx.Node"/> itself.</summary>
    /// <param name="name">The name, unique in the model.</param>
    /// <param name="type">The type; null when unknown.</param>
    public Value(string name, OnnxType? type = null)
    {
        Name = name;
        Type = type;
    }

    /// <summary>The name in the file, unique within the graph and the graphs it encloses. Renaming does not update names stored elsewhere (e.g. a caller's feed dictionary).</summary>
    public string Name { get; set; }

    /// <summary>The declared or inferred type; null when unknown.</summary>
    public OnnxType? Type { get; set; }

    /// <summary>The type when it is a dense tensor type, else null (unknown, or a sequence, map, ...).</summary>
    public TensorType? TensorType => Type as TensorType;

    /// <summary>The element type of a tensor value; <see cref="Onnx.ElementType.Undefined"/> when unknown or not a tensor.</summary>
    public ElementType ElementType => TensorType?.ElementType ?? ElementType.Undefined;

    /// <summary>The shape of a tensor value; null when the rank is unknown or the value is not a tensor.</summary>
    public Shape? Shape => TensorType?.Shape;

    /// <summary>The node that computes this value; null for graph inputs and initializers.</summary>
    public Node? Producer { get; internal set; }

    /// <summary>Which output of <see cref="Producer"/> this is (0 when there is no producer).</summary>
    public int ProducerOutputIndex { get; internal set; }

    /// <summary>Every node input that reads this value, including those of nodes inside subgraphs; graph outputs are not uses (see <see cref="IsGraphOutput"/>).</summary>
    public IReadOnlyList<Use> Uses => _uses;

    /// <summary>The constant payload when this value is a dense initializer; null otherwise.</summary>
    public Tensor? Initializer { get; internal set; }

    /// <summary>The constant payload when this value is a sparse initializer; null otherwise.</summary>
    public SparseTensor? SparseInitializer { get; internal set; }

    /// <summary>The graph that declares this value (as input, initializer or node output); null while it is in none.</summary>
    public Graph? Graph => Producer?.Graph ?? _declaringGraph;

    /// <summary>The doc_string of the value's ValueInfoProto; null when none.</summary>
    public string? DocString { get; set; }

    /// <summary>ValueInfoProto fields the IR does not model, kept for the round trip.</summary>
    internal byte[]? PreservedFields { get; set; }

    /// <summary>Whether the value is a dense or sparse initializer.</summary>
    public bool IsInitializer => Initializer is not null || SparseInitializer is not null;

    /// <summary>Whether the value is an input of the graph that declares it.</summary>
    public bool IsGraphInput => _declaringGraph?.Inputs.Contains(this) == true;

    /// <summary>Whether the value is an output of its graph.</summary>
    public bool IsGraphOutput => Graph?.Outputs.Contains(this) == true;

    internal void SetDeclaringGraph(Graph? graph) => _declaringGraph = graph;

    internal void AddUse(Node node, int index) => _uses.Add(new Use(node, index));

    internal void RemoveUse(Node node, int index) => _uses.Remove(new Use(node, index));

    /// <summary>Points every node input that reads this value, and every output slot of its graph that names it, at <paramref name="replacement"/>; this value is then unused. A graph output so replaced takes the replacement's name. Nothing happens when both are the same value.</summary>
    /// <param name="replacement">The value to read instead, visible where this one is used.</param>
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

    /// <summary>The name, with the type when known, e.g. <c>x: float[batch,784]</c>.</summary>
    public override string ToString() => Type is null ? Name : $"{Name}: {Type}";
}
