using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Onnx.Building;
using ImplicitRegOnnx.Onnx.Inference;

namespace ImplicitRegOnnx.Autodiff;

/// <summary>
/// What a gradient rule sees of one node: its inputs and outputs, the gradients flowing into its
/// outputs (null = zero, kept symbolic), which inputs need a gradient, and a builder to emit ops.
/// The helpers here are shared by all rule families so that no two rules repeat the same logic.
/// </summary>
public sealed class GradientContext
{
    private readonly IReadOnlyList<Value?> _outputGrads;
    private readonly bool[] _needs;
    private readonly Value?[] _inputGrads;

    internal GradientContext(Node node, GraphBuilder builder, IReadOnlyList<Value?> outputGrads, bool[] needs)
    {
        Node = node;
        B = builder;
        _outputGrads = outputGrads;
        _needs = needs;
        _inputGrads = new Value?[node.Inputs.Count];
    }

    /// <summary>The node being differentiated.</summary>
    public Node Node { get; }

    /// <summary>Appends the backward ops (fresh names, inferred types).</summary>
    public GraphBuilder B { get; }

    /// <summary>The ai.onnx opset of the model being differentiated; rules emit nodes of that version (e.g. axes as an input from 13, CastLike from 15).</summary>
    public long Opset => B.Opset;

    /// <summary>Forward input <paramref name="index"/> of <see cref="Node"/>.</summary>
    /// <param name="index">From 0.</param>
    /// <exception cref="InvalidOperationException">The input is omitted (check optional ones with <see cref="HasInput"/>).</exception>
    public Value X(int index = 0) => Node.Input(index) ?? throw new InvalidOperationException($"{Describe()}: input {index} is absent.");

    /// <summary>Forward output <paramref name="index"/> of <see cref="Node"/>, e.g. to reuse <c>y = tanh(x)</c> in its derivative.</summary>
    /// <param name="index">From 0.</param>
    /// <exception cref="InvalidOperationException">The output is omitted.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The node has fewer outputs.</exception>
    public Value Y(int index = 0) => Node.Outputs[index] ?? throw new InvalidOperationException($"{Describe()}: output {index} is absent.");

    /// <summary>Whether forward input <paramref name="index"/> is given (optional inputs may be omitted or left off the end).</summary>
    /// <param name="index">From 0.</param>
    public bool HasInput(int index) => Node.Input(index) is not null;

    /// <summary>The gradient flowing into output <paramref name="index"/> (same shape as that output), or null when it is zero.</summary>
    /// <param name="index">From 0.</param>
    public Value? OutputGrad(int index = 0) => index < _outputGrads.Count ? _outputGrads[index] : null;

    /// <summary>The gradient of the first output; rules of single-output ops run only when it is not zero.</summary>
    /// <exception cref="InvalidOperationException">That gradient is zero (the rule of a multi-output op should use <see cref="OutputGrad"/>).</exception>
    public Value Dy => OutputGrad(0) ?? throw new InvalidOperationException($"{Describe()}: the output gradient is zero; the engine should not have called the rule.");

    /// <summary>The gradient of output <paramref name="index"/>, materialised as zeros of that output's shape and type when it is zero.</summary>
    /// <param name="index">From 0.</param>
    public Value OutputGradOrZeros(int index) => OutputGrad(index) ?? ZerosLike(Y(index));

    /// <summary>Whether the gradient of input <paramref name="index"/> is wanted (the input depends on what is differentiated); false for inputs beyond the node's.</summary>
    /// <param name="index">From 0.</param>
    public bool Needs(int index) => index < _needs.Length && _needs[index];

    /// <summary>True when any input's gradient is wanted.</summary>
    public bool NeedsAny => Array.Exists(_needs, n => n);

    /// <summary>Records the gradient of input <paramref name="index"/>, of that input's shape; a second call for the same input adds to the first. Ignored when <paramref name="gradient"/> is null (zero) or the input's gradient is not wanted.</summary>
    /// <param name="index">From 0.</param>
    /// <param name="gradient">The gradient, or null for zero.</param>
    public void SetGrad(int index, Value? gradient)
    {
        if (gradient is null || !Needs(index))
        {
            return;
        }
        _inputGrads[index] = _inputGrads[index] is { } previous ? B.Add(previous, gradient) : gradient;
    }

    /// <summary>Records the gradient of an input that the operator broadcasts (numpy rules): <paramref name="gradient"/>, of the output's shape, is summed over the broadcast axes back to the input's shape first.</summary>
    /// <param name="index">From 0.</param>
    /// <param name="gradient">The gradient at the output's shape, or null for zero.</param>
    public void SetGradUnbroadcast(int index, Value? gradient)
    {
        if (gradient is not null && Needs(index))
        {
            SetGrad(index, Broadcasting.SumToShapeOf(B, gradient, X(index)));
        }
    }

    internal IReadOnlyList<Value?> InputGrads => _inputGrads;

    // ---- attributes and constant inputs ----

    /// <summary>The node's INT attribute <paramref name="name"/>, or <paramref name="defaultValue"/> (the operator's default) when absent.</summary>
    /// <param name="name">The attribute's name.</param>
    /// <param name="defaultValue">The operator spec's default.</param>
    /// <exception cref="ImplicitRegException"><see cref="ErrorKind.BadInput"/>: the attribute is of another kind.</exception>
    public long Int(string name, long defaultValue) => Node.GetInt(name, defaultValue);

    /// <summary>The node's FLOAT attribute <paramref name="name"/>, or <paramref name="defaultValue"/> when absent.</summary>
    /// <param name="name">The attribute's name.</param>
    /// <param name="defaultValue">The operator spec's default.</param>
    /// <exception cref="ImplicitRegException"><see cref="ErrorKind.BadInput"/>: the attribute is of another kind.</exception>
    public float Float(string name, float defaultValue) => Node.GetFloat(name, defaultValue);

    /// <summary>The node's STRING attribute <paramref name="name"/> (UTF-8), or <paramref name="defaultValue"/> when absent.</summary>
    /// <param name="name">The attribute's name.</param>
    /// <param name="defaultValue">The operator spec's default.</param>
    /// <exception cref="ImplicitRegException"><see cref="ErrorKind.BadInput"/>: the attribute is of another kind.</exception>
    public string String(string name, string defaultValue) => Node.GetString(name, defaultValue);

    /// <summary>The node's INTS attribute <paramref name="name"/>, or null when absent.</summary>
    /// <param name="name">The attribute's name.</param>
    /// <exception cref="ImplicitRegException"><see cref="ErrorKind.BadInput"/>: the attribute is of another kind.</exception>
    public IReadOnlyList<long>? Ints(string name) => Node.GetInts(name);

    /// <summary>The values of integer input <paramref name="index"/> (axes, shapes, pads, ...) when they are known while building: an initializer that is not also a graph input, a Constant's output, or such constants only rearranged (Reshape, Unsqueeze, Concat, Cast to int64, ...); null otherwise (computed at run time, not integers, or omitted).</summary>
    /// <param name="index">From 0.</param>
    public long[]? ConstantInts(int index) => ConstantValue.TryGetInts(Node.Input(index));

    // ---- constants and shapes, typed like the values they combine with ----

    /// <summary>A rank-0 constant with the element type of <paramref name="like"/> (<see cref="GraphBuilder.ScalarLike"/>).</summary>
    /// <param name="value">The value.</param>
    /// <param name="like">The value whose element type to take.</param>
    public Value Scalar(double value, Value like) => B.ScalarLike(value, like);

    /// <summary>
    /// <paramref name="value"/> converted to the element type of <paramref name="like"/>: CastLike from
    /// opset 15 (ONNX operator spec), a Cast to the statically known type before that (<see cref="GraphBuilder.CastLike"/>).
    /// </summary>
    /// <param name="value">The value to convert.</param>
    /// <param name="like">The value whose element type to take.</param>
    /// <exception cref="ImplicitRegException"><see cref="ErrorKind.Unsupported"/>: below opset 15 with the type of <paramref name="like"/> unknown.</exception>
    public Value CastLike(Value value, Value like) => B.CastLike(value, like);

    /// <summary>A per-channel vector [C] viewed as [C, 1, ..., 1] so that it broadcasts against an [N, C, d...] tensor of rank <paramref name="rank"/>; unchanged for rank 2 or less.</summary>
    /// <param name="channel">The [C] vector (e.g. a BatchNormalization scale).</param>
    /// <param name="rank">The rank of the tensor it combines with.</param>
    public Value ChannelView(Value channel, int rank) =>
        rank <= 2 ? channel : B.Reshape(channel, [-1, .. Enumerable.Repeat(1L, rank - 2)]);

    /// <summary>Zeros of the (run-time) shape and element type of <paramref name="like"/>.</summary>
    /// <param name="like">The value whose shape and type to take.</param>
    public Value ZerosLike(Value like) => B.FillLike(0, like);

    /// <summary>Ones of the (run-time) shape and element type of <paramref name="like"/>.</summary>
    /// <param name="like">The value whose shape and type to take.</param>
    public Value OnesLike(Value like) => B.FillLike(1, like);

    /// <summary>The rank of <paramref name="value"/> when known (from its declared or inferred type), else null.</summary>
    /// <param name="value">The value.</param>
    public static int? RankOf(Value value) => value.Shape?.Rank;

    /// <summary>The rank of <paramref name="value"/>, for rules that cannot work without it.</summary>
    /// <param name="value">The value.</param>
    /// <exception cref="ImplicitRegException"><see cref="ErrorKind.Unsupported"/>: the rank is unknown; the message names the node and the value.</exception>
    public int Rank(Value value) => value.Shape?.Rank
        ?? throw ImplicitRegException.Unsupported($"{Describe()}: the rank of '{value.Name}' is unknown; run shape inference or give the model static ranks.");

    /// <summary>The node as messages name it, e.g. <c>Conv node 'conv1'</c>; rules start their errors with it.</summary>
    public string Describe() => $"{Node.OpType} node '{Node.Name}'";

    /// <summary>
    /// What to do when a rule needs static sizes the model leaves symbolic: exporters often do, and the
    /// training layer can fix them (<c>ModelPreparation.FixSymbolicDims</c>, named so front ends can show their own option).
    /// </summary>
    internal const string StaticSizesHint = "give the model's symbolic input dimensions sizes (ModelPreparation.FixSymbolicDims)";
}
