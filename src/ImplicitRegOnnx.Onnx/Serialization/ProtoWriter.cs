using System.Globalization;
using Google.Protobuf;
using ImplicitRegOnnx.Onnx.IO;
using ImplicitRegOnnx.Onnx.Serialization.Proto;

namespace ImplicitRegOnnx.Onnx.Serialization;

/// <summary>Builds protobuf messages from the IR. Fields captured at load time are restored first.</summary>
internal sealed class ProtoWriter(Func<Tensor, string?> externalLocation, ExternalDataSink? sink)
{
    private readonly Func<Tensor, string?> _externalLocation = externalLocation;
    private readonly ExternalDataSink? _sink = sink;

    /// <summary>A writer that puts every payload inline.</summary>
    public static ProtoWriter Inline { get; } = new(_ => null, null);

    public ModelProto WriteModel(Model model)
    {
        var proto = Preserved.Restore(model.PreservedFields, ModelProto.Parser);
        proto.IrVersion = model.IrVersion;
        foreach (var opset in model.Opsets)
        {
            proto.OpsetImport.Add(WriteOpset(opset));
        }
        SetIfNotEmpty(model.ProducerName, v => proto.ProducerName = v);
        SetIfNotEmpty(model.ProducerVersion, v => proto.ProducerVersion = v);
        SetIfNotEmpty(model.Domain, v => proto.Domain = v);
        if (model.ModelVersion != 0)
        {
            proto.ModelVersion = model.ModelVersion;
        }
        if (model.DocString is not null)
        {
            proto.DocString = model.DocString;
        }
        proto.Graph = WriteGraph(model.Graph);
        foreach (var entry in model.MetadataProps)
        {
            proto.MetadataProps.Add(new StringStringEntryProto { Key = entry.Key, Value = entry.Value });
        }
        foreach (var function in model.Functions)
        {
            proto.Functions.Add(WriteFunction(function));
        }
        return proto;
    }

    private static OperatorSetIdProto WriteOpset(OpsetId opset)
    {
        var proto = new OperatorSetIdProto { Version = opset.Version };
        if (opset.Domain.Length > 0 || opset.ExplicitEmptyDomain)
        {
            proto.Domain = opset.Domain;
        }
        return proto;
    }

    private static void SetIfNotEmpty(string value, Action<string> set)
    {
        if (value.Length > 0)
        {
            set(value);
        }
    }

    private FunctionProto WriteFunction(Function function)
    {
        var proto = Preserved.Restore(function.PreservedFields, FunctionProto.Parser);
        proto.Name = function.Name;
        proto.Domain = function.Domain;
        if (function.Overload is not null)
        {
            proto.Overload = function.Overload;
        }
        if (function.DocString is not null)
        {
            proto.DocString = function.DocString;
        }
        proto.Input.AddRange(function.Body.Inputs.Select(v => v.Name));
        proto.Output.AddRange(function.Body.Outputs.Select(v => v.Name));
        proto.Attribute.AddRange(function.AttributeNames);
        proto.AttributeProto.AddRange(function.AttributeDefaults.Select(WriteAttribute));
        proto.Node.AddRange(function.Body.Nodes.Select(WriteNode));
        foreach (var opset in function.Opsets)
        {
            proto.OpsetImport.Add(WriteOpset(opset));
        }
        return proto;
    }

    public GraphProto WriteGraph(Graph graph)
    {
        var proto = Preserved.Restore(graph.PreservedFields, GraphProto.Parser);
        proto.Node.AddRange(graph.Nodes.Select(WriteNode));
        SetIfNotEmpty(graph.Name, v => proto.Name = v);
        foreach (var value in graph.Initializers)
        {
            if (value.Initializer is { } tensor)
            {
                proto.Initializer.Add(WriteTensor(tensor, value.Name));
            }
            else if (value.SparseInitializer is { } sparse)
            {
                proto.SparseInitializer.Add(WriteSparseTensor(sparse, value.Name));
            }
        }
        if (graph.DocString is not null)
        {
            proto.DocString = graph.DocString;
        }
        proto.Input.AddRange(graph.Inputs.Select(WriteValueInfo));
        proto.Output.AddRange(graph.Outputs.Select(WriteValueInfo));
        proto.ValueInfo.AddRange(graph.ValueInfos.Select(WriteValueInfo));
        return proto;
    }

    private NodeProto WriteNode(Node node)
    {
        var proto = Preserved.Restore(node.PreservedFields, NodeProto.Parser);
        proto.Input.AddRange(node.Inputs.Select(v => v?.Name ?? ""));
        proto.Output.AddRange(node.Outputs.Select(v => v?.Name ?? ""));
        SetIfNotEmpty(node.Name, v => proto.Name = v);
        proto.OpType = node.OpType;
        SetIfNotEmpty(node.Domain, v => proto.Domain = v);
        if (node.Overload is not null)
        {
            proto.Overload = node.Overload;
        }
        proto.Attribute.AddRange(node.Attributes.Select(WriteAttribute));
        if (node.DocString is not null)
        {
            proto.DocString = node.DocString;
        }
        return proto;
    }

    private AttributeProto WriteAttribute(Attribute attribute)
    {
        var proto = Preserved.Restore(attribute.PreservedFields, AttributeProto.Parser);
        proto.Name = attribute.Name;
        if (attribute.Kind != AttributeKind.Undefined)
        {
            proto.Type = (AttributeProto.Types.AttributeType)(int)attribute.Kind;
        }
        if (attribute.DocString is not null)
        {
            proto.DocString = attribute.DocString;
        }
        if (attribute.RefAttrName is not null)
        {
            proto.RefAttrName = attribute.RefAttrName;
            return proto;
        }
        switch (attribute.Payload)
        {
            case float f:
                proto.F = f;
                break;
            case long i:
                proto.I = i;
                break;
            case byte[] s:
                proto.S = ByteString.CopyFrom(s);
                break;
            case Tensor t:
                proto.T = WriteTensor(t, t.Name);
                break;
            case Graph g:
                proto.G = WriteGraph(g);
                break;
            case SparseTensor st:
                proto.SparseTensor = WriteSparseTensor(st, st.Name);
                break;
            case OnnxType tp:
                proto.Tp = WriteType(tp);
                break;
            case float[] fs:
                proto.Floats.AddRange(fs);
                break;
            case long[] ints:
                proto.Ints.AddRange(ints);
                break;
            case byte[][] strings:
                proto.Strings.AddRange(strings.Select(ByteString.CopyFrom));
                break;
            case Tensor[] ts:
                proto.Tensors.AddRange(ts.Select(t => WriteTensor(t, t.Name)));
                break;
            case Graph[] gs:
                proto.Graphs.AddRange(gs.Select(WriteGraph));
                break;
            case SparseTensor[] sts:
                proto.SparseTensors.AddRange(sts.Select(st => WriteSparseTensor(st, st.Name)));
                break;
            case OnnxType[] tps:
                proto.TypeProtos.AddRange(tps.Select(WriteType));
                break;
        }
        return proto;
    }

    private SparseTensorProto WriteSparseTensor(SparseTensor sparse, string name)
    {
        var proto = new SparseTensorProto
        {
            Values = WriteTensor(sparse.Values, name),
            Indices = WriteTensor(sparse.Indices, sparse.Indices.Name),
        };
        proto.Dims.AddRange(sparse.Dims);
        return proto;
    }

    private TensorProto WriteTensor(Tensor tensor, string name)
    {
        var proto = Preserved.Restore(tensor.PreservedFields, TensorProto.Parser);
        proto.Dims.AddRange(tensor.Dims);
        proto.DataType = (int)tensor.ElementType;
        SetIfNotEmpty(name, v => proto.Name = v);
        if (tensor.DocString is not null)
        {
            proto.DocString = tensor.DocString;
        }
        var location = tensor.ElementType == ElementType.String ? null : _externalLocation(tensor);
        if (location is not null && _sink is not null)
        {
            var offset = _sink.Append(tensor.Name, location, tensor.RawBytes);
            proto.DataLocation = TensorProto.Types.DataLocation.External;
            AddEntry(proto, "location", location);
            AddEntry(proto, "offset", offset.ToString(CultureInfo.InvariantCulture));
            AddEntry(proto, "length", tensor.RawBytes.Length.ToString(CultureInfo.InvariantCulture));
            if (tensor.External?.Checksum is { } checksum)
            {
                AddEntry(proto, "checksum", checksum);
            }
        }
        else
        {
            TensorCodec.EncodeInline(tensor, proto);
        }
        return proto;
    }

    private static void AddEntry(TensorProto proto, string key, string value) =>
        proto.ExternalData.Add(new StringStringEntryProto { Key = key, Value = value });

    private static ValueInfoProto WriteValueInfo(Value value)
    {
        var proto = Preserved.Restore(value.PreservedFields, ValueInfoProto.Parser);
        proto.Name = value.Name;
        if (value.Type is not null)
        {
            proto.Type = WriteType(value.Type);
        }
        if (value.DocString is not null)
        {
            proto.DocString = value.DocString;
        }
        return proto;
    }

    internal static TypeProto WriteType(OnnxType type)
    {
        var proto = new TypeProto();
        switch (type)
        {
            case TensorType t:
                proto.TensorType = new TypeProto.Types.Tensor { ElemType = (int)t.ElementType };
                if (t.Shape is not null)
                {
                    proto.TensorType.Shape = WriteShape(t.Shape);
                }
                break;
            case SparseTensorType t:
                proto.SparseTensorType = new TypeProto.Types.SparseTensor { ElemType = (int)t.ElementType };
                if (t.Shape is not null)
                {
                    proto.SparseTensorType.Shape = WriteShape(t.Shape);
                }
                break;
            case SequenceType s:
                proto.SequenceType = new TypeProto.Types.Sequence();
                if (s.ElementType is not null)
                {
                    proto.SequenceType.ElemType = WriteType(s.ElementType);
                }
                break;
            case MapType m:
                proto.MapType = new TypeProto.Types.Map { KeyType = (int)m.KeyType };
                if (m.ValueType is not null)
                {
                    proto.MapType.ValueType = WriteType(m.ValueType);
                }
                break;
            case OptionalType o:
                proto.OptionalType = new TypeProto.Types.Optional();
                if (o.ElementType is not null)
                {
                    proto.OptionalType.ElemType = WriteType(o.ElementType);
                }
                break;
            case OpaqueType o:
                proto.OpaqueType = new TypeProto.Types.Opaque { Domain = o.Domain, Name = o.Name };
                break;
        }
        if (type.Denotation is not null)
        {
            proto.Denotation = type.Denotation;
        }
        return proto;
    }

    private static TensorShapeProto WriteShape(Shape shape)
    {
        var proto = new TensorShapeProto();
        foreach (var dim in shape)
        {
            var d = new TensorShapeProto.Types.Dimension();
            if (dim.Value is { } v)
            {
                d.DimValue = v;
            }
            else if (dim.Symbol is { } s)
            {
                d.DimParam = s;
            }
            if (dim.Denotation is not null)
            {
                d.Denotation = dim.Denotation;
            }
            proto.Dim.Add(d);
        }
        return proto;
    }
}

/// <summary>
/// Collects external payloads into side files next to the model being written. A side file's name comes
/// from the model (ExternalDataInfo.Location), so it is held to the rules of reading (relative, inside the
/// model's folder) and written by <see cref="AtomicFile"/> within that folder: never through a symbolic
/// link, neither at the file nor at a folder on the way (CVE-2025-51480 of the onnx package was a save
/// that wrote through one).
/// </summary>
internal sealed class ExternalDataSink(string directory, string modelPath) : IDisposable
{
    /// <summary>Open side files by absolute path, so that two spellings of one name (w.bin, ./w.bin) share one file.</summary>
    private readonly Dictionary<string, AtomicFileWriter> _files = new(StringComparer.Ordinal);

    /// <summary>Appends a payload to the side file named by <paramref name="location"/>; returns its offset.</summary>
    public long Append(string tensor, string location, ReadOnlySpan<byte> bytes)
    {
        var (final, problem) = ExternalData.Locate(location, directory);
        if (final is null)
        {
            throw ImplicitRegException.BadInput($"tensor '{tensor}': external data location '{location}' {problem}");
        }
        if (string.Equals(final, modelPath, SafePaths.Comparison))
        {
            throw ImplicitRegException.BadInput($"tensor '{tensor}': external data location '{location}' is the model file itself; give the side file another name");
        }
        if (!_files.TryGetValue(final, out var file))
        {
            try
            {
                file = AtomicFile.Create(final, within: directory);
            }
            catch (ImplicitRegException e)
            {
                throw ImplicitRegException.BadInput($"tensor '{tensor}': cannot write its external data: {e.Message}", e);
            }
            _files[final] = file;
        }
        var offset = file.Stream.Position;
        file.Stream.Write(bytes);
        return offset;
    }

    /// <summary>Flushes the side files to disk and moves them into place.</summary>
    public void Commit()
    {
        foreach (var file in _files.Values)
        {
            file.Commit();
        }
    }

    public void Dispose()
    {
        foreach (var file in _files.Values)
        {
            file.Dispose();
        }
        _files.Clear();
    }
}
