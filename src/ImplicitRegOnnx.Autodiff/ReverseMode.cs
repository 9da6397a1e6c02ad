using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Onnx.Building;
using ImplicitRegOnnx.Onnx.Passes;

namespace ImplicitRegOnnx.Autodiff;

/// <summary>
/// Reverse-mode differentiation of an IR graph: appends to the graph the nodes that compute the
/// vector-Jacobian product of <c>outputs</c> (weighted by <c>seeds</c>) with respect to <c>wrt</c>.
/// The walk is pruned to nodes that both depend on <c>wrt</c> and lead to <c>outputs</c>; gradients
/// of values with several consumers are summed; zero gradients stay symbolic (null) and emit nothing.
/// Because every rule emits only ops that have rules, the result can be differentiated again.
/// </summary>
public static class ReverseMode
{
    /// <summary>
    /// Gradients of Σ_i ⟨seeds[i], outputs[i]⟩ with respect to each of <paramref name="wrt"/>; null where
    /// the gradient is zero (the value does not influence the outputs). A null seed means ones.
    /// </summary>
    public static IReadOnlyList<Value?> Vjp(GraphBuilder builder, IReadOnlyList<Value> outputs, IReadOnlyList<Value?> seeds, IReadOnlyList<Value> wrt)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (seeds.Count != outputs.Count)
        {
            throw new ArgumentException("One seed per output (null for ones).", nameof(seeds));
        }
        var order = TopologicalSort.Order(builder.Graph);
        var active = ActiveValues(order, wrt);
        var relevant = RelevantNodes(order, outputs, active);
        CheckRules(relevant);

        var accumulator = new GradientAccumulator(builder);
        for (var i = 0; i < outputs.Count; i++)
        {
            if (active.Contains(outputs[i]))
            {
                accumulator.Add(outputs[i], seeds[i] ?? Constants.Fill(builder, 1, outputs[i]));
            }
        }
        for (var n = relevant.Count - 1; n >= 0; n--)
        {
            var node = relevant[n];
            var outputGrads = node.Outputs.Select(o => o is null ? null : accumulator.Total(o)).ToArray();
            if (Array.TrueForAll(outputGrads, g => g is null))
            {
                continue;
            }
            var needs = node.Inputs.Select(v => v is not null && active.Contains(v)).ToArray();
            var context = new GradientContext(node, builder, outputGrads, needs);
            GradientRules.TryGet(node.OpType, out var rule);
            rule(context);
            for (var i = 0; i < node.Inputs.Count; i++)
            {
                if (context.InputGrads[i] is { } g)
                {
                    accumulator.Add(node.Inputs[i]!, g);
                }
            }
        }
        return wrt.Select(accumulator.Total).ToArray();
    }

    /// <summary>Values that depend on <paramref name="wrt"/> through floating-point (or untyped) values.</summary>
    private static HashSet<Value> ActiveValues(List<Node> order, IReadOnlyList<Value> wrt)
    {
        var active = new HashSet<Value>(wrt);
        foreach (var node in order)
        {
            if (GradientRules.IsNonDifferentiable(node.OpType) || !node.Inputs.Any(v => v is not null && active.Contains(v)))
            {
                continue;
            }
            foreach (var output in node.Outputs)
            {
                if (output is not null && CarriesGradient(output))
                {
                    active.Add(output);
                }
            }
        }
        return active;
    }

    private static bool CarriesGradient(Value value) =>
        value.ElementType == ElementType.Undefined || value.ElementType.IsFloatingPoint();

    /// <summary>Nodes, in forward order, with an active input and an output the outputs depend on.</summary>
    private static List<Node> RelevantNodes(List<Node> order, IReadOnlyList<Value> outputs, HashSet<Value> active)
    {
        var needed = new HashSet<Value>(outputs.Where(active.Contains));
        var relevant = new List<Node>();
        for (var i = order.Count - 1; i >= 0; i--)
        {
            var node = order[i];
            if (!node.Outputs.Any(o => o is not null && needed.Contains(o)))
            {
                continue;
            }
            relevant.Add(node);
            foreach (var input in node.Inputs)
            {
                if (input is not null && active.Contains(input))
                {
                    needed.Add(input);
                }
            }
        }
        relevant.Reverse();
        return relevant;
    }

    private static void CheckRules(List<Node> relevant)
    {
        var missing = relevant
            .Where(n => !n.IsStandard || !GradientRules.Has(n.OpType))
            .Select(n => new MissingRule(n.IsStandard ? "" : n.Domain, n.OpType, n.Name))
            .ToList();
        if (missing.Count > 0)
        {
            throw new MissingGradientRuleException(missing);
        }
    }

    /// <summary>Sums the gradient contributions of each value once, when the value is first read.</summary>
    private sealed class GradientAccumulator(GraphBuilder builder)
    {
        private readonly Dictionary<Value, List<Value>> _parts = [];
        private readonly Dictionary<Value, Value> _totals = [];

        public void Add(Value value, Value gradient)
        {
            if (_totals.ContainsKey(value))
            {
                throw new InvalidOperationException($"The gradient of '{value.Name}' was read before all its contributions arrived.");
            }
            if (!_parts.TryGetValue(value, out var parts))
            {
                _parts[value] = parts = [];
            }
            parts.Add(gradient);
        }

        public Value? Total(Value value)
        {
            if (_totals.TryGetValue(value, out var total))
            {
                return total;
            }
            if (!_parts.TryGetValue(value, out var parts))
            {
                return null;
            }
            total = parts.Count == 1 ? parts[0] : builder.Op("Sum", parts);
            _totals[value] = total;
            return total;
        }
    }
}

/// <summary>An operator on the path from parameters to the loss that has no gradient rule.</summary>
public sealed record MissingRule(string Domain, string OpType, string NodeName)
{
    public override string ToString() =>
        $"{(Domain.Length > 0 ? Domain + "." : "")}{OpType}{(NodeName.Length > 0 ? $" (node '{NodeName}')" : "")}";
}

/// <summary>
/// Lists every operator without a gradient rule at once, so the user sees the whole problem (kind
/// <see cref="ErrorKind.Unsupported"/>); <see cref="Missing"/> holds them for callers that report op types.
/// </summary>
/// <param name="missing">Every node on the path that has no rule.</param>
public sealed class MissingGradientRuleException(IReadOnlyList<MissingRule> missing)
    : ImplicitRegException(ErrorKind.Unsupported, $"no gradient rule for {string.Join(", ", missing.Select(m => m.ToString()))}; these operators cannot be differentiated yet")
{
    /// <summary>Every node on the path that has no rule.</summary>
    public IReadOnlyList<MissingRule> Missing { get; } = missing;

    /// <summary>The op types without a rule, domain-qualified ("com.microsoft.Foo"), distinct and sorted.</summary>
    public IReadOnlyList<string> OpTypes =>
        [.. Missing.Select(m => m.Domain.Length > 0 ? $"{m.Domain}.{m.OpType}" : m.OpType).Distinct().Order(StringComparer.Ordinal)];
}
