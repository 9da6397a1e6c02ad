using Google.Protobuf;
using ImplicitRegOnnx.Onnx.Serialization.Proto;

namespace ImplicitRegOnnx.Onnx.Serialization;

/// <summary>
/// Builds the IR from parsed protobuf messages. Names are resolved to <see cref="Value"/> objects in
/// two passes per graph (declare every output, then connect inputs), so nodes listed out of
/// topological order still connect, and subgraphs see every value of their enclosing graphs.
/// </summary>
internal sealed class ProtoReader(string? baseDirectory)
{
    private readonly string? _baseDirectory = baseDirectory;

    /// <summary>Names visible in a graph: its own values, then those of enclosing graphs.</summary>
    private sealed class Scope(Scope? parent)
    {
        private readonly Dictionary<string, Value> _values = new(StringComparer.Ordinal);

        public Scope? Parent { get; } = parent;

        public bool TryDeclare(string name, Value value) => _values.TryAdd(name, value);

        public Value? Local(string name) => _values.GetValueOrDefault(name);

        public Value? Resolve(string name) => _values.GetValueOrDefault(name) ?? Parent?.Resolve(name);
    }

    public Model ReadModel(ModelProto proto)
    {
        if (proto.Graph is null)
        {
            throw ImplicitRegException.BadInput("not an ONNX model: it has no graph; " + ModelSerializer.NotAModelHint);
        }
        if (!proto.HasIrVersion || proto.IrVersion <= 0)
        {
            throw ImplicitRegException.BadInput("not an ONNX model: ir_version is missing; " + ModelSerializer.NotAModelHint);
        }
        if (proto.IrVersion > Model.MaxPlausibleIrVersion)
        {
            throw ImplicitRegException.BadInput($"not an ONNX model: ir_version {proto.IrVersion} is implausible (known versions go up to {Model.MaxIrVersion}); {ModelSerializer.NotAModelHint}");
        }

        var model = new Model(ReadGraph(proto.Graph, null, "main graph"))
        {
            IrVersion = proto.IrVersion,
            ProducerName = proto.ProducerName,
            ProducerVersion = proto.ProducerVersion,
            Domain = proto.Domain,
            ModelVersion = proto.ModelVersion,
            DocString = proto.HasDocString ? proto.DocString : null,
        };
        foreach (var opset in proto.OpsetImport)
        {
            model.Opsets.Add(ReadOpset(opset));
        }
        foreach (var entry in proto.MetadataProps)
        {
            model.MetadataProps.Add(new MetadataEntry(entry.Key, entry.Value));
        }
        foreach (var function in proto.Functions)
        {
            model.Functions.Add(ReadFunction(function));
        }
        model.PreservedFields = Preserved.Capture(proto, p =>
        {
            p.ClearIrVersion();
            p.OpsetImport.Clear();
            if (p.ProducerName.Length > 0) { p.ClearProducerName(); }
            if (p.ProducerVersion.Length > 0) { p.ClearProducerVersion(); }
            if (p.Domain.Length > 0) { p.ClearDomain(); }
            if (p.ModelVersion != 0) { p.ClearModelVersion(); }
            p.ClearDocString();
            p.Graph = null;
            p.MetadataProps.Clear();
            p.Functions.Clear();
        });
        // Nodes may be listed out of order (ONNX Runtime accepts that), but never in a cycle.
        foreach (var graph in model.Graph.SelfAndSubgraphs())
        {
            _ = Passes.TopologicalSort.Order(graph);
        }
        return model;
    }

    private Function ReadFunction(FunctionProto proto)
    {
        var body = new Graph(proto.Name);
        var scope = new Scope(null);
        foreach (var name in proto.Input)
        {
            var value = body.AddInput(name, null);
            if (!scope.TryDeclare(name, value))
            {
                throw ImplicitRegException.BadInput($"function '{proto.Name}' declares input '{name}' twice");
            }
        }
        ReadNodes(body, proto.Node, scope, $"function '{proto.Name}'");
        foreach (var name in proto.Output)
        {
            body.Outputs.Add(scope.Resolve(name)
                ?? throw ImplicitRegException.BadInput($"function '{proto.Name}' output '{name}' is not computed by any of its nodes"));
        }
        var function = new Function(proto.Domain, proto.Name, body)
        {
            Overload = proto.HasOverload ? proto.Overload : null,
            DocString = proto.HasDocString ? proto.DocString : null,
        };
        function.AttributeNames.AddRange(proto.Attribute);
        foreach (var attribute in proto.AttributeProto)
        {
            function.AttributeDefaults.Add(ReadAttribute(attribute, scope, $"function '{proto.Name}'"));
        }
        foreach (var opset in proto.OpsetImport)
        {
            function.Opsets.Add(ReadOpset(opset));
        }
        function.PreservedFields = Preserved.Capture(proto, p =>
        {
            p.ClearName();
            p.Input.Clear();
            p.Output.Clear();
            p.Attribute.Clear();
            p.AttributeProto.Clear();
            p.Node.Clear();
            p.ClearDocString();
            p.OpsetImport.Clear();
            p.ClearDomain();
            p.ClearOverload();
        });
        return function;
    }

    private Graph ReadGraph(GraphProto proto, Scope? parent, string where)
    {
        var graph = new Graph(proto.Name) { DocString = proto.HasDocString ? proto.DocString : null };
        var scope = new Scope(parent);
        where = parent is null ? where : $"subgraph '{proto.Name}'";

        foreach (var info in proto.Input)
        {
            var value = new Value(info.Name, ReadDeclaredType(info, where));
            ApplyValueInfo(value, info);
            graph.AddInput(value);
            if (!scope.TryDeclare(info.Name, value))
            {
                throw ImplicitRegException.BadInput($"{where} declares input '{info.Name}' twice");
            }
        }
        foreach (var tensorProto in proto.Initializer)
        {
            var tensor = ReadTensor(tensorProto);
            var value = scope.Local(tensor.Name);
            if (value is null)
            {
                value = new Value(tensor.Name);
                scope.TryDeclare(tensor.Name, value);
            }
            else if (value.IsInitializer)
            {
                throw ImplicitRegException.BadInput($"{where} has two initializers named '{tensor.Name}'");
            }
            value.Type ??= new TensorType(tensor.ElementType, new Shape(tensor.Dims));
            graph.AttachInitializer(value, tensor);
        }
        foreach (var sparseProto in proto.SparseInitializer)
        {
            var sparse = ReadSparseTensor(sparseProto);
            var value = scope.Local(sparse.Name);
            if (value is null)
            {
                value = new Value(sparse.Name);
                scope.TryDeclare(sparse.Name, value);
            }
            else if (value.IsInitializer)
            {
                throw ImplicitRegException.BadInput($"{where} has two initializers named '{sparse.Name}'");
            }
            value.Type ??= new TensorType(sparse.Values.ElementType, new Shape(sparse.Dims));
            graph.AttachSparseInitializer(value, sparse);
        }

        ReadNodes(graph, proto.Node, scope, where);

        foreach (var info in proto.Output)
        {
            var value = scope.Resolve(info.Name)
                ?? throw ImplicitRegException.BadInput($"{where} output '{info.Name}' is not an input, initializer or node output");
            value.Type ??= ReadDeclaredType(info, where);
            ApplyValueInfo(value, info);
            graph.Outputs.Add(value);
        }
        foreach (var info in proto.ValueInfo)
        {
            // value_info may name values that no node computes; keep them as detached values.
            var value = scope.Resolve(info.Name) ?? new Value(info.Name);
            value.Type ??= ReadDeclaredType(info, where);
            ApplyValueInfo(value, info);
            graph.ValueInfos.Add(value);
        }
        graph.PreservedFields = Preserved.Capture(proto, p =>
        {
            p.Node.Clear();
            if (p.Name.Length > 0) { p.ClearName(); }
            p.Initializer.Clear();
            p.SparseInitializer.Clear();
            p.ClearDocString();
            p.Input.Clear();
            p.Output.Clear();
            p.ValueInfo.Clear();
        });
        return graph;
    }

    private void ReadNodes(Graph graph, Google.Protobuf.Collections.RepeatedField<NodeProto> protos, Scope scope, string where)
    {
        // Pass 1: create nodes and declare their outputs.
        var nodes = new List<Node>(protos.Count);
        foreach (var proto in protos)
        {
            var node = new Node(proto.Domain, proto.OpType, [], proto.Output, null, proto.Name)
            {
                Overload = proto.HasOverload ? proto.Overload : null,
                DocString = proto.HasDocString ? proto.DocString : null,
            };
            foreach (var output in node.Outputs)
            {
                if (output is not null && !scope.TryDeclare(output.Name, output))
                {
                    throw ImplicitRegException.BadInput($"{where}: value '{output.Name}' is defined twice (again by node {Describe(proto)})");
                }
            }
            graph.Append(node);
            nodes.Add(node);
        }
        // Pass 2: connect inputs and read attributes (subgraphs see every declared name).
        for (var i = 0; i < protos.Count; i++)
        {
            var proto = protos[i];
            var node = nodes[i];
            foreach (var name in proto.Input)
            {
                if (name.Length == 0)
                {
                    node.AppendInput(null);
                    continue;
                }
                var value = scope.Resolve(name)
                    ?? throw ImplicitRegException.BadInput($"{where}: node {Describe(proto)} reads '{name}', which no input, initializer or node defines; the graph is incomplete, re-export the model");
                node.AppendInput(value);
            }
            foreach (var attribute in proto.Attribute)
            {
                node.SetAttribute(ReadAttribute(attribute, scope, where));
            }
            node.PreservedFields = Preserved.Capture(proto, p =>
            {
                p.Input.Clear();
                p.Output.Clear();
                if (p.Name.Length > 0) { p.ClearName(); }
                p.ClearOpType();
                if (p.Domain.Length > 0) { p.ClearDomain(); }
                p.ClearOverload();
                p.Attribute.Clear();
                p.ClearDocString();
            });
        }
    }

    private static OpsetId ReadOpset(OperatorSetIdProto proto) =>
        new(proto.Domain, proto.Version) { ExplicitEmptyDomain = proto.HasDomain && proto.Domain.Length == 0 };

    private static string Describe(NodeProto proto) =>
        proto.Name.Length > 0 ? $"'{proto.Name}' ({proto.OpType})" : $"{proto.OpType} -> {string.Join(",", proto.Output)}";

    private Attribute ReadAttribute(AttributeProto proto, Scope scope, string where)
    {
        var kind = proto.HasType ? (AttributeKind)(int)proto.Type : InferKind(proto);
        Attribute attribute;
        if (proto.HasRefAttrName)
        {
            attribute = Attribute.Reference(proto.Name, kind, proto.RefAttrName);
        }
        else
        {
            attribute = kind switch
            {
                AttributeKind.Float => Attribute.Float(proto.Name, proto.F),
                AttributeKind.Int => Attribute.Int(proto.Name, proto.I),
                AttributeKind.String => Attribute.Bytes(proto.Name, proto.S.ToByteArray()),
                AttributeKind.Tensor => Attribute.FromTensor(proto.Name, ReadTensor(proto.T ?? new TensorProto())),
                AttributeKind.Graph => Attribute.FromGraph(proto.Name, ReadGraph(proto.G ?? new GraphProto(), scope, where)),
                AttributeKind.SparseTensor => Attribute.FromSparseTensor(proto.Name, ReadSparseTensor(proto.SparseTensor ?? new SparseTensorProto())),
                AttributeKind.TypeProto => Attribute.FromType(proto.Name, ReadType(proto.Tp) ?? new UnspecifiedType()),
                AttributeKind.Floats => Attribute.Floats(proto.Name, proto.Floats),
                AttributeKind.Ints => Attribute.Ints(proto.Name, proto.Ints),
                AttributeKind.Strings => Attribute.ByteStrings(proto.Name, proto.Strings.Select(s => s.ToByteArray())),
                AttributeKind.Tensors => Attribute.Tensors(proto.Name, proto.Tensors.Select(ReadTensor)),
                AttributeKind.Graphs => Attribute.Graphs(proto.Name, proto.Graphs.Select(g => ReadGraph(g, scope, where)).ToArray()),
                AttributeKind.SparseTensors => Attribute.SparseTensors(proto.Name, proto.SparseTensors.Select(ReadSparseTensor)),
                AttributeKind.TypeProtos => Attribute.Types(proto.Name, proto.TypeProtos.Select(t => ReadType(t) ?? new UnspecifiedType())),
                _ => throw ImplicitRegException.BadInput($"{where}: attribute '{proto.Name}' has unknown type {(int)proto.Type}"),
            };
        }
        attribute.DocString = proto.HasDocString ? proto.DocString : null;
        attribute.PreservedFields = Preserved.Capture(proto, p =>
        {
            p.ClearName();
            p.ClearRefAttrName();
            p.ClearDocString();
            p.ClearType();
            p.ClearF();
            p.ClearI();
            p.ClearS();
            p.T = null;
            p.G = null;
            p.SparseTensor = null;
            p.Tp = null;
            p.Floats.Clear();
            p.Ints.Clear();
            p.Strings.Clear();
            p.Tensors.Clear();
            p.Graphs.Clear();
            p.SparseTensors.Clear();
            p.TypeProtos.Clear();
        });
        return attribute;
    }

    /// <summary>IR version 1 attributes carry no type: infer it from the field that is set.</summary>
    private static AttributeKind InferKind(AttributeProto p) =>
        p.HasF ? AttributeKind.Float
        : p.HasI ? AttributeKind.Int
        : p.HasS ? AttributeKind.String
        : p.T is not null ? AttributeKind.Tensor
        : p.G is not null ? AttributeKind.Graph
        : p.SparseTensor is not null ? AttributeKind.SparseTensor
        : p.Tp is not null ? AttributeKind.TypeProto
        : p.Floats.Count > 0 ? AttributeKind.Floats
        : p.Strings.Count > 0 ? AttributeKind.Strings
        : p.Tensors.Count > 0 ? AttributeKind.Tensors
        : p.Graphs.Count > 0 ? AttributeKind.Graphs
        : p.SparseTensors.Count > 0 ? AttributeKind.SparseTensors
        : p.TypeProtos.Count > 0 ? AttributeKind.TypeProtos
        : AttributeKind.Ints;

    private SparseTensor ReadSparseTensor(SparseTensorProto proto)
    {
        var values = ReadTensor(proto.Values ?? new TensorProto());
        var dims = proto.Dims.ToArray();
        _ = TensorCodec.CheckedElementCount(values.Name, values.ElementType, dims);
        return new(values, ReadTensor(proto.Indices ?? new TensorProto()), dims);
    }

    private Tensor ReadTensor(TensorProto proto)
    {
        ExternalDataInfo? external = null;
        byte[]? externalBytes = null;
        if (proto.HasDataLocation && proto.DataLocation == TensorProto.Types.DataLocation.External)
        {
            external = ExternalData.Describe(proto);
            externalBytes = ExternalData.Read(proto, external, _baseDirectory);
        }
        var tensor = TensorCodec.Decode(proto, externalBytes);
        tensor.DocString = proto.HasDocString ? proto.DocString : null;
        tensor.External = external;
        tensor.PreservedFields = Preserved.Capture(proto, p =>
        {
            p.Dims.Clear();
            p.ClearDataType();
            p.FloatData.Clear();
            p.Int32Data.Clear();
            p.StringData.Clear();
            p.Int64Data.Clear();
            if (p.Name.Length > 0) { p.ClearName(); }
            p.ClearDocString();
            p.ClearRawData();
            p.ExternalData.Clear();
            p.ClearDataLocation();
            p.DoubleData.Clear();
            p.Uint64Data.Clear();
        });
        return tensor;
    }

    private static void ApplyValueInfo(Value value, ValueInfoProto info)
    {
        value.DocString ??= info.HasDocString ? info.DocString : null;
        value.PreservedFields ??= Preserved.Capture(info, p =>
        {
            p.ClearName();
            p.Type = null;
            p.ClearDocString();
        });
    }

    /// <summary>
    /// The declared type of a graph input, output or value_info entry. A tensor shape whose known sizes
    /// multiply past a 64-bit count cannot describe any tensor; it is refused here, naming the value, so that
    /// no later shape computation meets it as an overflow.
    /// </summary>
    private static OnnxType? ReadDeclaredType(ValueInfoProto info, string where)
    {
        var type = ReadType(info.Type);
        var shape = type switch
        {
            TensorType t => t.Shape,
            SparseTensorType t => t.Shape,
            _ => null,
        };
        if (shape is not null && !shape.KnownSizesFit())
        {
            throw ImplicitRegException.BadInput($"{where}: value '{info.Name}' is declared with shape {shape}, more elements than a 64-bit count holds; fix the shape in the model");
        }
        return type;
    }

    internal static OnnxType? ReadType(TypeProto? proto)
    {
        if (proto is null)
        {
            return null;
        }
        OnnxType type = proto.ValueCase switch
        {
            TypeProto.ValueOneofCase.TensorType => new TensorType(ReadElementType(proto.TensorType.ElemType), ReadShape(proto.TensorType.Shape)),
            TypeProto.ValueOneofCase.SparseTensorType => new SparseTensorType(ReadElementType(proto.SparseTensorType.ElemType), ReadShape(proto.SparseTensorType.Shape)),
            TypeProto.ValueOneofCase.SequenceType => new SequenceType(ReadType(proto.SequenceType.ElemType)),
            TypeProto.ValueOneofCase.MapType => new MapType(ReadElementType(proto.MapType.KeyType), ReadType(proto.MapType.ValueType)),
            TypeProto.ValueOneofCase.OptionalType => new OptionalType(ReadType(proto.OptionalType.ElemType)),
            TypeProto.ValueOneofCase.OpaqueType => new OpaqueType(proto.OpaqueType.Domain, proto.OpaqueType.Name),
            _ => new UnspecifiedType(),
        };
        return proto.HasDenotation ? type with { Denotation = proto.Denotation } : type;
    }

    private static ElementType ReadElementType(int code) =>
        code == 0 || ElementTypes.IsKnown(code) ? (ElementType)code : throw ImplicitRegException.BadInput($"unknown element type {code}");

    private static Shape? ReadShape(TensorShapeProto? proto)
    {
        if (proto is null)
        {
            return null;
        }
        return new Shape(proto.Dim.Select(d =>
        {
            var dim = d.ValueCase switch
            {
                TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue => Dim.Of(d.DimValue),
                TensorShapeProto.Types.Dimension.ValueOneofCase.DimParam => Dim.Named(d.DimParam),
                _ => Dim.Unknown,
            };
            return d.HasDenotation ? dim with { Denotation = d.Denotation } : dim;
        }));
    }
}
