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

    /// <summary>Creates a node that belongs to no graph yet (add it with <see cref="Onnx.Graph.Append"/> or <see cref="Onnx.Graph.Insert"/>) and new values for its outputs, typeless until set or inferred.</summary>
    /// <param name="domain">The operator set domain; "" for the standard operators.</param>
    /// <param name="opType">The operator, e.g. "MatMul".</param>
    /// <param name="inputs">The inputs in order; null for an omitted optional input. The node is added to each value's <see cref="Value.Uses"/>.</param>
    /// <param name="outputNames">One name per output; null or "" for an omitted optional output. Names must be unique in the model (see <see cref="Building.GraphBuilder.FreshName"/>).</param>
    /// <param name="attributes">The attributes; a later one replaces an earlier one of the same name.</param>
    /// <param name="name">The node's name; "" for none (ONNX Runtime wants unique node names where given).</param>
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

    /// <summary>The operator set domain: "" (or its alias "ai.onnx") for standard operators.</summary>
    public string Domain { get; set; }

    /// <summary>The operator, e.g. "Conv"; with <see cref="Domain"/> it picks the operator (or a model-local <see cref="Function"/>).</summary>
    public string OpType { get; set; }

    /// <summary>The node's name; "" when it has none.</summary>
    public string Name { get; set; }

    /// <summary>Which overload of a model-local function the node calls (IR version 10); null for none.</summary>
    public string? Overload { get; set; }

    /// <summary>The node's doc_string; null when the file has none.</summary>
    public string? DocString { get; set; }

    /// <summary>The graph the node belongs to; null until it is added to one and after it is removed.</summary>
    public Graph? Graph { get; internal set; }

    /// <summary>The inputs in order; null entries are omitted optional inputs. Change them with <see cref="SetInput"/> and <see cref="AppendInput"/>, which keep <see cref="Value.Uses"/> right.</summary>
    public IReadOnlyList<Value?> Inputs => _inputs;

    /// <summary>The outputs in order, each produced by this node (<see cref="Value.Producer"/>); null entries are omitted optional outputs. Their number is fixed when the node is made.</summary>
    public IReadOnlyList<Value?> Outputs => _outputs;

    /// <summary>The attributes in file order, names unique.</summary>
    public IReadOnlyList<Attribute> Attributes => _attributes;

    /// <summary>NodeProto fields the IR does not model (metadata, device configurations, unknown fields).</summary>
    internal byte[]? PreservedFields { get; set; }

    /// <summary>True for the standard ONNX domain ("" or "ai.onnx").</summary>
    public bool IsStandard => Domain is "" or "ai.onnx";

    /// <summary>The first output, for the common single-output node.</summary>
    /// <exception cref="InvalidOperationException">The node has no outputs or its first output is omitted.</exception>
    public Value Output => _outputs.Length > 0 && _outputs[0] is { } v ? v : throw new InvalidOperationException($"Node '{Name}' ({OpType}) has no first output.");

    /// <summary>Input <paramref name="index"/>, or null when it is omitted or the node has fewer inputs (trailing optional inputs may be left out).</summary>
    /// <param name="index">From 0.</param>
    public Value? Input(int index) => index < _inputs.Count ? _inputs[index] : null;

    /// <summary>Replaces input <paramref name="index"/>, moving this node's use from the old value to the new one.</summary>
    /// <param name="index">From 0 to <c>Inputs.Count - 1</c>.</param>
    /// <param name="value">The new input; null to omit an optional input.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is not an existing input (use <see cref="AppendInput"/>).</exception>
    public void SetInput(int index, Value? value)
    {
        _inputs[index]?.RemoveUse(this, index);
        _inputs[index] = value;
        value?.AddUse(this, index);
    }

    /// <summary>Adds an input after the last one and records the use.</summary>
    /// <param name="value">The input; null for an omitted optional input (to reach a later one).</param>
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

    /// <summary>The attribute named <paramref name="name"/>, or null when the node has none.</summary>
    /// <param name="name">The attribute's name.</param>
    public Attribute? GetAttribute(string name) => _attributes.Find(a => a.Name == name);

    /// <summary>Sets an attribute, replacing one of the same name in place or else appending it. Subgraphs it holds get this node as their <see cref="Onnx.Graph.ParentNode"/>.</summary>
    /// <param name="attribute">The attribute.</param>
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

    /// <summary>Removes the attribute named <paramref name="name"/>.</summary>
    /// <param name="name">The attribute's name.</param>
    /// <returns>Whether there was one.</returns>
    public bool RemoveAttribute(string name) => _attributes.RemoveAll(a => a.Name == name) > 0;

    /// <summary>The value of the INT attribute <paramref name="name"/>, or <paramref name="defaultValue"/> when the node has none (the operator's default).</summary>
    /// <param name="name">The attribute's name.</param>
    /// <param name="defaultValue">The value when absent.</param>
    /// <exception cref="ImplicitRegException"><see cref="ErrorKind.BadInput"/>: the attribute exists but is not an INT.</exception>
    public long GetInt(string name, long defaultValue) => GetAttribute(name) is { } a ? Naming(a.AsInt) : defaultValue;

    /// <summary>The value of the FLOAT attribute <paramref name="name"/>, or <paramref name="defaultValue"/> when the node has none.</summary>
    /// <param name="name">The attribute's name.</param>
    /// <param name="defaultValue">The value when absent.</param>
    /// <exception cref="ImplicitRegException"><see cref="ErrorKind.BadInput"/>: the attribute exists but is not a FLOAT.</exception>
    public float GetFloat(string name, float defaultValue) => GetAttribute(name) is { } a ? Naming(a.AsFloat) : defaultValue;

    /// <summary>The value of the STRING attribute <paramref name="name"/> (UTF-8), or <paramref name="defaultValue"/> when the node has none.</summary>
    /// <param name="name">The attribute's name.</param>
    /// <param name="defaultValue">The value when absent.</param>
    /// <exception cref="ImplicitRegException"><see cref="ErrorKind.BadInput"/>: the attribute exists but is not a STRING.</exception>
    public string GetString(string name, string defaultValue) => GetAttribute(name) is { } a ? Naming(a.AsString) : defaultValue;

    /// <summary>The values of the INTS attribute <paramref name="name"/>, or null when the node has none.</summary>
    /// <param name="name">The attribute's name.</param>
    /// <exception cref="ImplicitRegException"><see cref="ErrorKind.BadInput"/>: the attribute exists but is not INTS.</exception>
    public IReadOnlyList<long>? GetInts(string name) => GetAttribute(name) is { } a ? Naming(a.AsInts) : null;

    // An attribute of the wrong kind is the model's fault: the error names this node (ONNX IR spec: each
    // operator's attributes have fixed types).
    private T Naming<T>(Func<T> read)
    {
        try
        {
            return read();
        }
        catch (ImplicitRegException e) when (e.Kind == ErrorKind.BadInput)
        {
            throw e.Within($"node {this}");
        }
    }

    /// <summary>The subgraphs held in the node's attributes (If branches, Loop and Scan bodies), in attribute order; empty for most nodes.</summary>
    public IEnumerable<Graph> Subgraphs => _attributes.SelectMany(a => a.Subgraphs);

    /// <summary>Values of enclosing scopes that this node's subgraphs read (outer-scope references): inputs the node depends on although they are not in <see cref="Inputs"/>. Each value once.</summary>
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

    /// <summary>A one-line rendering for messages, e.g. <c>conv1 = Conv(x, w, b)</c>; not a serialization.</summary>
    public override string ToString() =>
        $"{(string.IsNullOrEmpty(Name) ? "" : Name + " = ")}{(IsStandard ? "" : Domain + ".")}{OpType}({string.Join(", ", _inputs.Select(i => i?.Name ?? ""))})";
}
