namespace ImplicitRegOnnx.Onnx.Inference;

/// <summary>
/// What a shape rule sees of one node: its inputs' types and constant values, its attributes and the
/// opset, and where it puts the output types it could infer.
/// </summary>
internal sealed class InferenceContext(Node node, long opset)
{
    private readonly TensorType?[] _results = new TensorType?[node.Outputs.Count];

    public Node Node { get; } = node;

    public long Opset { get; } = opset;

    public int InputCount => Node.Inputs.Count;

    public int OutputCount => Node.Outputs.Count;

    /// <summary>Output types inferred so far (null: nothing inferred for that output).</summary>
    public IReadOnlyList<TensorType?> Results => _results;

    public bool HasInput(int index) => Node.Input(index) is not null;

    public bool HasOutput(int index) => index < Node.Outputs.Count && Node.Outputs[index] is not null;

    public TensorType? InputType(int index) => Node.Input(index)?.TensorType;

    public Shape? InputShape(int index) => InputType(index)?.Shape;

    public ElementType InputElementType(int index) => InputType(index)?.ElementType ?? ElementType.Undefined;

    public Tensor? ConstantInput(int index) => ConstantValue.TryGet(Node.Input(index));

    public long[]? ConstantInts(int index) => ConstantValue.TryGetInts(Node.Input(index));

    public long Int(string name, long defaultValue) => Node.GetInt(name, defaultValue);

    public string String(string name, string defaultValue) => Node.GetString(name, defaultValue);

    public IReadOnlyList<long>? Ints(string name) => Node.GetInts(name);

    public bool HasAttribute(string name) => Node.GetAttribute(name) is not null;

    /// <summary>Records an output type. An unknown element type records nothing: a type needs its element type.</summary>
    public void SetOutput(int index, ElementType elementType, Shape? shape)
    {
        if (index < _results.Length && elementType != ElementType.Undefined)
        {
            _results[index] = new TensorType(elementType, shape);
        }
    }

    public void SetOutput(int index, ElementType elementType, IEnumerable<Dim> dims) => SetOutput(index, elementType, new Shape(dims));

    /// <summary>Output <paramref name="index"/> has the type of input <paramref name="input"/>.</summary>
    public void PassThrough(int input = 0, int index = 0)
    {
        if (InputType(input) is { } type)
        {
            SetOutput(index, type.ElementType, type.Shape);
        }
    }
}
