using ImplicitRegOnnx.Onnx.Serialization;

namespace ImplicitRegOnnx.Onnx;

/// <summary>An operator set a model imports: a domain ("" for ai.onnx) and its version.</summary>
public sealed record OpsetId(string Domain, long Version)
{
    /// <summary>The file spelled the default domain as an explicit "" (kept for a faithful round trip).</summary>
    internal bool ExplicitEmptyDomain { get; init; }
}

/// <summary>A key/value pair of metadata_props.</summary>
public sealed record MetadataEntry(string Key, string Value);

/// <summary>
/// A whole model file: the main graph, the operator sets it imports, model-local functions and
/// metadata. Load and save go through <see cref="ModelSerializer"/>.
/// </summary>
public sealed class Model(Graph graph)
{
    /// <summary>The newest IR version this toolkit knows. Newer files still load (fields the IR does not model are carried through unchanged), with <see cref="IsNewerThanKnown"/> set.</summary>
    public const long MaxIrVersion = 12;

    /// <summary>IR versions above this are not plausible (ONNX adds about one a year): such a file is not a model.</summary>
    public const long MaxPlausibleIrVersion = 64;

    /// <summary>The file's IR version is newer than this toolkit knows; callers may want to warn.</summary>
    public bool IsNewerThanKnown => IrVersion > MaxIrVersion;

    public long IrVersion { get; set; } = 8;

    public string ProducerName { get; set; } = "";

    public string ProducerVersion { get; set; } = "";

    public string Domain { get; set; } = "";

    public long ModelVersion { get; set; }

    public string? DocString { get; set; }

    public Graph Graph { get; set; } = graph;

    public List<OpsetId> Opsets { get; } = [];

    public List<MetadataEntry> MetadataProps { get; } = [];

    public List<Function> Functions { get; } = [];

    /// <summary>ModelProto fields the IR does not model (training_info, configuration, unknown fields).</summary>
    internal byte[]? PreservedFields { get; set; }

    /// <summary>The imported version of a domain ("" and "ai.onnx" are the same), or null.</summary>
    public long? OpsetVersion(string domain = "")
    {
        var normalized = NormalizeDomain(domain);
        return Opsets.LastOrDefault(o => NormalizeDomain(o.Domain) == normalized)?.Version;
    }

    /// <summary>Sets (or adds) the imported version of a domain.</summary>
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

    public static string NormalizeDomain(string domain) => domain == "ai.onnx" ? "" : domain;

    public static Model Load(string path, ModelLoadOptions? options = null) => ModelSerializer.Load(path, options);

    public static Model Load(Stream stream, ModelLoadOptions? options = null) => ModelSerializer.Load(stream, options);

    public static Model Load(ReadOnlySpan<byte> bytes, ModelLoadOptions? options = null) => ModelSerializer.Load(bytes, options);

    /// <summary>Writes the model atomically (temp file, then rename), with side files for external data.</summary>
    public void Save(string path, ModelSaveOptions? options = null) => ModelSerializer.Save(this, path, options);

    /// <summary>Writes the model to a stream; all tensor payloads are written inline.</summary>
    public void Save(Stream stream) => ModelSerializer.Save(this, stream);

    /// <summary>The serialized model as bytes (payloads inline).</summary>
    public byte[] ToBytes()
    {
        using var ms = new MemoryStream();
        Save(ms);
        return ms.ToArray();
    }
}

/// <summary>A model-local function (FunctionProto): a body graph called by nodes of (Domain, Name, Overload).</summary>
public sealed class Function(string domain, string name, Graph body)
{
    public string Domain { get; set; } = domain;

    public string Name { get; set; } = name;

    public string? Overload { get; set; }

    public string? DocString { get; set; }

    /// <summary>Formal inputs and outputs are the body's inputs and outputs (untyped in the file).</summary>
    public Graph Body { get; } = body;

    /// <summary>Names of attributes without defaults.</summary>
    public List<string> AttributeNames { get; } = [];

    /// <summary>Attributes with default values.</summary>
    public List<Attribute> AttributeDefaults { get; } = [];

    public List<OpsetId> Opsets { get; } = [];

    /// <summary>FunctionProto fields the IR does not model (value_info, metadata, unknown fields).</summary>
    internal byte[]? PreservedFields { get; set; }
}
