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

    /// <summary>A builder that appends to <paramref name="graph"/>. It takes the names of all values and nodes of the root graph (and all its subgraphs) now; names added to the model later other than through this builder are not seen.</summary>
    /// <param name="graph">The graph to append to (a main graph or a subgraph).</param>
    /// <param name="opset">The model's ai.onnx opset version (<see cref="Model.OpsetVersion"/>).</param>
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

    /// <summary>Prefix of generated value and node names (e.g. "grad/"); "" by default.</summary>
    public string NamePrefix { get; set; } = "";

    /// <summary>A name no value or node of the root graph uses yet, reserved from now on: <see cref="NamePrefix"/> + <paramref name="hint"/>, with a numeric suffix when that is taken.</summary>
    /// <param name="hint">The readable part of the name.</param>
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

    /// <summary>Appends a standard (ai.onnx) node with <paramref name="outputCount"/> fresh outputs and a fresh node name, and infers the types of its outputs from those of its inputs where a shape-inference rule exists.</summary>
    /// <param name="opType">The operator, e.g. "Relu".</param>
    /// <param name="inputs">The inputs; null for an omitted optional input.</param>
    /// <param name="outputCount">How many outputs to create.</param>
    /// <param name="attributes">The attributes; null for none.</param>
    /// <returns>The new node, already in <see cref="Graph"/>.</returns>
    public Node AppendNode(string opType, IEnumerable<Value?> inputs, int outputCount, IEnumerable<Attribute>? attributes = null) =>
        AppendNode("", opType, inputs, outputCount, attributes);

    /// <summary>
    /// Appends a node of any domain with <paramref name="outputCount"/> fresh outputs; types are inferred for ai.onnx ops only. The model must import <paramref name="domain"/> (<see cref="Model.SetOpsetVersion"/>).
    /// </summary>
    /// <param name="domain">The operator set domain; "" for the standard operators.</param>
    /// <param name="opType">The operator.</param>
    /// <param name="inputs">The inputs; null for an omitted optional input.</param>
    /// <param name="outputCount">How many outputs to create.</param>
    /// <param name="attributes">The attributes; null for none.</param>
    /// <returns>The new node, already in <see cref="Graph"/>.</returns>
    public Node AppendNode(string domain, string opType, IEnumerable<Value?> inputs, int outputCount, IEnumerable<Attribute>? attributes = null)
    {
        var outputs = Enumerable.Range(0, outputCount).Select(i => FreshName(outputCount == 1 ? opType : $"{opType}_out{i}")).ToArray();
        var node = new Node(domain, opType, inputs, outputs, attributes, FreshName(opType + "_node"));
        Graph.Append(node);
        ShapeInference.InferNode(node, Opset);
        return node;
    }

    /// <summary>Appends a single-output standard node (as <see cref="AppendNode(string, IEnumerable{Value?}, int, IEnumerable{Attribute}?)"/>) and returns its output.</summary>
    /// <param name="opType">The operator.</param>
    /// <param name="inputs">The inputs; null for an omitted optional input.</param>
    /// <param name="attributes">The attributes.</param>
    public Value Op(string opType, IEnumerable<Value?> inputs, params Attribute[] attributes) =>
        AppendNode(opType, inputs, 1, attributes).Output;

    /// <summary>Appends a standard node with <paramref name="outputCount"/> outputs and returns them in order.</summary>
    /// <param name="opType">The operator.</param>
    /// <param name="outputCount">How many outputs to create.</param>
    /// <param name="inputs">The inputs; null for an omitted optional input.</param>
    /// <param name="attributes">The attributes.</param>
    public Value[] Op(string opType, int outputCount, IEnumerable<Value?> inputs, params Attribute[] attributes) =>
        AppendNode(opType, inputs, outputCount, attributes).Outputs.Select(v => v!).ToArray();

    /// <summary>Adds a graph initializer holding <paramref name="tensor"/>'s payload under a fresh name derived from its name ("init" when it has none); <paramref name="tensor"/> itself is not changed.</summary>
    /// <param name="tensor">The constant.</param>
    /// <returns>The new initializer value.</returns>
    public Value Initializer(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        return Graph.AddInitializer(tensor.WithName(FreshName(string.IsNullOrEmpty(tensor.Name) ? "init" : tensor.Name)));
    }

    /// <summary>Appends a Constant node whose value attribute is <paramref name="tensor"/> and returns its output.</summary>
    /// <param name="tensor">The constant.</param>
    public Value Constant(Tensor tensor) => Op("Constant", [], Attribute.FromTensor("value", tensor));

    /// <summary>A rank-0 float Constant.</summary>
    /// <param name="value">The value.</param>
    public Value Scalar(float value) => Constant(Tensor.Scalar(value));

    /// <summary>A rank-0 int64 Constant.</summary>
    /// <param name="value">The value.</param>
    public Value Scalar(long value) => Constant(Tensor.Scalar(value));

    /// <summary>A 1-D int64 Constant, e.g. a shape or axes input.</summary>
    /// <param name="values">The elements.</param>
    public Value Ints(params long[] values) => Constant(Tensor.FromArray(values, [values.Length]));

    /// <summary>A Constant of element type <paramref name="type"/> (rounding as <see cref="Tensor.FromDoubles"/> defines it).</summary>
    /// <param name="type">An element type that holds numbers (<see cref="ElementTypes.HoldsNumbers"/>).</param>
    /// <param name="values">The elements in row-major order.</param>
    /// <param name="dims">The shape.</param>
    /// <exception cref="NotSupportedException">The type cannot be made from numbers.</exception>
    /// <exception cref="ArgumentException">The shape does not hold <c>values.Length</c> elements.</exception>
    public Value Constant(ElementType type, double[] values, long[] dims) => Constant(Tensor.FromDoubles(type, values, dims));

    /// <summary>A rank-0 Constant of element type <paramref name="type"/> (rounding as <see cref="Tensor.FromDoubles"/> defines it).</summary>
    /// <param name="value">The value.</param>
    /// <param name="type">An element type that holds numbers (<see cref="ElementTypes.HoldsNumbers"/>).</param>
    /// <exception cref="NotSupportedException">The type cannot be made from numbers.</exception>
    public Value Scalar(double value, ElementType type) => Constant(Tensor.Scalar(type, value));

    /// <summary>
    /// A rank-0 value of the element type of <paramref name="like"/>: a Constant of that type when it is known
    /// and holds numbers (<see cref="ElementTypes.HoldsNumbers"/>), else a float Constant converted by
    /// <see cref="CastLike"/>.
    /// </summary>
    /// <param name="value">The value.</param>
    /// <param name="like">The value whose element type to take.</param>
    /// <exception cref="ImplicitRegException"><see cref="ErrorKind.Unsupported"/>: the type of <paramref name="like"/> is unknown and the opset is below 15 (no CastLike).</exception>
    public Value ScalarLike(double value, Value like) => ConstantLike([value], [], like);

    /// <summary>A constant tensor of the element type of <paramref name="like"/> (made as <see cref="ScalarLike"/> makes scalars).</summary>
    /// <param name="values">The elements in row-major order.</param>
    /// <param name="dims">The shape.</param>
    /// <param name="like">The value whose element type to take.</param>
    /// <exception cref="ImplicitRegException"><see cref="ErrorKind.Unsupported"/>: the type of <paramref name="like"/> is unknown and the opset is below 15.</exception>
    public Value ConstantLike(double[] values, long[] dims, Value like)
    {
        ArgumentNullException.ThrowIfNull(like);
        return like.ElementType.HoldsNumbers()
            ? Constant(like.ElementType, values, dims)
            : CastLike(Constant(ElementType.Float, values, dims), like);
    }

    /// <summary>A tensor of the shape (at run time) and element type of <paramref name="like"/> with every element <paramref name="value"/>.</summary>
    /// <param name="value">The fill value.</param>
    /// <param name="like">The value whose shape and element type to take.</param>
    /// <exception cref="ImplicitRegException"><see cref="ErrorKind.Unsupported"/>: the type of <paramref name="like"/> is unknown and the opset is below 15.</exception>
    public Value FillLike(double value, Value like) => Expand(ScalarLike(value, like), Shape(like));

    /// <summary>
    /// <paramref name="value"/> converted to the element type of <paramref name="like"/>: itself when the
    /// types already agree, CastLike from opset 15, before that a Cast to <paramref name="like"/>'s statically
    /// known type.
    /// </summary>
    /// <param name="value">The value to convert.</param>
    /// <param name="like">The value whose element type to take.</param>
    /// <exception cref="ImplicitRegException"><see cref="ErrorKind.Unsupported"/>: the opset is below 15 and the element type of <paramref name="like"/> is unknown.</exception>
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

    /// <summary>Appends <c>Add(a, b)</c> (elementwise, broadcasting) and returns its output.</summary>
    /// <param name="a">The first operand.</param>
    /// <param name="b">The second operand.</param>
    public Value Add(Value a, Value b) => Op("Add", [a, b]);

    /// <summary>Appends <c>Sub(a, b)</c>, a − b elementwise with broadcasting, and returns its output.</summary>
    /// <param name="a">The minuend.</param>
    /// <param name="b">The subtrahend.</param>
    public Value Sub(Value a, Value b) => Op("Sub", [a, b]);

    /// <summary>Appends <c>Mul(a, b)</c> (elementwise, broadcasting) and returns its output.</summary>
    /// <param name="a">The first factor.</param>
    /// <param name="b">The second factor.</param>
    public Value Mul(Value a, Value b) => Op("Mul", [a, b]);

    /// <summary>Appends <c>Div(a, b)</c>, a / b elementwise with broadcasting, and returns its output.</summary>
    /// <param name="a">The dividend.</param>
    /// <param name="b">The divisor.</param>
    public Value Div(Value a, Value b) => Op("Div", [a, b]);

    /// <summary>Appends <c>Neg(x)</c> and returns its output.</summary>
    /// <param name="x">The input.</param>
    public Value Neg(Value x) => Op("Neg", [x]);

    /// <summary>Appends <c>MatMul(a, b)</c> (numpy matmul semantics) and returns its output.</summary>
    /// <param name="a">The left operand.</param>
    /// <param name="b">The right operand.</param>
    public Value MatMul(Value a, Value b) => Op("MatMul", [a, b]);

    /// <summary>Appends <c>Identity(x)</c> (e.g. to give a value a second name) and returns its output.</summary>
    /// <param name="x">The input.</param>
    public Value Identity(Value x) => Op("Identity", [x]);

    /// <summary>Appends <c>Shape(x)</c>, the run-time shape as a 1-D int64 tensor, and returns its output.</summary>
    /// <param name="x">The input.</param>
    public Value Shape(Value x) => Op("Shape", [x]);

    /// <summary>Appends <c>Cast(x, to)</c> and returns its output.</summary>
    /// <param name="x">The input.</param>
    /// <param name="to">The element type to convert to.</param>
    public Value Cast(Value x, ElementType to) => Op("Cast", [x], Attribute.Int("to", (long)to));

    /// <summary>Appends <c>Transpose(x)</c> with the permutation <paramref name="perm"/> (none: reverse the axes, the operator's default) and returns its output.</summary>
    /// <param name="x">The input.</param>
    /// <param name="perm">Output axis i is input axis perm[i]; empty for the reversal.</param>
    public Value Transpose(Value x, params long[] perm) =>
        perm.Length == 0 ? Op("Transpose", [x]) : Op("Transpose", [x], Attribute.Ints("perm", perm));

    /// <summary>Reshape to a run-time shape (e.g. the output of <see cref="Shape"/>).</summary>
    /// <param name="x">The input.</param>
    /// <param name="shape">A 1-D int64 value; 0 and -1 as in the ONNX operator spec.</param>
    public Value Reshape(Value x, Value shape) => Op("Reshape", [x, shape]);

    /// <summary>Reshape to constant dims (0 copies the input's size, -1 is inferred, as in the ONNX operator spec).</summary>
    /// <param name="x">The input.</param>
    /// <param name="shape">The new dims.</param>
    public Value Reshape(Value x, params long[] shape) => Reshape(x, Ints(shape));

    /// <summary>Appends <c>Expand(x, shape)</c> (broadcast to a shape) and returns its output.</summary>
    /// <param name="x">The input.</param>
    /// <param name="shape">A 1-D int64 value.</param>
    public Value Expand(Value x, Value shape) => Op("Expand", [x, shape]);

    /// <summary>ReduceSum over constant axes: an axes input from opset 13, the axes attribute before.</summary>
    /// <param name="x">The input.</param>
    /// <param name="axes">The axes to sum over (negative counts from the end); empty sums over all axes.</param>
    /// <param name="keepDims">Keep the reduced axes with size 1.</param>
    public Value ReduceSum(Value x, long[] axes, bool keepDims = true)
    {
        var keep = Attribute.Int("keepdims", keepDims ? 1 : 0);
        return Opset >= 13
            ? Op("ReduceSum", [x, Ints(axes)], keep)
            : Op("ReduceSum", [x], keep, Attribute.Ints("axes", axes));
    }

    /// <summary>Unsqueeze at constant axes: an axes input from opset 13, the axes attribute before.</summary>
    /// <param name="x">The input.</param>
    /// <param name="axes">Where the new size-1 axes go, in the output's numbering.</param>
    public Value Unsqueeze(Value x, params long[] axes) => Opset >= 13
        ? Op("Unsqueeze", [x, Ints(axes)])
        : Op("Unsqueeze", [x], Attribute.Ints("axes", axes));
}
