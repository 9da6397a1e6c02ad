using System.Text;

namespace ImplicitRegOnnx.Onnx;

/// <summary>Attribute kinds; the numbers are those of AttributeProto.AttributeType in the ONNX IR spec.</summary>
public enum AttributeKind
{
    Undefined = 0,
    Float = 1,
    Int = 2,
    String = 3,
    Tensor = 4,
    Graph = 5,
    Floats = 6,
    Ints = 7,
    Strings = 8,
    Tensors = 9,
    Graphs = 10,
    SparseTensor = 11,
    SparseTensors = 12,
    TypeProto = 13,
    TypeProtos = 14,
}

/// <summary>
/// A named attribute of a node. Exactly one payload matches <see cref="Kind"/>; an attribute with a
/// <see cref="RefAttrName"/> (inside a function body) takes the caller's value instead.
/// </summary>
public sealed class Attribute
{
    private Attribute(string name, AttributeKind kind, object? payload)
    {
        Name = name;
        Kind = kind;
        Payload = payload;
    }

    public string Name { get; }

    public AttributeKind Kind { get; }

    /// <summary>float, long, byte[], Tensor, Graph, SparseTensor, OnnxType or a list of them, or null for references.</summary>
    public object? Payload { get; }

    /// <summary>Inside a function body: the name of the caller's attribute this one refers to.</summary>
    public string? RefAttrName { get; init; }

    public string? DocString { get; set; }

    /// <summary>Fields the IR does not model, kept for the round trip.</summary>
    internal byte[]? PreservedFields { get; set; }

    public static Attribute Float(string name, float value) => new(name, AttributeKind.Float, value);

    public static Attribute Int(string name, long value) => new(name, AttributeKind.Int, value);

    public static Attribute String(string name, string value) => new(name, AttributeKind.String, Encoding.UTF8.GetBytes(value));

    public static Attribute Bytes(string name, byte[] value) => new(name, AttributeKind.String, value);

    public static Attribute FromTensor(string name, Tensor value) => new(name, AttributeKind.Tensor, value);

    public static Attribute FromGraph(string name, Graph value) => new(name, AttributeKind.Graph, value);

    public static Attribute FromSparseTensor(string name, SparseTensor value) => new(name, AttributeKind.SparseTensor, value);

    public static Attribute FromType(string name, OnnxType value) => new(name, AttributeKind.TypeProto, value);

    public static Attribute Floats(string name, IEnumerable<float> values) => new(name, AttributeKind.Floats, values.ToArray());

    public static Attribute Ints(string name, IEnumerable<long> values) => new(name, AttributeKind.Ints, values.ToArray());

    public static Attribute Strings(string name, IEnumerable<string> values) =>
        new(name, AttributeKind.Strings, values.Select(Encoding.UTF8.GetBytes).ToArray());

    public static Attribute ByteStrings(string name, IEnumerable<byte[]> values) => new(name, AttributeKind.Strings, values.ToArray());

    public static Attribute Tensors(string name, IEnumerable<Tensor> values) => new(name, AttributeKind.Tensors, values.ToArray());

    public static Attribute Graphs(string name, IEnumerable<Graph> values) => new(name, AttributeKind.Graphs, values.ToArray());

    public static Attribute SparseTensors(string name, IEnumerable<SparseTensor> values) => new(name, AttributeKind.SparseTensors, values.ToArray());

    public static Attribute Types(string name, IEnumerable<OnnxType> values) => new(name, AttributeKind.TypeProtos, values.ToArray());

    /// <summary>A reference to the enclosing function's attribute (ref_attr_name).</summary>
    public static Attribute Reference(string name, AttributeKind kind, string refAttrName) =>
        new(name, kind, null) { RefAttrName = refAttrName };

    public float AsFloat() => Payload is float f ? f : throw Mismatch(AttributeKind.Float);

    public long AsInt() => Payload is long i ? i : throw Mismatch(AttributeKind.Int);

    public string AsString() => Payload is byte[] s ? Encoding.UTF8.GetString(s) : throw Mismatch(AttributeKind.String);

    public byte[] AsBytes() => Payload as byte[] ?? throw Mismatch(AttributeKind.String);

    public Tensor AsTensor() => Payload as Tensor ?? throw Mismatch(AttributeKind.Tensor);

    public Graph AsGraph() => Payload as Graph ?? throw Mismatch(AttributeKind.Graph);

    public IReadOnlyList<float> AsFloats() => Payload as float[] ?? throw Mismatch(AttributeKind.Floats);

    public IReadOnlyList<long> AsInts() => Payload as long[] ?? throw Mismatch(AttributeKind.Ints);

    public IReadOnlyList<string> AsStrings() =>
        Payload is byte[][] s ? s.Select(Encoding.UTF8.GetString).ToArray() : throw Mismatch(AttributeKind.Strings);

    /// <summary>Subgraphs held by this attribute (GRAPH or GRAPHS), else none.</summary>
    public IEnumerable<Graph> Subgraphs => Payload switch
    {
        Graph g => [g],
        Graph[] gs => gs,
        _ => [],
    };

    private InvalidOperationException Mismatch(AttributeKind wanted) =>
        new($"Attribute '{Name}' is {Kind}, not {wanted}.");

    public override string ToString() => Payload switch
    {
        float f => $"{Name}={f.ToString(System.Globalization.CultureInfo.InvariantCulture)}",
        long i => $"{Name}={i}",
        byte[] s => $"{Name}=\"{Encoding.UTF8.GetString(s)}\"",
        long[] ints => $"{Name}=[{string.Join(",", ints)}]",
        float[] fs => $"{Name}=[{string.Join(",", fs.Select(f => f.ToString(System.Globalization.CultureInfo.InvariantCulture)))}]",
        _ => $"{Name}:{Kind}",
    };
}
