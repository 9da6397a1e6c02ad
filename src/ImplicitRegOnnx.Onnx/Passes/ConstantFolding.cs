namespace ImplicitRegOnnx.Onnx.Passes;

/// <summary>
/// Replaces computation on constants by its result:
/// <list type="bullet">
/// <item><c>Constant</c> nodes become initializers (ONNX operator spec, Constant: exactly one of
/// value, value_float(s), value_int(s), value_string(s) or sparse_value; sparse values are left alone).</item>
/// <item><c>Shape</c> and <c>Size</c> of a main-graph input with a fully static declared shape become
/// int64 initializers. ONNX Runtime rejects feeds that do not match a declared input shape, so the
/// declared dims are a reliable fact; shapes of intermediates (value_info, inference) are not used.</item>
/// <item>Standard-domain nodes whose inputs are all constants are computed by the
/// <see cref="IConstantEvaluator"/> given to the pass (ONNX Runtime CPU in <c>ImplicitRegOnnx.Runtime</c>)
/// and replaced by initializers. All foldable nodes of a graph go into one small model, evaluated once.
/// Without an evaluator only the two kinds above are folded.</item>
/// </list>
/// A constant here is an initializer declared in the same graph that is not also a graph input: an
/// initializer listed among the inputs is only a default the caller may override (ONNX IR spec,
/// "Graphs"). Nothing is folded across subgraph boundaries, nothing whose output is a graph output
/// (the graph interface stays identical), no random operator or Dropout, no node holding a subgraph,
/// no sequence/optional operator, and no result that would be more than <see cref="MaxGrowthElements"/>
/// elements larger than the node's inputs (ConstantOfShape, Expand, Tile, Range, OneHot are estimated
/// before running). Function bodies are left alone: a FunctionProto has no initializers.
/// Models of IR version 3 are left alone. When the evaluator fails on a node (unsupported type or operator), that node stays as it is.
/// </summary>
/// <param name="evaluator">Computes constant subgraphs; null folds only what needs no evaluation.</param>
internal sealed class ConstantFolding(IConstantEvaluator? evaluator) : IModelPass
{
    /// <summary>How many more elements than its inputs a folded result may have.</summary>
    public const long MaxGrowthElements = 1_000_000;

    private const int MaxIterations = 16;

    /// <summary>A pass without an evaluator: Constant nodes and Shape/Size of static inputs only.</summary>
    public ConstantFolding()
        : this(null)
    {
    }

    /// <summary>What computes constant subgraphs; null when only what needs no evaluation is folded.</summary>
    public IConstantEvaluator? Evaluator { get; } = evaluator;

    /// <inheritdoc/>
    public string Name => "constant-folding";

    public int Run(Model model)
    {
        if (model.IrVersion < 4)
        {
            // Before IR version 4 every initializer had to be listed as a graph input too (ONNX IR
            // spec, "Graphs"); a new initializer would change the model's inputs, so fold nothing.
            return 0;
        }
        var outputs = PassHelpers.OutputValues(model);
        var changes = 0;
        foreach (var graph in model.Graph.SelfAndSubgraphs().ToList())
        {
            changes += FoldConstantNodes(graph, outputs);
            if (ReferenceEquals(graph, model.Graph))
            {
                changes += FoldStaticShapes(model, outputs);
            }
            changes += FoldByEvaluation(model, graph, outputs);
        }
        return changes;
    }

    private static int FoldConstantNodes(Graph graph, HashSet<Value> outputs)
    {
        var folded = 0;
        foreach (var node in graph.Nodes.ToList())
        {
            if (node.IsStandard && node.OpType == "Constant" && node.Inputs.Count == 0 && node.Outputs.Count == 1
                && node.Outputs[0] is { } value && !outputs.Contains(value) && Inference.ConstantValue.FromConstantNode(node) is { } tensor)
            {
                graph.Remove(node, force: true);
                MakeInitializer(graph, value, tensor);
                folded++;
            }
        }
        return folded;
    }

    private static int FoldStaticShapes(Model model, HashSet<Value> outputs)
    {
        var graph = model.Graph;
        var folded = 0;
        foreach (var node in graph.Nodes.ToList())
        {
            if (!node.IsStandard || node.OpType is not ("Shape" or "Size") || node.Inputs.Count != 1 || node.Outputs.Count != 1
                || node.Outputs[0] is not { } output || outputs.Contains(output)
                || node.Inputs[0] is not { } input || !input.IsGraphInput || input.IsInitializer
                || input.Shape?.ToArray() is not { } dims)
            {
                continue;
            }
            Tensor tensor;
            if (node.OpType == "Size")
            {
                tensor = Tensor.Scalar(dims.Aggregate(1L, (a, b) => a * b));
            }
            else
            {
                // Shape-15 slices the shape with optional start/end (negative counts from the back, then clamped).
                var rank = dims.Length;
                var start = Math.Clamp(Normalize(node.GetInt("start", 0), rank), 0, rank);
                var end = Math.Clamp(Normalize(node.GetInt("end", rank), rank), 0, rank);
                var slice = dims[(int)start..(int)Math.Max(start, end)];
                tensor = Tensor.FromArray(slice, [slice.Length]);
            }
            graph.Remove(node, force: true);
            MakeInitializer(graph, output, tensor);
            folded++;
        }
        return folded;

        static long Normalize(long axis, int rank) => axis < 0 ? axis + rank : axis;
    }

    /// <summary>Turns a node output (whose node was just removed) into an initializer, keeping the Value and its uses.</summary>
    private static void MakeInitializer(Graph graph, Value value, Tensor tensor)
    {
        value.Producer = null;
        value.ProducerOutputIndex = 0;
        graph.AttachInitializer(value, tensor.WithName(value.Name));
        // The computed dims are facts; a declared type may have had symbolic or unknown dims.
        value.Type = new TensorType(tensor.ElementType, new Shape(tensor.Dims)) { Denotation = value.Type?.Denotation };
    }

    private int FoldByEvaluation(Model model, Graph graph, HashSet<Value> outputs)
    {
        if (Evaluator is null || model.OpsetVersion("") is not { } opset)
        {
            return 0;
        }
        var blocked = new HashSet<Node>();
        var total = 0;
        for (var iteration = 0; iteration < MaxIterations; iteration++)
        {
            var plan = Plan(graph, outputs, blocked);
            if (plan.Count == 0)
            {
                break;
            }
            var blockedBefore = blocked.Count;
            var folded = Evaluate(model, opset, graph, plan, blocked);
            if (folded == 0 && blocked.Count == blockedBefore)
            {
                break;
            }
            total += folded;
        }
        return total;
    }

    /// <summary>Whether a value is a constant of this graph that can be handed to the evaluator.</summary>
    private static bool IsKnownConstant(Value value, Graph graph) =>
        value.Initializer is { } tensor && !value.IsGraphInput && ReferenceEquals(value.Graph, graph) && IsSupported(tensor.ElementType);

    /// <summary>The foldable nodes of a graph in topological order: all inputs constant or computed by earlier planned nodes.</summary>
    private static List<Node> Plan(Graph graph, HashSet<Value> outputs, HashSet<Node> blocked)
    {
        var plan = new List<Node>();
        var planned = new HashSet<Value>();
        foreach (var node in TopologicalSort.Order(graph))
        {
            if (blocked.Contains(node) || !IsCandidate(node, outputs))
            {
                continue;
            }
            var allKnown = true;
            var allConstant = true;
            foreach (var input in node.Inputs)
            {
                if (input is null)
                {
                    continue;
                }
                if (!IsKnownConstant(input, graph))
                {
                    allKnown = false;
                    allConstant &= planned.Contains(input);
                }
            }
            if (!allConstant)
            {
                continue;
            }
            if (IsExpander(node))
            {
                // The size of these results depends on input values: estimate it from inputs that are
                // already initializers; otherwise wait for a later iteration.
                if (!allKnown)
                {
                    continue;
                }
                if (EstimateElements(node) is not { } estimate || estimate > MaxGrowthElements + InputElements(node, null))
                {
                    blocked.Add(node);
                    continue;
                }
            }
            plan.Add(node);
            foreach (var output in node.Outputs)
            {
                if (output is not null)
                {
                    planned.Add(output);
                }
            }
        }
        return plan;
    }

    private static bool IsCandidate(Node node, HashSet<Value> outputs) =>
        node.IsStandard
        && node.OpType is not ("Constant" or "Resize" or "Upsample")
        && node.Inputs.Any(i => i is not null)
        && node.Outputs.Any(o => o is not null)
        && !node.Outputs.Any(o => o is not null && outputs.Contains(o))
        && !node.Subgraphs.Any()
        && !node.Attributes.Any(a => a.RefAttrName is not null)
        && !PassHelpers.IsNonDeterministic(node)
        && !PassHelpers.HasNonTensorValues(node);

    private static bool IsExpander(Node node) => node.OpType is "ConstantOfShape" or "Expand" or "Tile" or "Range" or "OneHot";

    /// <summary>The element count of an expanding node's result, from its (initializer) inputs; null when unclear.</summary>
    private static long? EstimateElements(Node node)
    {
        try
        {
            var inputs = node.Inputs.Select(i => i?.Initializer).ToArray();
            switch (node.OpType)
            {
                case "ConstantOfShape":
                    return Product(inputs[0]!.ToInt64s());
                case "Expand":
                {
                    var dims = inputs[0]!.Dims;
                    var shape = inputs[1]!.ToInt64s();
                    var rank = Math.Max(dims.Length, shape.Length);
                    long count = 1;
                    for (var i = 0; i < rank; i++)
                    {
                        var a = i < rank - dims.Length ? 1 : dims[i - (rank - dims.Length)];
                        var b = i < rank - shape.Length ? 1 : shape[i - (rank - shape.Length)];
                        count = checked(count * Math.Max(a, b));
                    }
                    return count;
                }
                case "Tile":
                {
                    var dims = inputs[0]!.Dims;
                    var repeats = inputs[1]!.ToInt64s();
                    return repeats.Length == dims.Length ? Product(dims.Zip(repeats, (d, r) => checked(d * r))) : null;
                }
                case "Range":
                {
                    var start = inputs[0]!.ToDoubles()[0];
                    var limit = inputs[1]!.ToDoubles()[0];
                    var delta = inputs[2]!.ToDoubles()[0];
                    var n = Math.Ceiling((limit - start) / delta);
                    return double.IsFinite(n) && n < long.MaxValue ? Math.Max(0, (long)n) : null;
                }
                case "OneHot":
                    return checked(inputs[0]!.ElementCount * (long)inputs[1]!.ToDoubles()[0]);
                default:
                    return null;
            }
        }
        catch (Exception e) when (e is OverflowException or NullReferenceException or IndexOutOfRangeException or InvalidOperationException or NotSupportedException)
        {
            return null;
        }
    }

    private static long Product(IEnumerable<long> values)
    {
        long count = 1;
        foreach (var v in values)
        {
            if (v < 0)
            {
                return long.MaxValue;
            }
            count = checked(count * v);
        }
        return count;
    }

    private static long InputElements(Node node, Dictionary<Value, Tensor?>? computed)
    {
        long count = 0;
        foreach (var input in node.Inputs)
        {
            var tensor = input is null ? null : input.Initializer ?? computed?.GetValueOrDefault(input);
            count += tensor?.ElementCount ?? 0;
        }
        return count;
    }

    /// <summary>
    /// Runs the planned nodes in one model and replaces them with their results. On a failure of the
    /// whole batch, the nodes that read only initializers are run one by one, and those that fail are
    /// blocked, so the next iteration plans around them. Returns how many nodes were folded.
    /// </summary>
    private int Evaluate(Model model, long opset, Graph graph, List<Node> plan, HashSet<Node> blocked)
    {
        var computed = Run(model, opset, graph, plan);
        if (computed is null)
        {
            if (plan.Count == 1)
            {
                blocked.Add(plan[0]);
                return 0;
            }
            var folded = 0;
            foreach (var node in plan.Where(n => n.Inputs.All(i => i is null || IsKnownConstant(i, graph))).ToList())
            {
                if (Run(model, opset, graph, [node]) is { } single)
                {
                    folded += Apply(graph, [node], single);
                }
                else
                {
                    blocked.Add(node);
                }
            }
            return folded;
        }
        return Apply(graph, plan, computed);
    }

    /// <summary>
    /// Replaces folded nodes by initializers for the results still read by other nodes. A node whose
    /// read result is unavailable (unsupported type) or too large stays, and then its own inputs are
    /// read by a remaining node, so the decision repeats until it settles.
    /// </summary>
    private static int Apply(Graph graph, List<Node> plan, Dictionary<Value, Tensor?> computed)
    {
        var folded = new HashSet<Node>(plan);
        bool changed;
        do
        {
            changed = false;
            foreach (var node in plan)
            {
                if (!folded.Contains(node))
                {
                    continue;
                }
                foreach (var output in node.Outputs)
                {
                    if (output is null || !IsReadOutside(output, folded))
                    {
                        continue;
                    }
                    var tensor = computed.GetValueOrDefault(output);
                    if (tensor is null || tensor.ElementCount > MaxGrowthElements + InputElements(node, computed))
                    {
                        folded.Remove(node);
                        changed = true;
                        break;
                    }
                }
            }
        }
        while (changed);

        // Decide which results become initializers before any node goes away (removal changes uses).
        var kept = plan.Where(folded.Contains)
            .SelectMany(n => n.Outputs.OfType<Value>())
            .Where(v => IsReadOutside(v, folded))
            .ToList();
        foreach (var node in Enumerable.Reverse(plan))
        {
            if (folded.Contains(node))
            {
                graph.Remove(node, force: true);
            }
        }
        foreach (var value in kept)
        {
            MakeInitializer(graph, value, computed[value]!);
        }
        return folded.Count;
    }

    private static bool IsReadOutside(Value value, HashSet<Node> folded) => value.Uses.Any(u => !folded.Contains(u.Node));

    /// <summary>Evaluates the nodes in one small model; null when the evaluator cannot.</summary>
    private Dictionary<Value, Tensor?>? Run(Model model, long opset, Graph graph, List<Node> nodes)
    {
        var sub = new Graph("constant_folding");
        var map = new Dictionary<Value, Value>();
        var results = new List<Value>();
        foreach (var node in nodes)
        {
            var inputs = node.Inputs.Select(i => i is null ? null : map.GetValueOrDefault(i) ?? AddInitializer(i)).ToList();
            var clone = new Node(node.Domain, node.OpType, inputs, node.Outputs.Select(o => o?.Name), node.Attributes, node.Name);
            sub.Append(clone);
            for (var i = 0; i < node.Outputs.Count; i++)
            {
                if (node.Outputs[i] is { } output)
                {
                    map[output] = clone.Outputs[i]!;
                    sub.Outputs.Add(clone.Outputs[i]!);
                    results.Add(output);
                }
            }
        }
        var tiny = new Model(sub) { IrVersion = model.IrVersion, ProducerName = "implicitreg-constant-folding" };
        tiny.SetOpsetVersion("", opset);
        if (Evaluator!.Evaluate(tiny) is not { } values || values.Count != results.Count)
        {
            return null;
        }
        var computed = new Dictionary<Value, Tensor?>();
        for (var i = 0; i < results.Count; i++)
        {
            computed[results[i]] = values[i] is { } tensor && IsSupported(tensor.ElementType) ? tensor : null;
        }
        return computed;

        Value AddInitializer(Value value)
        {
            var copy = new Value(value.Name, value.Type);
            sub.AttachInitializer(copy, value.Initializer!);
            map[value] = copy;
            return copy;
        }
    }

    /// <summary>Element types handed to and taken from the evaluator: those that hold numbers (raw little-endian payloads).</summary>
    private static bool IsSupported(ElementType type) => type.HoldsNumbers();
}
