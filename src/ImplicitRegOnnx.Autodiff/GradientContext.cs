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

    public long Opset => B.Opset;

    /// <summary>Forward input <paramref name="index"/> (throws when the optional input is absent).</summary>
    public Value X(int index = 0) => Node.Input(index) ?? throw new InvalidOperationException($"{Describe()}: input {index} is absent.");

    /// <summary>Forward output <paramref name="index"/>.</summary>
    public Value Y(int index = 0) => Node.Outputs[index] ?? throw new InvalidOperationException($"{Describe()}: output {index} is absent.");

    public bool HasInput(int index) => Node.Input(index) is not null;

    /// <summary>The gradient of output <paramref name="index"/>, or null when it is zero.</summary>
    public Value? OutputGrad(int index = 0) => index < _outputGrads.Count ? _outputGrads[index] : null;

    /// <summary>The gradient of the first output; rules of single-output ops run only when it is not zero.</summary>
    public Value Dy => OutputGrad(0) ?? throw new InvalidOperationException($"{Describe()}: the output gradient is zero; the engine should not have called the rule.");

    /// <summary>The gradient of an output, materialised as zeros when it is symbolically zero.</summary>
    public Value OutputGradOrZeros(int index) => OutputGrad(index) ?? ZerosLike(Y(index));

    /// <summary>Whether the gradient of input <paramref name="index"/> is wanted.</summary>
    public bool Needs(int index) => index < _needs.Length && _needs[index];

    /// <summary>True when any input's gradient is wanted.</summary>
    public bool NeedsAny => Array.Exists(_needs, n => n);

    /// <summary>Records (adds to) the gradient of input <paramref name="index"/>; ignored when not needed.</summary>
    public void SetGrad(int index, Value? gradient)
    {
        if (gradient is null || !Needs(index))
        {
            return;
        }
        _inputGrads[index] = _inputGrads[index] is { } previous ? B.Add(previous, gradient) : gradient;
    }

    /// <summary>Records the gradient of a broadcasting input, summed back to that input's shape.</summary>
    public void SetGradUnbroadcast(int index, Value? gradient)
    {
        if (gradient is not null && Needs(index))
        {
            SetGrad(index, Broadcasting.SumToShapeOf(B, gradient, X(index)));
        }
    }

    internal IReadOnlyList<Value?> InputGrads => _inputGrads;

    // ---- attributes and constant inputs ----

    public long Int(string name, long defaultValue) => Node.GetInt(name, defaultValue);

    public float Float(string name, float defaultValue) => Node.GetFloat(name, defaultValue);

    public string String(string name, string defaultValue) => Node.GetString(name, defaultValue);

    public IReadOnlyList<long>? Ints(string name) => Node.GetInts(name);

    /// <summary>The values of a constant integer input (axes, shapes, pads...), or null when not constant.</summary>
    public long[]? ConstantInts(int index) => ConstantValue.TryGetInts(Node.Input(index));

    // ---- constants and shapes, typed like the values they combine with ----

    /// <summary>A scalar constant with the element type of <paramref name="like"/>.</summary>
    public Value Scalar(double value, Value like) => Constants.Scalar(B, value, like);

    /// <summary>
    /// <paramref name="value"/> converted to the element type of <paramref name="like"/>: CastLike from
    /// opset 15 (ONNX operator spec), a Cast to the statically known type before that.
    /// </summary>
    public Value CastLike(Value value, Value like) => Constants.CastLike(B, value, like);

    /// <summary>A per-channel vector [C] viewed as [C, 1, ...] to broadcast against [N, C, d...] of the given rank.</summary>
    public Value ChannelView(Value channel, int rank) =>
        rank <= 2 ? channel : B.Reshape(channel, [-1, .. Enumerable.Repeat(1L, rank - 2)]);

    /// <summary>Zeros with the shape and type of <paramref name="like"/>.</summary>
    public Value ZerosLike(Value like) => Constants.Fill(B, 0, like);

    /// <summary>Ones with the shape and type of <paramref name="like"/>.</summary>
    public Value OnesLike(Value like) => Constants.Fill(B, 1, like);

    /// <summary>Rank of a value when known.</summary>
    public static int? RankOf(Value value) => value.Shape?.Rank;

    /// <summary>Rank of a value; rules that need it fail clearly when it is unknown.</summary>
    public int Rank(Value value) => value.Shape?.Rank
        ?? throw ImplicitRegException.Unsupported($"{Describe()}: the rank of '{value.Name}' is unknown; run shape inference or give the model static ranks.");

    public string Describe() => $"{Node.OpType} node '{Node.Name}'";

    /// <summary>
    /// What to do when a rule needs static sizes the model leaves symbolic: exporters often do, and the
    /// training layer can fix them (<c>ModelPreparation.FixSymbolicDims</c>, named so front ends can show their own option).
    /// </summary>
    public const string StaticSizesHint = "give the model's symbolic input dimensions sizes (ModelPreparation.FixSymbolicDims)";
}
