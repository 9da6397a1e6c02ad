using ImplicitRegOnnx.Onnx.Serialization;

namespace ImplicitRegOnnx.Onnx;

/// <summary>An operator set a model or function imports (OperatorSetIdProto).</summary>
/// <param name="Domain">The domain: "" (or its alias "ai.onnx") for the standard operators, e.g. "ai.onnx.ml" or "com.microsoft" otherwise.</param>
/// <param name="Version">The imported version of that domain's operator set.</param>
public sealed record OpsetId(string Domain, long Version)
{
    /// <summary>The file spelled the default domain as an explicit "" (kept for a faithful round trip).</summary>
    internal bool ExplicitEmptyDomain { get; init; }
}

/// <summary>One entry of a model's metadata_props.</summary>
/// <param name="Key">The key; the toolkit's own keys start with "implicitreg.".</param>
/// <param name="Value">The value.</param>
public sealed record MetadataEntry(string Key, string Value);

/// <summary>
/// A whole model file (ModelProto): the main graph, the operator sets it imports, model-local functions and
/// metadata. <see cref="Load(string, ModelLoadOptions?)"/> reads one and <see cref="Save(string, ModelSaveOptions?)"/>
/// writes one; fields of the file that the IR does not model are carried through unchanged. A model is mutable and
/// not thread-safe.
/// </summary>
/// <param name="graph">The main graph.</param>
public sealed class Model(Graph graph)
{
    /// <summary>The newest IR version this toolkit knows. Newer files still load (fields the IR does not model are carried through unchanged), with <see cref="IsNewerThanKnown"/> set.</summary>
    public const long MaxIrVersion = 12;

    /// <summary>IR versions above this are not plausible (ONNX adds about one a year): such a file is not a model.</summary>
    public const long MaxPlausibleIrVersion = 64;

    /// <summary>The file's IR version is newer than this toolkit knows; callers may want to warn.</summary>
    public bool IsNewerThanKnown => IrVersion > MaxIrVersion;

    /// <summary>The ONNX IR version the file follows (ir_version); 8 for a model made in code.</summary>
    public long IrVersion { get; set; } = 8;

    /// <summary>The tool that wrote the model (producer_name); "" when not given.</summary>
    public string ProducerName { get; set; } = "";

    /// <summary>The version of that tool (producer_version); "" when not given.</summary>
    public string ProducerVersion { get; set; } = "";

    /// <summary>The model's own namespace (domain, reverse-DNS by convention); "" when not given.</summary>
    public string Domain { get; set; } = "";

    /// <summary>The model's version number (model_version); 0 when not given.</summary>
    public long ModelVersion { get; set; }

    /// <summary>The model's doc_string; null when the file has none.</summary>
    public string? DocString { get; set; }

    /// <summary>The main graph.</summary>
    public Graph Graph { get; set; } = graph;

    /// <summary>The operator sets the model imports (opset_import), in file order. Use <see cref="OpsetVersion"/> and <see cref="SetOpsetVersion"/> to read and change one by domain.</summary>
    public List<OpsetId> Opsets { get; } = [];

    /// <summary>The metadata_props entries, in file order.</summary>
    public List<MetadataEntry> MetadataProps { get; } = [];

    /// <summary>Model-local functions (FunctionProto), called by nodes whose domain and op type name them.</summary>
    public List<Function> Functions { get; } = [];

    /// <summary>ModelProto fields the IR does not model (training_info, configuration, unknown fields).</summary>
    internal byte[]? PreservedFields { get; set; }

    /// <summary>The imported version of a domain's operator set ("" and "ai.onnx" are the same domain), or null when the model does not import it.</summary>
    /// <param name="domain">The domain; "" for the standard operators.</param>
    public long? OpsetVersion(string domain = "")
    {
        var normalized = NormalizeDomain(domain);
        return Opsets.LastOrDefault(o => NormalizeDomain(o.Domain) == normalized)?.Version;
    }

    /// <summary>Sets the imported version of a domain's operator set, adding an import when there is none. Nodes are not changed: raising the standard opset of an existing model needs an upgrade of its nodes.</summary>
    /// <param name="domain">The domain; "" for the standard operators.</param>
    /// <param name="version">The version.</param>
    public void SetOpsetVersion(string domain, long version)
    {
        var normalized = NormalizeDomain(domain);
        var index = Opsets.FindIndex(o => NormalizeDomain(o.Domain) == normalized);
        if (index >= 0)
        {
            Opsets[index] = Opsets[index] with { Version = version };
        }
        else
        {
            Opsets.Add(new OpsetId(domain, version));
        }
    }

    /// <summary>The domain with the standard operators' alias "ai.onnx" spelled "", so domains compare with <c>==</c>.</summary>
    /// <param name="domain">A domain as written in a file.</param>
    public static string NormalizeDomain(string domain) => domain == "ai.onnx" ? "" : domain;

    /// <summary>
    /// Reads a model file. External data (ONNX IR spec, "External Tensor Data") is read from files next to it, which must
    /// lie inside the model's folder (or <see cref="ModelLoadOptions.BaseDirectory"/>) after resolving links; a side file that
    /// is a symbolic link or has more than one hard link is refused.
    /// </summary>
    /// <param name="path">The .onnx file.</param>
    /// <param name="options">Reading options; null for the defaults.</param>
    /// <returns>The model; nothing of the file is held open.</returns>
    /// <exception cref="ImplicitRegException"><see cref="ErrorKind.BadInput"/>, the message starting with <paramref name="path"/>: the file is missing, a folder, unreadable, empty, not a ModelProto, of an implausible IR version, or its external data is missing, outside the folder, linked or of the wrong size.</exception>
    public static Model Load(string path, ModelLoadOptions? options = null) => ModelSerializer.Load(path, options);

    /// <summary>Reads a model from a stream (to its end). External data is only found when <see cref="ModelLoadOptions.BaseDirectory"/> is given.</summary>
    /// <param name="stream">The serialized ModelProto.</param>
    /// <param name="options">Reading options; null for the defaults (then a model with external data fails to load).</param>
    /// <exception cref="ImplicitRegException"><see cref="ErrorKind.BadInput"/>: the bytes are not a valid model or its external data cannot be read (as for <see cref="Load(string, ModelLoadOptions?)"/>).</exception>
    public static Model Load(Stream stream, ModelLoadOptions? options = null) => ModelSerializer.Load(stream, options);

    /// <summary>Reads a model from bytes. External data is only found when <see cref="ModelLoadOptions.BaseDirectory"/> is given.</summary>
    /// <param name="bytes">The serialized ModelProto.</param>
    /// <param name="options">Reading options; null for the defaults (then a model with external data fails to load).</param>
    /// <exception cref="ImplicitRegException"><see cref="ErrorKind.BadInput"/>: the bytes are not a valid model or its external data cannot be read (as for <see cref="Load(string, ModelLoadOptions?)"/>).</exception>
    public static Model Load(ReadOnlySpan<byte> bytes, ModelLoadOptions? options = null) => ModelSerializer.Load(bytes, options);

    /// <summary>
    /// Writes the model to a file, and its external data to side files in the same folder as <paramref name="options"/> say:
    /// each file goes to a temporary name and is renamed into place only when complete (side files first), and no file is
    /// ever written through a symbolic link or outside the model's folder. The folder is created when missing.
    /// </summary>
    /// <param name="path">The .onnx file to write; replaced if it exists.</param>
    /// <param name="options">Where tensor payloads go; null for <see cref="ExternalDataPolicy.Preserve"/>.</param>
    /// <exception cref="ImplicitRegException"><see cref="ErrorKind.BadInput"/>: <paramref name="path"/> or a side file is a link or a folder, or a side file's name (<see cref="ModelSaveOptions.ExternalFileName"/> or a tensor's <see cref="ExternalDataInfo.Location"/>) leads outside the folder.</exception>
    /// <exception cref="IOException">The file system refused the write (permissions, disk full).</exception>
    public void Save(string path, ModelSaveOptions? options = null) => ModelSerializer.Save(this, path, options);

    /// <summary>Writes the model to a stream as one ModelProto with every tensor payload inline (so at most 2 GiB in all, protobuf's limit).</summary>
    /// <param name="stream">The destination; not closed.</param>
    public void Save(Stream stream) => ModelSerializer.Save(this, stream);

    /// <summary>The serialized model (one ModelProto, every payload inline) as bytes.</summary>
    public byte[] ToBytes()
    {
        using var ms = new MemoryStream();
        Save(ms);
        return ms.ToArray();
    }
}

/// <summary>A model-local function (FunctionProto): a body graph that nodes of <see cref="Domain"/>, op type <see cref="Name"/> and <see cref="Overload"/> call.</summary>
/// <param name="domain">The domain the function defines its operator in.</param>
/// <param name="name">The operator's name.</param>
/// <param name="body">The body; its inputs and outputs are the function's formal inputs and outputs.</param>
public sealed class Function(string domain, string name, Graph body)
{
    /// <summary>The domain the function defines its operator in.</summary>
    public string Domain { get; set; } = domain;

    /// <summary>The operator's name (the op type of the nodes that call it).</summary>
    public string Name { get; set; } = name;

    /// <summary>The overload (IR version 10) that tells functions of one name apart; null when none.</summary>
    public string? Overload { get; set; }

    /// <summary>The function's doc_string; null when the file has none.</summary>
    public string? DocString { get; set; }

    /// <summary>Formal inputs and outputs are the body's inputs and outputs (untyped in the file).</summary>
    public Graph Body { get; } = body;

    /// <summary>Names of the function's attributes that have no default value (attribute).</summary>
    public List<string> AttributeNames { get; } = [];

    /// <summary>The function's attributes that have default values (attribute_proto).</summary>
    public List<Attribute> AttributeDefaults { get; } = [];

    /// <summary>The operator sets the body imports.</summary>
    public List<OpsetId> Opsets { get; } = [];

    /// <summary>FunctionProto fields the IR does not model (value_info, metadata, unknown fields).</summary>
    internal byte[]? PreservedFields { get; set; }
}
