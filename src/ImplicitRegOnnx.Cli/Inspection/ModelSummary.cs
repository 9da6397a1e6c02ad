using ImplicitRegOnnx.Onnx;

namespace ImplicitRegOnnx.Cli.Inspection;

/// <summary>A graph input or output as inspect reports it. <see cref="Shape"/> items are long, string or null.</summary>
public sealed record ValueSummary(string Name, string? Type, IReadOnlyList<object?>? Shape);

/// <summary>Initializer totals of the main graph.</summary>
public sealed record ParameterSummary(long Count, long Elements, long Bytes);

/// <summary>
/// What <c>implicitreg inspect</c> reports. The conventions are those of tools/onnx_inspect_reference.py
/// (the onnx python package is the reference): default domain "" (also for "ai.onnx"), inputs
/// without initializers, a sparse initializer counting its dense shape, ops of the main graph only.
/// </summary>
public sealed record ModelSummary(
    string ProducerName,
    string ProducerVersion,
    long IrVersion,
    IReadOnlyList<KeyValuePair<string, long>> Opsets,
    IReadOnlyList<ValueSummary> Inputs,
    IReadOnlyList<ValueSummary> Outputs,
    ParameterSummary Parameters,
    IReadOnlyList<KeyValuePair<string, int>> Ops)
{
    public int NodeCount => Ops.Sum(o => o.Value);

    public static ModelSummary Of(Model model)
    {
        var graph = model.Graph;
        // Like a python dict built in file order: a repeated domain keeps its last version.
        var opsets = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var opset in model.Opsets)
        {
            opsets[Model.NormalizeDomain(opset.Domain)] = opset.Version;
        }
        var ops = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var node in graph.Nodes)
        {
            var key = node.IsStandard ? node.OpType : $"{node.Domain}:{node.OpType}";
            ops[key] = ops.GetValueOrDefault(key) + 1;
        }
        return new ModelSummary(
            model.ProducerName,
            model.ProducerVersion,
            model.IrVersion,
            [.. opsets],
            [.. graph.RequiredInputs.Select(Describe)],
            [.. graph.Outputs.Select(Describe)],
            CountParameters(graph),
            [.. ops]);
    }

    private static ParameterSummary CountParameters(Graph graph)
    {
        try
        {
            return SumParameters(graph);
        }
        catch (OverflowException e)
        {
            throw ImplicitRegException.BadInput("the initializers' total size overflows a 64-bit count; the model is damaged", e);
        }
    }

    private static ParameterSummary SumParameters(Graph graph)
    {
        long count = 0, elements = 0, bytes = 0;
        foreach (var value in graph.Initializers)
        {
            count++;
            if (value.Initializer is { } dense)
            {
                var n = dense.ElementCount;
                elements = checked(elements + n);
                bytes = checked(bytes + (dense.ElementType == ElementType.String ? dense.ByteSize : dense.ElementType.ByteCount(n)));
            }
            else if (value.SparseInitializer is { } sparse)
            {
                var n = sparse.ElementCount;
                elements = checked(elements + n);
                bytes = checked(bytes + (sparse.Values.ElementType == ElementType.String ? sparse.Values.ByteSize : sparse.Values.ElementType.ByteCount(n)));
            }
        }
        return new ParameterSummary(count, elements, bytes);
    }

    private static ValueSummary Describe(Value value) => value.Type switch
    {
        TensorType t => new ValueSummary(value.Name, t.ElementType.Name(), ShapeOf(t.Shape)),
        SparseTensorType t => new ValueSummary(value.Name, t.ElementType.Name(), ShapeOf(t.Shape)),
        // The python reference stops at non-tensor types; we name them as the ONNX docs do and give no shape.
        null or UnspecifiedType => new ValueSummary(value.Name, null, null),
        var other => new ValueSummary(value.Name, TypeName(other), null),
    };

    private static List<object?>? ShapeOf(Shape? shape) =>
        shape?.Select(d => d.Value is { } v ? v : (object?)d.Symbol).ToList();

    /// <summary>The ONNX docs' spelling of a type: tensor(float), seq(tensor(int64)), map(string,tensor(float)).</summary>
    public static string TypeName(OnnxType? type) => type switch
    {
        null or UnspecifiedType => "unknown",
        TensorType t => $"tensor({t.ElementType.Name()})",
        SparseTensorType t => $"sparse_tensor({t.ElementType.Name()})",
        SequenceType s => $"seq({TypeName(s.ElementType)})",
        MapType m => $"map({m.KeyType.Name()},{TypeName(m.ValueType)})",
        OptionalType o => $"optional({TypeName(o.ElementType)})",
        OpaqueType o => $"opaque({o.Domain},{o.Name})",
        _ => "unknown",
    };
}
