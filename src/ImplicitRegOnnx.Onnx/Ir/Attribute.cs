using System.Text;

namespace ImplicitRegOnnx.Onnx;

/// <summary>Attribute kinds; the numbers are those of AttributeProto.AttributeType in the ONNX IR spec.</summary>
public enum AttributeKind
{
    /// <summary>0: no type was set in the file (only valid together with a reference, <see cref="Attribute.RefAttrName"/>).</summary>
    Undefined = 0,
    /// <summary>1 (FLOAT): one 32-bit float.</summary>
    Float = 1,
    /// <summary>2 (INT): one 64-bit integer.</summary>
    Int = 2,
    /// <summary>3 (STRING): one byte string (UTF-8 by convention).</summary>
    String = 3,
    /// <summary>4 (TENSOR): one dense <see cref="Onnx.Tensor"/>.</summary>
    Tensor = 4,
    /// <summary>5 (GRAPH): one subgraph, e.g. a branch of If or the body of Loop.</summary>
    Graph = 5,
    /// <summary>6 (FLOATS): a list of 32-bit floats.</summary>
    Floats = 6,
    /// <summary>7 (INTS): a list of 64-bit integers.</summary>
    Ints = 7,
    /// <summary>8 (STRINGS): a list of byte strings.</summary>
    Strings = 8,
    /// <summary>9 (TENSORS): a list of dense tensors.</summary>
    Tensors = 9,
    /// <summary>10 (GRAPHS): a list of subgraphs.</summary>
    Graphs = 10,
    /// <summary>11 (SPARSE_TENSOR): one <see cref="Onnx.SparseTensor"/>.</summary>
    SparseTensor = 11,
    /// <summary>12 (SPARSE_TENSORS): a list of sparse tensors.</summary>
    SparseTensors = 12,
    /// <summary>13 (TYPE_PROTO): one <see cref="OnnxType"/>.</summary>
    TypeProto = 13,
    /// <summary>14 (TYPE_PROTOS): a list of types.</summary>
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

    /// <summary>The attribute's name, unique among the attributes of its node (e.g. "axis", "perm").</summary>
    public string Name { get; }

    /// <summary>Which kind of payload the attribute holds; for a reference, the kind the caller's attribute must have.</summary>
    public AttributeKind Kind { get; }

    /// <summary>
    /// The value, as the factory methods store it: <see cref="float"/> for <see cref="AttributeKind.Float"/>, <see cref="long"/>
    /// for Int, <c>byte[]</c> for String, <see cref="Onnx.Tensor"/>, <see cref="Onnx.Graph"/>, <see cref="Onnx.SparseTensor"/> or
    /// <see cref="OnnxType"/> for the single kinds, and an array of the element (<c>float[]</c>, <c>long[]</c>, <c>byte[][]</c>, ...)
    /// for the list kinds. Null only for a reference (<see cref="RefAttrName"/> set). Prefer the typed accessors (<see cref="AsInt"/>, ...).
    /// </summary>
    public object? Payload { get; }

    /// <summary>Inside a function body: the name of the calling node's attribute whose value this one takes (ref_attr_name); null for an attribute with its own value.</summary>
    public string? RefAttrName { get; init; }

    /// <summary>The attribute's doc_string; null when the file has none.</summary>
    public string? DocString { get; set; }

    /// <summary>Fields the IR does not model, kept for the round trip.</summary>
    internal byte[]? PreservedFields { get; set; }

    /// <summary>A FLOAT attribute.</summary>
    /// <param name="name">The attribute's name.</param>
    /// <param name="value">The value.</param>
    public static Attribute Float(string name, float value) => new(name, AttributeKind.Float, value);

    /// <summary>An INT attribute.</summary>
    /// <param name="name">The attribute's name.</param>
    /// <param name="value">The value.</param>
    public static Attribute Int(string name, long value) => new(name, AttributeKind.Int, value);

    /// <summary>A STRING attribute holding <paramref name="value"/> encoded as UTF-8.</summary>
    /// <param name="name">The attribute's name.</param>
    /// <param name="value">The text.</param>
    public static Attribute String(string name, string value) => new(name, AttributeKind.String, Encoding.UTF8.GetBytes(value));

    /// <summary>A STRING attribute holding arbitrary bytes (not necessarily UTF-8); the array is kept, not copied.</summary>
    /// <param name="name">The attribute's name.</param>
    /// <param name="value">The bytes.</param>
    public static Attribute Bytes(string name, byte[] value) => new(name, AttributeKind.String, value);

    /// <summary>A TENSOR attribute (e.g. the "value" of a Constant node).</summary>
    /// <param name="name">The attribute's name.</param>
    /// <param name="value">The tensor, kept by reference.</param>
    public static Attribute FromTensor(string name, Tensor value) => new(name, AttributeKind.Tensor, value);

    /// <summary>A GRAPH attribute. Setting it on a node (<see cref="Node.SetAttribute"/>) makes that node the graph's <see cref="Onnx.Graph.ParentNode"/>.</summary>
    /// <param name="name">The attribute's name, e.g. "then_branch" or "body".</param>
    /// <param name="value">The subgraph, kept by reference.</param>
    public static Attribute FromGraph(string name, Graph value) => new(name, AttributeKind.Graph, value);

    /// <summary>A SPARSE_TENSOR attribute.</summary>
    /// <param name="name">The attribute's name.</param>
    /// <param name="value">The sparse tensor, kept by reference.</param>
    public static Attribute FromSparseTensor(string name, SparseTensor value) => new(name, AttributeKind.SparseTensor, value);

    /// <summary>A TYPE_PROTO attribute.</summary>
    /// <param name="name">The attribute's name.</param>
    /// <param name="value">The type.</param>
    public static Attribute FromType(string name, OnnxType value) => new(name, AttributeKind.TypeProto, value);

    /// <summary>A FLOATS attribute; the values are copied.</summary>
    /// <param name="name">The attribute's name.</param>
    /// <param name="values">The values in order.</param>
    public static Attribute Floats(string name, IEnumerable<float> values) => new(name, AttributeKind.Floats, values.ToArray());

    /// <summary>An INTS attribute (e.g. "perm", "axes", "pads"); the values are copied.</summary>
    /// <param name="name">The attribute's name.</param>
    /// <param name="values">The values in order.</param>
    public static Attribute Ints(string name, IEnumerable<long> values) => new(name, AttributeKind.Ints, values.ToArray());

    /// <summary>A STRINGS attribute, each string encoded as UTF-8.</summary>
    /// <param name="name">The attribute's name.</param>
    /// <param name="values">The texts in order.</param>
    public static Attribute Strings(string name, IEnumerable<string> values) =>
        new(name, AttributeKind.Strings, values.Select(Encoding.UTF8.GetBytes).ToArray());

    /// <summary>A STRINGS attribute of arbitrary byte strings (the list is copied, the arrays are not).</summary>
    /// <param name="name">The attribute's name.</param>
    /// <param name="values">The byte strings in order.</param>
    public static Attribute ByteStrings(string name, IEnumerable<byte[]> values) => new(name, AttributeKind.Strings, values.ToArray());

    /// <summary>A TENSORS attribute.</summary>
    /// <param name="name">The attribute's name.</param>
    /// <param name="values">The tensors in order.</param>
    public static Attribute Tensors(string name, IEnumerable<Tensor> values) => new(name, AttributeKind.Tensors, values.ToArray());

    /// <summary>A GRAPHS attribute.</summary>
    /// <param name="name">The attribute's name.</param>
    /// <param name="values">The subgraphs in order.</param>
    public static Attribute Graphs(string name, IEnumerable<Graph> values) => new(name, AttributeKind.Graphs, values.ToArray());

    /// <summary>A SPARSE_TENSORS attribute.</summary>
    /// <param name="name">The attribute's name.</param>
    /// <param name="values">The sparse tensors in order.</param>
    public static Attribute SparseTensors(string name, IEnumerable<SparseTensor> values) => new(name, AttributeKind.SparseTensors, values.ToArray());

    /// <summary>A TYPE_PROTOS attribute.</summary>
    /// <param name="name">The attribute's name.</param>
    /// <param name="values">The types in order.</param>
    public static Attribute Types(string name, IEnumerable<OnnxType> values) => new(name, AttributeKind.TypeProtos, values.ToArray());

    /// <summary>An attribute of a node inside a function body that takes the value of the calling node's attribute <paramref name="refAttrName"/> (ref_attr_name); its <see cref="Payload"/> is null.</summary>
    /// <param name="name">The attribute's name on the node inside the body.</param>
    /// <param name="kind">The kind the caller's attribute has.</param>
    /// <param name="refAttrName">The name of the function's attribute it refers to.</param>
    public static Attribute Reference(string name, AttributeKind kind, string refAttrName) =>
        new(name, kind, null) { RefAttrName = refAttrName };

    /// <summary>The value of a FLOAT attribute.</summary>
    /// <exception cref="ImplicitRegException"><see cref="ErrorKind.BadInput"/>: the attribute is of another kind (or a reference).</exception>
    public float AsFloat() => Payload is float f ? f : throw Mismatch(AttributeKind.Float);

    /// <summary>The value of an INT attribute.</summary>
    /// <exception cref="ImplicitRegException"><see cref="ErrorKind.BadInput"/>: the attribute is of another kind (or a reference).</exception>
    public long AsInt() => Payload is long i ? i : throw Mismatch(AttributeKind.Int);

    /// <summary>The value of a STRING attribute decoded as UTF-8 (invalid sequences become U+FFFD).</summary>
    /// <exception cref="ImplicitRegException"><see cref="ErrorKind.BadInput"/>: the attribute is of another kind (or a reference).</exception>
    public string AsString() => Payload is byte[] s ? Encoding.UTF8.GetString(s) : throw Mismatch(AttributeKind.String);

    /// <summary>The bytes of a STRING attribute (the stored array, not a copy).</summary>
    /// <exception cref="ImplicitRegException"><see cref="ErrorKind.BadInput"/>: the attribute is of another kind (or a reference).</exception>
    public byte[] AsBytes() => Payload as byte[] ?? throw Mismatch(AttributeKind.String);

    /// <summary>The tensor of a TENSOR attribute.</summary>
    /// <exception cref="ImplicitRegException"><see cref="ErrorKind.BadInput"/>: the attribute is of another kind (or a reference).</exception>
    public Tensor AsTensor() => Payload as Tensor ?? throw Mismatch(AttributeKind.Tensor);

    /// <summary>The subgraph of a GRAPH attribute.</summary>
    /// <exception cref="ImplicitRegException"><see cref="ErrorKind.BadInput"/>: the attribute is of another kind (or a reference).</exception>
    public Graph AsGraph() => Payload as Graph ?? throw Mismatch(AttributeKind.Graph);

    /// <summary>The values of a FLOATS attribute.</summary>
    /// <exception cref="ImplicitRegException"><see cref="ErrorKind.BadInput"/>: the attribute is of another kind (or a reference).</exception>
    public IReadOnlyList<float> AsFloats() => Payload as float[] ?? throw Mismatch(AttributeKind.Floats);

    /// <summary>The values of an INTS attribute.</summary>
    /// <exception cref="ImplicitRegException"><see cref="ErrorKind.BadInput"/>: the attribute is of another kind (or a reference).</exception>
    public IReadOnlyList<long> AsInts() => Payload as long[] ?? throw Mismatch(AttributeKind.Ints);

    /// <summary>The values of a STRINGS attribute decoded as UTF-8 (a new list each call).</summary>
    /// <exception cref="ImplicitRegException"><see cref="ErrorKind.BadInput"/>: the attribute is of another kind (or a reference).</exception>
    public IReadOnlyList<string> AsStrings() =>
        Payload is byte[][] s ? s.Select(Encoding.UTF8.GetString).ToArray() : throw Mismatch(AttributeKind.Strings);

    /// <summary>Subgraphs held by this attribute (GRAPH or GRAPHS), else none.</summary>
    public IEnumerable<Graph> Subgraphs => Payload switch
    {
        Graph g => [g],
        Graph[] gs => gs,
        _ => [],
    };

    // A model whose attribute has the wrong kind for its operator is bad input, not a bug of the caller.
    private ImplicitRegException Mismatch(AttributeKind wanted) => ImplicitRegException.BadInput(RefAttrName is null
        ? $"attribute '{Name}' is {Kind}, not {wanted}; give it the type the operator's spec requires"
        : $"attribute '{Name}' refers to the function attribute '{RefAttrName}' and has no value of its own; inline the function first");

    /// <summary>A short rendering for messages and debugging, e.g. <c>axis=1</c> or <c>perm=[0,2,1]</c>; not a serialization.</summary>
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
