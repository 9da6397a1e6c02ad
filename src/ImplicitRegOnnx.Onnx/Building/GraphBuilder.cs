using ImplicitRegOnnx.Onnx.Inference;

namespace ImplicitRegOnnx.Onnx.Building;

/// <summary>
/// Appends ai.onnx nodes to a graph with fresh, unique output names and infers each new node's output
/// types. Names are checked against every value name of the root graph (and all its subgraphs), taken
/// once when the builder is made and then tracked.
/// </summary>
public sealed class GraphBuilder
{
    private readonly HashSet<string> _names;
    private long _counter;

    public GraphBuilder(Graph graph, long opset)
    {
        ArgumentNullException.ThrowIfNull(graph);
        Graph = graph;
        Opset = opset;
        var root = graph;
        while (root.Parent is { } parent)
        {
            root = parent;
        }
        // Value and node names share one set: ONNX Runtime also requires unique node names.
        _names = root.CollectNames();
        foreach (var g in root.SelfAndSubgraphs())
        {
            foreach (var node in g.Nodes)
            {
                if (!string.IsNullOrEmpty(node.Name))
                {
                    _names.Add(node.Name);
                }
            }
        }
    }

    /// <summary>The graph nodes are appended to.</summary>
    public Graph Graph { get; }

    /// <summary>The ai.onnx opset the built nodes follow (decides e.g. whether axes are inputs or attributes).</summary>
    public long Opset { get; }

    /// <summary>Prefix of generated names, e.g. "grad/".</summary>
    public string NamePrefix { get; set; } = "";

    /// <summary>A name no value of the root graph uses yet, reserved from now on.</summary>
    public string FreshName(string hint)
    {
        var baseName = NamePrefix + hint;
        if (_names.Add(baseName))
        {
            return baseName;
        }
        string name;
        do
        {
            name = $"{baseName}_{++_counter}";
        }
        while (!_names.Add(name));
        return name;
    }

    /// <summary>Appends an ai.onnx node with <paramref name="outputCount"/> fresh outputs and infers their types.</summary>
    public Node AppendNode(string opType, IEnumerable<Value?> inputs, int outputCount, IEnumerable<Attribute>? attributes = null) =>
        AppendNode("", opType, inputs, outputCount, attributes);

    /// <summary>
    /// Appends a node of any domain with <paramref name="outputCount"/> fresh outputs; types are inferred for
    /// ai.onnx ops only. The model must import <paramref name="domain"/> (<see cref="Model.SetOpsetVersion"/>).
    /// </summary>
    public Node AppendNode(string domain, string opType, IEnumerable<Value?> inputs, int outputCount, IEnumerable<Attribute>? attributes = null)
    {
        var outputs = Enumerable.Range(0, outputCount).Select(i => FreshName(outputCount == 1 ? opType : $"{opType}_out{i}")).ToArray();
        var node = new Node(domain, opType, inputs, outputs, attributes, FreshName(opType + "_node"));
        Graph.Append(node);
        ShapeInference.InferNode(node, Opset);
        return node;
    }

    /// <summary>Appends a single-output node and returns its output.</summary>
    public Value Op(string opType, IEnumerable<Value?> inputs, params Attribute[] attributes) =>
        AppendNode(opType, inputs, 1, attributes).Output;

    /// <summary>Appends a multi-output node and returns its outputs.</summary>
    public Value[] Op(string opType, int outputCount, IEnumerable<Value?> inputs, params Attribute[] attributes) =>
        AppendNode(opType, inputs, outputCount, attributes).Outputs.Select(v => v!).ToArray();

    /// <summary>Adds a graph initializer under a fresh name derived from the tensor's name.</summary>
    public Value Initializer(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        return Graph.AddInitializer(tensor.WithName(FreshName(string.IsNullOrEmpty(tensor.Name) ? "init" : tensor.Name)));
    }

    /// <summary>A Constant node holding the tensor.</summary>
    public Value Constant(Tensor tensor) => Op("Constant", [], Attribute.FromTensor("value", tensor));

    public Value Scalar(float value) => Constant(Tensor.Scalar(value));

    public Value Scalar(long value) => Constant(Tensor.Scalar(value));

    /// <summary>A 1-D int64 constant, e.g. a shape or axes.</summary>
    public Value Ints(params long[] values) => Constant(Tensor.FromArray(values, [values.Length]));

    /// <summary>A Constant of element type <paramref name="type"/> (rounding as <see cref="Tensor.FromDoubles"/> defines it).</summary>
    public Value Constant(ElementType type, double[] values, long[] dims) => Constant(Tensor.FromDoubles(type, values, dims));

    /// <summary>A scalar Constant of element type <paramref name="type"/> (rounding as <see cref="Tensor.FromDoubles"/> defines it).</summary>
    public Value Scalar(double value, ElementType type) => Constant(Tensor.Scalar(type, value));

    /// <summary>
    /// A scalar with the element type of <paramref name="like"/>: a Constant of that type when it is known
    /// and holds numbers (<see cref="ElementTypes.HoldsNumbers"/>), else a float Constant converted by
    /// <see cref="CastLike"/>.
    /// </summary>
    public Value ScalarLike(double value, Value like) => ConstantLike([value], [], like);

    /// <summary>A constant tensor with the element type of <paramref name="like"/> (as <see cref="ScalarLike"/>).</summary>
    public Value ConstantLike(double[] values, long[] dims, Value like)
    {
        ArgumentNullException.ThrowIfNull(like);
        return like.ElementType.HoldsNumbers()
            ? Constant(like.ElementType, values, dims)
            : CastLike(Constant(ElementType.Float, values, dims), like);
    }

    /// <summary>A tensor of the shape and element type of <paramref name="like"/> filled with one value.</summary>
    public Value FillLike(double value, Value like) => Expand(ScalarLike(value, like), Shape(like));

    /// <summary>
    /// <paramref name="value"/> converted to the element type of <paramref name="like"/>: itself when the
    /// types already agree, CastLike from opset 15, before that a Cast to <paramref name="like"/>'s statically
    /// known type (an <see cref="ImplicitRegException"/> when that type is unknown).
    /// </summary>
    public Value CastLike(Value value, Value like)
    {
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(like);
        if (value.ElementType != ElementType.Undefined && value.ElementType == like.ElementType)
        {
            return value;
        }
        if (Opset >= 15)
        {
            return Op("CastLike", [value, like]);
        }
        if (like.ElementType == ElementType.Undefined)
        {
            throw ImplicitRegException.Unsupported(
                $"the element type of '{like.Name}' is unknown and opset {Opset} has no CastLike; run shape inference or use opset 15 or newer");
        }
        return Cast(value, like.ElementType);
    }

    public Value Add(Value a, Value b) => Op("Add", [a, b]);

    public Value Sub(Value a, Value b) => Op("Sub", [a, b]);

    public Value Mul(Value a, Value b) => Op("Mul", [a, b]);

    public Value Div(Value a, Value b) => Op("Div", [a, b]);

    public Value Neg(Value x) => Op("Neg", [x]);

    public Value MatMul(Value a, Value b) => Op("MatMul", [a, b]);

    public Value Identity(Value x) => Op("Identity", [x]);

    public Value Shape(Value x) => Op("Shape", [x]);

    public Value Cast(Value x, ElementType to) => Op("Cast", [x], Attribute.Int("to", (long)to));

    public Value Transpose(Value x, params long[] perm) =>
        perm.Length == 0 ? Op("Transpose", [x]) : Op("Transpose", [x], Attribute.Ints("perm", perm));

    /// <summary>Reshape to a shape value (e.g. the output of <see cref="Shape"/>).</summary>
    public Value Reshape(Value x, Value shape) => Op("Reshape", [x, shape]);

    /// <summary>Reshape to constant dims (0 and -1 as in the ONNX operator spec).</summary>
    public Value Reshape(Value x, params long[] shape) => Reshape(x, Ints(shape));

    public Value Expand(Value x, Value shape) => Op("Expand", [x, shape]);

    /// <summary>ReduceSum over constant axes: an axes input from opset 13, the axes attribute before.</summary>
    public Value ReduceSum(Value x, long[] axes, bool keepDims = true)
    {
        var keep = Attribute.Int("keepdims", keepDims ? 1 : 0);
        return Opset >= 13
            ? Op("ReduceSum", [x, Ints(axes)], keep)
            : Op("ReduceSum", [x], keep, Attribute.Ints("axes", axes));
    }

    /// <summary>Unsqueeze at constant axes: an axes input from opset 13, the axes attribute before.</summary>
    public Value Unsqueeze(Value x, params long[] axes) => Opset >= 13
        ? Op("Unsqueeze", [x, Ints(axes)])
        : Op("Unsqueeze", [x], Attribute.Ints("axes", axes));
}
