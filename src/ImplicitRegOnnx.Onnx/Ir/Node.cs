namespace ImplicitRegOnnx.Onnx;

/// <summary>
/// One operator call. Inputs are values (null for an omitted optional input); outputs are values this
/// node creates (null for an omitted optional output). Attributes keep file order.
/// </summary>
public sealed class Node
{
    private readonly List<Value?> _inputs = [];
    private readonly Value?[] _outputs;
    private readonly List<Attribute> _attributes = [];

    /// <summary>Creates a node and its output values. Output names null or empty mean "output omitted".</summary>
    public Node(string domain, string opType, IEnumerable<Value?> inputs, IEnumerable<string?> outputNames,
        IEnumerable<Attribute>? attributes = null, string name = "")
    {
        Domain = domain;
        OpType = opType;
        Name = name;
        foreach (var input in inputs)
        {
            AppendInput(input);
        }
        var names = outputNames.ToArray();
        _outputs = new Value?[names.Length];
        for (var i = 0; i < names.Length; i++)
        {
            if (!string.IsNullOrEmpty(names[i]))
            {
                _outputs[i] = new Value(names[i]!) { Producer = this, ProducerOutputIndex = i };
            }
        }
        if (attributes is not null)
        {
            foreach (var a in attributes)
            {
                SetAttribute(a);
            }
        }
    }

    /// <summary>The operator set domain: "" (or "ai.onnx") for standard ops.</summary>
    public string Domain { get; set; }

    public string OpType { get; set; }

    public string Name { get; set; }

    /// <summary>Overload of a model-local function (IR version 10).</summary>
    public string? Overload { get; set; }

    public string? DocString { get; set; }

    /// <summary>The graph this node belongs to, once added.</summary>
    public Graph? Graph { get; internal set; }

    public IReadOnlyList<Value?> Inputs => _inputs;

    public IReadOnlyList<Value?> Outputs => _outputs;

    public IReadOnlyList<Attribute> Attributes => _attributes;

    /// <summary>NodeProto fields the IR does not model (metadata, device configurations, unknown fields).</summary>
    internal byte[]? PreservedFields { get; set; }

    /// <summary>True for the default ONNX domain ("" or "ai.onnx").</summary>
    public bool IsStandard => Domain is "" or "ai.onnx";

    /// <summary>The single (first) output; throws when it was omitted.</summary>
    public Value Output => _outputs.Length > 0 && _outputs[0] is { } v ? v : throw new InvalidOperationException($"Node '{Name}' ({OpType}) has no first output.");

    public Value? Input(int index) => index < _inputs.Count ? _inputs[index] : null;

    public void SetInput(int index, Value? value)
    {
        _inputs[index]?.RemoveUse(this, index);
        _inputs[index] = value;
        value?.AddUse(this, index);
    }

    public void AppendInput(Value? value)
    {
        _inputs.Add(value);
        value?.AddUse(this, _inputs.Count - 1);
    }

    /// <summary>Removes this node's uses of its inputs (before deleting the node).</summary>
    internal void DetachInputs()
    {
        for (var i = 0; i < _inputs.Count; i++)
        {
            _inputs[i]?.RemoveUse(this, i);
        }
    }

    /// <summary>Adds the node's uses back after <see cref="DetachInputs"/>.</summary>
    internal void AttachInputs()
    {
        for (var i = 0; i < _inputs.Count; i++)
        {
            _inputs[i]?.AddUse(this, i);
        }
    }

    public Attribute? GetAttribute(string name) => _attributes.Find(a => a.Name == name);

    public void SetAttribute(Attribute attribute)
    {
        var index = _attributes.FindIndex(a => a.Name == attribute.Name);
        if (index >= 0)
        {
            _attributes[index] = attribute;
        }
        else
        {
            _attributes.Add(attribute);
        }
        foreach (var g in attribute.Subgraphs)
        {
            g.ParentNode = this;
        }
    }

    public bool RemoveAttribute(string name) => _attributes.RemoveAll(a => a.Name == name) > 0;

    public long GetInt(string name, long defaultValue) => GetAttribute(name)?.AsInt() ?? defaultValue;

    public float GetFloat(string name, float defaultValue) => GetAttribute(name)?.AsFloat() ?? defaultValue;

    public string GetString(string name, string defaultValue) => GetAttribute(name)?.AsString() ?? defaultValue;

    public IReadOnlyList<long>? GetInts(string name) => GetAttribute(name)?.AsInts();

    /// <summary>Subgraphs held in attributes (If branches, Loop and Scan bodies).</summary>
    public IEnumerable<Graph> Subgraphs => _attributes.SelectMany(a => a.Subgraphs);

    /// <summary>Values from enclosing scopes that this node's subgraphs read (outer-scope references).</summary>
    public IEnumerable<Value> ImplicitInputs()
    {
        var seen = new HashSet<Value>();
        foreach (var sub in Subgraphs)
        {
            foreach (var v in sub.OuterScopeReferences())
            {
                if (seen.Add(v))
                {
                    yield return v;
                }
            }
        }
    }

    public override string ToString() =>
        $"{(string.IsNullOrEmpty(Name) ? "" : Name + " = ")}{(IsStandard ? "" : Domain + ".")}{OpType}({string.Join(", ", _inputs.Select(i => i?.Name ?? ""))})";
}
