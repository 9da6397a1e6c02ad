using ImplicitRegOnnx.Onnx.Inference;

namespace ImplicitRegOnnx.Onnx.Passes;

/// <summary>
/// Raises a model's ai.onnx opset import to a target version (never lowers it) and rewrites every
/// node whose operator signature or semantics changed between the model's opset and the target,
/// following the ONNX operator changelog (docs/Changelog.md of the onnx repository; the rules, with
/// the versions they rely on, are in <see cref="OpsetUpgradeRules"/>). Works on the main graph, its
/// subgraphs and model-local function bodies (each at its own ai.onnx import). Nodes of other
/// domains are left alone. Before anything is changed every node is checked: when some cannot be
/// converted, an <see cref="OpsetUpgradeException"/> lists all of them and the model is unchanged.
/// Value types that shape inference (at the old opset) fills in to guide the rules stay on an upgraded model.
/// </summary>
/// <param name="targetOpset">The ai.onnx version to reach, from <see cref="MinTarget"/> to <see cref="MaxTarget"/>.</param>
internal sealed class OpsetUpgrade(long targetOpset = 17) : IModelPass
{
    /// <summary>The lowest supported target: from opset 13 axes of Squeeze, Unsqueeze, ReduceSum and Split are inputs.</summary>
    public const long MinTarget = 13;

    /// <summary>The highest supported target: the rules cover the changelog up to opset 21.</summary>
    public const long MaxTarget = 21;

    public long TargetOpset { get; } = CheckTarget(targetOpset);

    public string Name => "opset-upgrade";

    public int Run(Model model) => Upgrade(model, TargetOpset).RewrittenNodes;

    /// <summary>
    /// Upgrades the model in place. Returns what changed; throws <see cref="OpsetUpgradeException"/>
    /// (naming every node that cannot be converted) before changing anything when some cannot.
    /// </summary>
    public static OpsetUpgradeReport Upgrade(Model model, long targetOpset = 17)
    {
        ArgumentNullException.ThrowIfNull(model);
        CheckTarget(targetOpset);
        var from = model.OpsetVersion("");
        var jobs = new List<(List<Graph> Graphs, long From, Action Raise)>();
        if (from is null || from < targetOpset)
        {
            // A model without an ai.onnx import has no standard nodes to convert: importing the target is enough.
            jobs.Add((model.Graph.SelfAndSubgraphs().ToList(), from ?? targetOpset, () => model.SetOpsetVersion("", targetOpset)));
        }
        foreach (var function in model.Functions)
        {
            var index = function.Opsets.FindIndex(o => Model.NormalizeDomain(o.Domain) == "");
            var version = index >= 0 ? function.Opsets[index].Version : from;
            if (version is { } v && v < targetOpset)
            {
                jobs.Add((function.Body.SelfAndSubgraphs().ToList(), v, () =>
                {
                    if (index >= 0)
                    {
                        function.Opsets[index] = function.Opsets[index] with { Version = targetOpset };
                    }
                }));
            }
        }
        var fromReported = from ?? targetOpset;
        if (jobs.Count == 0)
        {
            return new OpsetUpgradeReport(fromReported, Math.Max(fromReported, targetOpset), 0, new Dictionary<string, int>());
        }

        // Ranks and element types decide some rewrites (Softmax, broadcasting with axis, typed constants).
        var types = PassHelpers.AllGraphs(model).SelectMany(AllValues).Distinct().Select(v => (Value: v, v.Type)).ToList();
        try
        {
            ShapeInference.InferModel(model);
        }
        catch (Exception)
        {
            // Inference only adds knowledge; the rules fall back to rank-independent rewrites.
        }

        var names = CollectNames(model);
        var refusals = new List<OpsetUpgradeRefusal>();
        var work = new List<(Node Node, Action Apply)>();
        foreach (var (graphs, version, _) in jobs)
        {
            foreach (var graph in graphs)
            {
                var upgrader = new Upgrader(graph, version, targetOpset, names);
                foreach (var node in graph.Nodes.Where(n => n.IsStandard))
                {
                    var plan = OpsetUpgradeRules.Plan(node, upgrader);
                    if (plan.Refusal is { } reason)
                    {
                        refusals.Add(new OpsetUpgradeRefusal(node.OpType, node.Name, reason));
                    }
                    else if (plan.Apply is { } apply)
                    {
                        work.Add((node, apply));
                    }
                }
            }
        }
        if (refusals.Count > 0)
        {
            foreach (var (value, type) in types)
            {
                value.Type = type;
            }
            throw new OpsetUpgradeException(fromReported, targetOpset, refusals);
        }

        var byOp = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var (node, apply) in work)
        {
            byOp[node.OpType] = byOp.GetValueOrDefault(node.OpType) + 1;
            apply();
        }
        foreach (var (_, _, raise) in jobs)
        {
            raise();
        }
        // The ONNX versioning table pairs each opset with the IR version that introduced it.
        model.IrVersion = Math.Max(model.IrVersion, MinIrVersion(targetOpset));
        return new OpsetUpgradeReport(fromReported, targetOpset, work.Count, byOp);
    }

    /// <summary>The IR version released with an ai.onnx opset (ONNX docs/Versioning.md).</summary>
    private static long MinIrVersion(long opset) => opset switch
    {
        <= 14 => 7,
        <= 18 => 8,
        <= 20 => 9,
        _ => 10,
    };

    private static long CheckTarget(long target) =>
        target is >= MinTarget and <= MaxTarget
            ? target
            : throw new ArgumentOutOfRangeException(nameof(target), target, $"the opset upgrade supports targets {MinTarget} to {MaxTarget}");

    private static IEnumerable<Value> AllValues(Graph graph) =>
        graph.Inputs.Concat(graph.Initializers).Concat(graph.Nodes.SelectMany(n => n.Outputs).OfType<Value>());

    private static HashSet<string> CollectNames(Model model)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var graph in PassHelpers.AllGraphs(model))
        {
            names.UnionWith(graph.CollectNames());
            foreach (var node in graph.Nodes)
            {
                if (!string.IsNullOrEmpty(node.Name))
                {
                    names.Add(node.Name);
                }
            }
        }
        return names;
    }
}

/// <summary>What an upgrade did: the versions and how many nodes were rewritten, per operator (old op type).</summary>
internal sealed record OpsetUpgradeReport(long FromOpset, long ToOpset, int RewrittenNodes, IReadOnlyDictionary<string, int> RewrittenByOp)
{
    public bool Changed => FromOpset < ToOpset;
}

/// <summary>A node the upgrade cannot convert, and why.</summary>
internal sealed record OpsetUpgradeRefusal(string OpType, string NodeName, string Reason);

/// <summary>
/// Some nodes of a model cannot be converted to the target opset (kind <see cref="ErrorKind.Unsupported"/>);
/// the message names all of them and <see cref="Refusals"/> lists them.
/// </summary>
internal sealed class OpsetUpgradeException : ImplicitRegException
{
    /// <summary>The refusals of an upgrade from <paramref name="fromOpset"/> to <paramref name="toOpset"/>.</summary>
    /// <param name="fromOpset">The model's ai.onnx opset.</param>
    /// <param name="toOpset">The opset asked for.</param>
    /// <param name="refusals">Every node that cannot be converted, and why.</param>
    public OpsetUpgradeException(long fromOpset, long toOpset, IReadOnlyList<OpsetUpgradeRefusal> refusals)
        : base(ErrorKind.Unsupported, Describe(fromOpset, toOpset, refusals))
    {
        FromOpset = fromOpset;
        ToOpset = toOpset;
        Refusals = refusals;
    }

    /// <summary>The model's ai.onnx opset.</summary>
    public long FromOpset { get; }

    /// <summary>The opset asked for.</summary>
    public long ToOpset { get; }

    /// <summary>Every node that cannot be converted, and why.</summary>
    public IReadOnlyList<OpsetUpgradeRefusal> Refusals { get; }

    /// <summary>One line: "cannot upgrade from opset 9 to 17: Scan (node 'a', 'b'): reason; ...".</summary>
    private static string Describe(long from, long to, IReadOnlyList<OpsetUpgradeRefusal> refusals)
    {
        ArgumentNullException.ThrowIfNull(refusals);
        var groups = refusals.GroupBy(r => (r.OpType, r.Reason)).Select(g =>
        {
            var nodes = g.Select(r => $"'{r.NodeName}'").ToList();
            var shown = string.Join(", ", nodes.Take(3)) + (nodes.Count > 3 ? $" and {nodes.Count - 3} more" : "");
            return $"{g.Key.OpType} ({(nodes.Count == 1 ? "node" : "nodes")} {shown}): {g.Key.Reason}";
        });
        return $"cannot upgrade from opset {from} to {to}: {string.Join("; ", groups)}";
    }
}

/// <summary>A node's conversion: nothing to do, a deferred rewrite, or a refusal with its reason.</summary>
internal readonly record struct UpgradePlan(Action? Apply, string? Refusal)
{
    public static UpgradePlan None => default;

    public static UpgradePlan Do(Action apply) => new(apply, null);

    public static UpgradePlan Refuse(string reason) => new(null, reason);
}

/// <summary>Edits one graph during an upgrade: inserts nodes before a node, moves outputs to new producers.</summary>
internal sealed class Upgrader(Graph graph, long from, long to, HashSet<string> names)
{
    public Graph Graph { get; } = graph;

    /// <summary>The ai.onnx version the graph's nodes follow now.</summary>
    public long From { get; } = from;

    /// <summary>The version being upgraded to.</summary>
    public long To { get; } = to;

    /// <summary>Whether the changelog entry of version <paramref name="version"/> lies on the way (From &lt; version ≤ To).</summary>
    public bool Crosses(long version) => From < version && To >= version;

    public string FreshName(string hint)
    {
        if (names.Add(hint))
        {
            return hint;
        }
        for (var i = 1; ; i++)
        {
            var name = $"{hint}_{i}";
            if (names.Add(name))
            {
                return name;
            }
        }
    }

    /// <summary>Inserts an ai.onnx node just before <paramref name="before"/>.</summary>
    public Node EmitNode(Node before, string opType, Value?[] inputs, int outputCount, params Attribute[] attributes)
    {
        var prefix = string.IsNullOrEmpty(before.Name) ? opType : before.Name;
        var outputs = Enumerable.Range(0, outputCount).Select(_ => FreshName($"{prefix}/upgrade/{opType}")).ToArray();
        var node = new Node("", opType, inputs, outputs, attributes, FreshName($"{prefix}/upgrade/{opType}_node"));
        Graph.Insert(IndexOf(before), node);
        return node;
    }

    public Value Emit(Node before, string opType, Value?[] inputs, params Attribute[] attributes) =>
        EmitNode(before, opType, inputs, 1, attributes).Output;

    /// <summary>A Constant node before <paramref name="before"/>.</summary>
    public Value Constant(Node before, Tensor tensor)
    {
        var value = Emit(before, "Constant", [], Attribute.FromTensor("value", tensor));
        value.Type = new TensorType(tensor.ElementType, new Shape(tensor.Dims));
        return value;
    }

    /// <summary>A 1-D int64 constant (axes, pads, starts, shapes).</summary>
    public Value Ints(Node before, IReadOnlyList<long> values) => Constant(before, Tensor.FromArray(values.ToArray(), [values.Count]));

    public Value Floats(Node before, IReadOnlyList<float> values) => Constant(before, Tensor.FromArray(values.ToArray(), [values.Count]));

    /// <summary>Whether <see cref="ScalarLike"/> can make a scalar of <paramref name="like"/>'s element type.</summary>
    public bool CanMakeScalarLike(Value like) => TypedScalar(0, like.ElementType) is not null || To >= 15;

    /// <summary>A scalar of <paramref name="like"/>'s (floating-point) element type; CastLike (opset 15) when the type is unknown.</summary>
    public Value ScalarLike(Node before, double value, Value like)
    {
        if (TypedScalar(value, like.ElementType) is { } tensor)
        {
            return Constant(before, tensor);
        }
        return Emit(before, "CastLike", [Constant(before, Tensor.Scalar((float)value)), like]);
    }

    private static Tensor? TypedScalar(double value, ElementType type) =>
        type.IsFloatingPoint() && type.HoldsNumbers() ? Tensor.Scalar(type, value) : null;

    /// <summary>Sets input <paramref name="index"/>, appending omitted inputs as needed.</summary>
    public static void SetInputAt(Node node, int index, Value? value)
    {
        while (node.Inputs.Count <= index)
        {
            node.AppendInput(null);
        }
        node.SetInput(index, value);
    }

    /// <summary>
    /// Makes <paramref name="replacement"/> take the place of <paramref name="old"/>: its name, type,
    /// value_info entry, every use and every graph output that lists it.
    /// </summary>
    public void TakeOver(Value old, Value replacement)
    {
        var name = old.Name;
        old.Name = FreshName(name + "/replaced");
        replacement.Name = name;
        replacement.Type = old.Type ?? replacement.Type;
        replacement.DocString ??= old.DocString;
        replacement.PreservedFields ??= old.PreservedFields;
        var index = Graph.ValueInfos.IndexOf(old);
        if (index >= 0)
        {
            Graph.ValueInfos[index] = replacement;
        }
        PassHelpers.ReplaceAllUses(old, replacement);
    }

    /// <summary>Replaces a node by new ones: each present output moves to the value at the same index (unused ones may have none).</summary>
    public void Replace(Node old, params Value?[] replacements)
    {
        for (var i = 0; i < old.Outputs.Count; i++)
        {
            if (old.Outputs[i] is not { } output)
            {
                continue;
            }
            if (i < replacements.Length && replacements[i] is { } replacement)
            {
                TakeOver(output, replacement);
            }
            else if (IsUsed(output))
            {
                throw new InvalidOperationException($"no replacement for the used output {i} of {old}");
            }
        }
        Graph.Remove(old, force: true);
    }

    /// <summary>Whether anything reads the value (a node, or a graph that lists it as an output).</summary>
    public static bool IsUsed(Value? value) =>
        value is not null && (value.Uses.Count > 0 || value.Graph is { } g && g.SelfAndSubgraphs().Any(s => s.Outputs.Contains(value)));

    private int IndexOf(Node node)
    {
        var nodes = Graph.Nodes;
        for (var i = 0; i < nodes.Count; i++)
        {
            if (ReferenceEquals(nodes[i], node))
            {
                return i;
            }
        }
        throw new InvalidOperationException($"{node} is not in {Graph}");
    }
}
