using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace ImplicitRegOnnx.Onnx.Inspection;

/// <summary>A graph input or output as a <see cref="ModelSummary"/> reports it.</summary>
/// <param name="Name">The value's name.</param>
/// <param name="Type">The element type's name (e.g. "float") for tensors, the ONNX docs' spelling for other types, null when unknown.</param>
/// <param name="Shape">Dims of a tensor: a long (known size), a string (symbol) or null (unknown); null when the rank is unknown or the value is no tensor.</param>
public sealed record ValueSummary(string Name, string? Type, IReadOnlyList<object?>? Shape);

/// <summary>Initializer totals of the main graph.</summary>
/// <param name="Count">How many initializers.</param>
/// <param name="Elements">Their elements (a sparse initializer counts its dense shape).</param>
/// <param name="Bytes">Their payload size in bytes.</param>
public sealed record ParameterSummary(long Count, long Elements, long Bytes);

/// <summary>
/// What a model holds, as <c>implicitreg inspect</c> reports it. The conventions are those of
/// tools/onnx_inspect_reference.py (the onnx python package is the reference): default domain "" (also
/// for "ai.onnx"), inputs without initializers, a sparse initializer counting its dense shape, ops of the
/// main graph only. <see cref="ToJson"/> writes the format of models/*.inspect.json.
/// </summary>
/// <param name="ProducerName">producer_name of the model.</param>
/// <param name="ProducerVersion">producer_version of the model.</param>
/// <param name="IrVersion">The IR version.</param>
/// <param name="Opsets">Imported opsets by domain ("" for ai.onnx), sorted; a repeated domain keeps its last version.</param>
/// <param name="Inputs">The main graph's inputs that are not initializers.</param>
/// <param name="Outputs">The main graph's outputs.</param>
/// <param name="Parameters">Initializer totals.</param>
/// <param name="Ops">Node counts of the main graph by op type ("domain:Op" outside ai.onnx), sorted.</param>
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
    /// <summary>Nodes of the main graph.</summary>
    public int NodeCount => Ops.Sum(o => o.Value);

    /// <summary>The summary of <paramref name="model"/>.</summary>
    /// <exception cref="ImplicitRegException">Of kind <see cref="ErrorKind.BadInput"/>: the initializers' sizes overflow a 64-bit count (a damaged model).</exception>
    public static ModelSummary Of(Model model)
    {
        ArgumentNullException.ThrowIfNull(model);
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

    /// <summary>The summary as the text tables of <c>implicitreg inspect</c>: model, producer, IR version, opsets, parameters, inputs, outputs, op counts.</summary>
    /// <param name="name">How the model is named in the first row (its path).</param>
    public string ToText(string name) => SummaryText.Write(this, name);

    /// <summary>The summary as JSON, the format of models/*.inspect.json (keys: producer, ir_version, opsets, inputs, outputs, parameters, ops), indented, with a final newline.</summary>
    public string ToJson()
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteStartObject("producer");
            w.WriteString("name", ProducerName);
            w.WriteString("version", ProducerVersion);
            w.WriteEndObject();
            w.WriteNumber("ir_version", IrVersion);
            w.WriteStartObject("opsets");
            foreach (var (domain, version) in Opsets)
            {
                w.WriteNumber(domain, version);
            }
            w.WriteEndObject();
            WriteValues(w, "inputs", Inputs);
            WriteValues(w, "outputs", Outputs);
            w.WriteStartObject("parameters");
            w.WriteNumber("count", Parameters.Count);
            w.WriteNumber("elements", Parameters.Elements);
            w.WriteNumber("bytes", Parameters.Bytes);
            w.WriteEndObject();
            w.WriteStartObject("ops");
            foreach (var (op, count) in Ops)
            {
                w.WriteNumber(op, count);
            }
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    private static void WriteValues(Utf8JsonWriter w, string key, IReadOnlyList<ValueSummary> values)
    {
        w.WriteStartArray(key);
        foreach (var v in values)
        {
            w.WriteStartObject();
            w.WriteString("name", v.Name);
            if (v.Type is null)
            {
                w.WriteNull("type");
            }
            else
            {
                w.WriteString("type", v.Type);
            }
            if (v.Shape is null)
            {
                w.WriteNull("shape");
            }
            else
            {
                w.WriteStartArray("shape");
                foreach (var d in v.Shape)
                {
                    switch (d)
                    {
                        case long n:
                            w.WriteNumberValue(n);
                            break;
                        case string symbol:
                            w.WriteStringValue(symbol);
                            break;
                        default:
                            w.WriteNullValue();
                            break;
                    }
                }
                w.WriteEndArray();
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    private static ParameterSummary CountParameters(Graph graph)
    {
        try
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
        catch (OverflowException e)
        {
            throw ImplicitRegException.BadInput("the initializers' total size overflows a 64-bit count; the model is damaged", e);
        }
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
}
