namespace ImplicitRegOnnx.Onnx.Passes;

/// <summary>
/// Merges computations that must give the same result: nodes with the same domain, operator,
/// overload, input values (the same <see cref="Value"/> objects), attributes and outputs, and dense
/// initializers with the same type, dims and payload. ONNX operators are functions of their inputs
/// and attributes (ONNX IR spec, "Nodes"), so equal calls can share one result; the exceptions are
/// random generators and Dropout (see <see cref="PassHelpers.IsNonDeterministic"/>), nodes with
/// subgraphs (not compared), and operators of domains whose semantics are unknown here. A call of a
/// model-local function merges when its body (recursively) only uses mergeable operators.
/// Initializers that are also graph inputs are never merged: a caller may override them
/// (ONNX IR spec, "Graphs": an initializer with the name of an input is that input's default).
/// Graph outputs keep their names: when the merged-away value is a graph output, the surviving value
/// takes its name and declared type, and the merge is skipped when both are outputs.
/// </summary>
internal sealed class CommonSubexpressionElimination : IModelPass
{
    public string Name => "cse";

    public int Run(Model model)
    {
        var outputs = PassHelpers.OutputValues(model);
        var deterministic = new DeterministicFunctions(model);
        var changes = 0;
        // Outer graphs first: merging outer values can make nodes of nested bodies equal.
        foreach (var graph in PassHelpers.AllGraphs(model))
        {
            changes += MergeInitializers(graph, outputs);
            changes += MergeNodes(graph, outputs, deterministic);
        }
        return changes;
    }

    private static int MergeInitializers(Graph graph, HashSet<Value> outputs)
    {
        var merged = 0;
        var seen = new Dictionary<int, List<Value>>();
        foreach (var value in graph.Initializers.ToList())
        {
            if (value.Initializer is not { } tensor || value.IsGraphInput)
            {
                continue;
            }
            var hash = tensor.ContentHash();
            if (!seen.TryGetValue(hash, out var bucket))
            {
                seen[hash] = [value];
                continue;
            }
            var survivor = bucket.Find(v => v.Initializer!.ContentEquals(tensor));
            if (survivor is null || outputs.Contains(value))
            {
                bucket.Add(value);
                continue;
            }
            PassHelpers.ReplaceAllUses(value, survivor);
            graph.RemoveInitializer(value);
            graph.ValueInfos.Remove(value);
            merged++;
        }
        return merged;
    }

    private static int MergeNodes(Graph graph, HashSet<Value> outputs, DeterministicFunctions deterministic)
    {
        // In topological order a survivor precedes every reader of the value it replaces.
        TopologicalSort.Sort(graph);
        var table = new Dictionary<Node, Node>(NodeComparer.Instance);
        var merged = 0;
        foreach (var node in graph.Nodes.ToList())
        {
            if (!IsMergeable(node, deterministic))
            {
                continue;
            }
            if (!table.TryGetValue(node, out var survivor))
            {
                table[node] = node;
            }
            else if (TryMerge(graph, survivor, node, outputs))
            {
                merged++;
            }
        }
        return merged;
    }

    private static bool IsMergeable(Node node, DeterministicFunctions deterministic)
    {
        if (node.Outputs.All(o => o is null) || node.Subgraphs.Any() || PassHelpers.IsNonDeterministic(node))
        {
            return false;
        }
        return node.IsStandard || node.Domain == "ai.onnx.ml" || deterministic.IsDeterministicCall(node);
    }

    private static bool TryMerge(Graph graph, Node survivor, Node duplicate, HashSet<Value> outputs)
    {
        var pairs = survivor.Outputs.Zip(duplicate.Outputs).Where(p => p.Second is not null).ToList();
        // Both results visible as graph outputs under different names: one value cannot carry two names.
        if (pairs.Any(p => outputs.Contains(p.Second!) && outputs.Contains(p.First!)))
        {
            return false;
        }
        foreach (var (kept, gone) in pairs)
        {
            if (outputs.Contains(gone!))
            {
                // Keep the graph interface: the surviving value takes the output's name and declared type.
                kept!.Name = gone!.Name;
                kept.Type = gone.Type;
                kept.DocString ??= gone.DocString;
                outputs.Remove(gone);
                outputs.Add(kept);
            }
            kept!.Type ??= gone!.Type;
            PassHelpers.ReplaceAllUses(gone!, kept);
            graph.ValueInfos.Remove(gone!);
        }
        graph.Remove(duplicate);
        return true;
    }

    /// <summary>Model-local functions whose bodies only call operators that are safe to merge.</summary>
    private sealed class DeterministicFunctions(Model model)
    {
        private readonly Dictionary<Function, bool> _known = [];

        public bool IsDeterministicCall(Node node)
        {
            var function = model.Functions.Find(f => f.Domain == node.Domain && f.Name == node.OpType && f.Overload == node.Overload);
            return function is not null && IsDeterministic(function);
        }

        private bool IsDeterministic(Function function)
        {
            if (_known.TryGetValue(function, out var known))
            {
                return known;
            }
            _known[function] = false; // a recursive call is treated as unsafe
            var result = function.Body.SelfAndSubgraphs().SelectMany(g => g.Nodes).All(n =>
                !PassHelpers.IsNonDeterministic(n) && (n.IsStandard || n.Domain == "ai.onnx.ml" || IsDeterministicCall(n)));
            _known[function] = result;
            return result;
        }
    }
}
