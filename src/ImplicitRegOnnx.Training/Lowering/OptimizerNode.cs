using ImplicitRegOnnx.Onnx.Building;

namespace ImplicitRegOnnx.Training.Lowering;

/// <summary>
/// The shared shape of the ai.onnx.preview.training optimizers (Momentum, Adagrad, Adam; ONNX operator
/// spec, opset 1): inputs R (learning rate, scalar), T (update count, int64 scalar), then n tensors
/// X_1..X_n, their gradients G_1..G_n and one or two state groups; outputs X_new_1..X_new_n followed by
/// the new state groups. Each tensor is updated by the same element-wise formula (the specs' "view X
/// as the concatenation" reading gives the same result), so lowering is one fragment per tensor.
/// </summary>
internal sealed class OptimizerNode
{
    private readonly Node _node;
    private readonly int _groups;

    private OptimizerNode(Node node, int groups, int count)
    {
        _node = node;
        _groups = groups;
        Count = count;
    }

    /// <summary>n, the number of optimized tensors.</summary>
    public int Count { get; }

    /// <summary>Input R.</summary>
    public Value Rate => _node.Inputs[0]!;

    /// <summary>Input T.</summary>
    public Value UpdateCount => _node.Inputs[1]!;

    /// <summary>
    /// Checks the node: known attributes only, R and T present, n tensors in each of
    /// <paramref name="groups"/> input groups (X, G, states...) and n in each of groups − 1 output groups.
    /// </summary>
    public static OptimizerNode Read(Node node, int groups, IReadOnlyCollection<string> attributes)
    {
        foreach (var attribute in node.Attributes)
        {
            if (!attributes.Contains(attribute.Name))
            {
                throw LoweringErrors.At(node, $"unsupported attribute '{attribute.Name}' (the spec defines {string.Join(", ", attributes)})");
            }
        }
        var variadic = node.Inputs.Count - 2;
        if (variadic <= 0 || variadic % groups != 0)
        {
            throw LoweringErrors.At(node, $"has {node.Inputs.Count} inputs; the spec needs R, T and {groups} equal groups of tensors");
        }
        var n = variadic / groups;
        if (node.Outputs.Count != n * (groups - 1))
        {
            throw LoweringErrors.At(node, $"has {node.Outputs.Count} outputs for {n} optimized tensors; the spec has {n * (groups - 1)}");
        }
        if (node.Inputs.Any(v => v is null))
        {
            throw LoweringErrors.At(node, "an input is omitted; every input of an optimizer is required");
        }
        return new OptimizerNode(node, groups, n);
    }

    /// <summary>Tensor <paramref name="index"/> of input group <paramref name="group"/> (0: X, 1: G, 2...: states).</summary>
    public Value Input(int group, int index) => _node.Inputs[2 + (group * Count) + index]!;

    /// <summary>Whether output <paramref name="index"/> of output group <paramref name="group"/> (0: X_new, 1...: states) is used.</summary>
    public bool Wants(int group, int index) => _node.Outputs[(group * Count) + index] is not null;

    /// <summary>A float attribute; <paramref name="fallback"/> null means the spec requires it.</summary>
    public float Float(string name, float? fallback)
    {
        var attribute = _node.GetAttribute(name);
        if (attribute is null)
        {
            return fallback ?? throw LoweringErrors.At(_node, $"the required attribute '{name}' is missing");
        }
        return attribute.Kind == AttributeKind.Float
            ? attribute.AsFloat()
            : throw LoweringErrors.At(_node, $"attribute '{name}' must be a float, not {attribute.Kind}");
    }

    /// <summary>A string attribute required by the spec.</summary>
    public string String(string name)
    {
        var attribute = _node.GetAttribute(name) ?? throw LoweringErrors.At(_node, $"the required attribute '{name}' is missing");
        return attribute.Kind == AttributeKind.String
            ? attribute.AsString()
            : throw LoweringErrors.At(_node, $"attribute '{name}' must be a string, not {attribute.Kind}");
    }

    public ImplicitRegException Error(string message) => LoweringErrors.At(_node, message);

    /// <summary>
    /// Lowers every tensor with <paramref name="update"/>, which returns X_new and the new states in
    /// output-group order; the result lists the replacement of each node output.
    /// </summary>
    public Value?[] LowerEach(Func<int, Value[]> update)
    {
        var outputs = new Value?[_node.Outputs.Count];
        for (var i = 0; i < Count; i++)
        {
            if (!Enumerable.Range(0, _groups - 1).Any(g => Wants(g, i)))
            {
                continue;
            }
            var results = update(i);
            for (var g = 0; g < _groups - 1; g++)
            {
                if (Wants(g, i))
                {
                    outputs[(g * Count) + i] = results[g];
                }
            }
        }
        return outputs;
    }
}

/// <summary>Graph pieces the optimizer lowerings share, typed like the optimized tensor X (float or double).</summary>
internal static class OptimizerFragments
{
    /// <summary>A scalar constant of X's element type.</summary>
    public static Value Scalar(GraphBuilder b, double value, Value like) => like.ElementType switch
    {
        ElementType.Double => b.Constant(Tensor.Scalar(value)),
        ElementType.Float => b.Constant(Tensor.Scalar((float)value)),
        ElementType.Float16 => b.Constant(Tensor.Scalar((Half)value)),
        _ => b.Cast(b.Constant(Tensor.Scalar(value)), CheckedType(like)),
    };

    /// <summary>A value (R, or T) converted to X's element type.</summary>
    public static Value Like(GraphBuilder b, Value value, Value like) =>
        value.ElementType == like.ElementType && value.ElementType != ElementType.Undefined ? value : b.Cast(value, CheckedType(like));

    /// <summary>G_regularized = norm_coefficient · X + G (the gradient of ½·norm_coefficient·‖X‖² added; all three specs).</summary>
    public static Value Regularized(GraphBuilder b, Value x, Value g, float normCoefficient) =>
        normCoefficient == 0 ? g : b.Add(b.Mul(Scalar(b, normCoefficient, x), x), g);

    /// <summary>T &gt; 0 as a boolean scalar (T converted to X's type first, so any numeric T works).</summary>
    public static Value IsPositive(GraphBuilder b, Value count, Value like) =>
        b.Op("Greater", [Like(b, count, like), Scalar(b, 0, like)]);

    private static ElementType CheckedType(Value like) => like.ElementType.IsFloatingPoint()
        ? like.ElementType
        : throw ImplicitRegException.BadInput($"'{like.Name}' must be a float or double tensor of known type, not {like.ElementType}");
}
