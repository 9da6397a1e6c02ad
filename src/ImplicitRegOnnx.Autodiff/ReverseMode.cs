using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Onnx.Building;

namespace ImplicitRegOnnx.Autodiff;

/// <summary>
/// Reverse-mode differentiation of an IR graph: appends to the graph the nodes that compute the
/// vector-Jacobian product of <c>outputs</c> (weighted by <c>seeds</c>) with respect to <c>wrt</c>.
/// The walk is pruned to nodes that both depend on <c>wrt</c> and lead to <c>outputs</c> (the same
/// plan that the unsupported-operator report walks); gradients of values with several consumers are summed; zero gradients
/// stay symbolic (null) and emit nothing.
/// Because every rule emits only ops that have rules, the result can be differentiated again.
/// </summary>
public static class ReverseMode
{
    /// <summary>
    /// Appends to <paramref name="builder"/>'s graph the nodes that compute the gradients of Σ_i ⟨seeds[i], outputs[i]⟩
    /// with respect to each of <paramref name="wrt"/> (a vector-Jacobian product), and returns them.
    /// </summary>
    /// <param name="builder">Appends the backward nodes; its graph must hold the forward nodes between <paramref name="wrt"/> and <paramref name="outputs"/>.</param>
    /// <param name="outputs">The values to differentiate.</param>
    /// <param name="seeds">One weight per output, of that output's shape; null for ones (then a scalar output gives its plain gradient).</param>
    /// <param name="wrt">The values to differentiate with respect to: graph inputs, initializers or intermediate values.</param>
    /// <returns>One gradient per entry of <paramref name="wrt"/>, of its shape and element type; null where the gradient is zero (the value does not influence the outputs).</returns>
    /// <exception cref="ArgumentException"><paramref name="seeds"/> and <paramref name="outputs"/> differ in length.</exception>
    /// <exception cref="MissingGradientRuleException">Operators on the path from <paramref name="wrt"/> to <paramref name="outputs"/> have no gradient rule (kind <see cref="ErrorKind.Unsupported"/>); all of them are named.</exception>
    /// <exception cref="ImplicitRegException">A rule cannot differentiate its node as the model stands, e.g. a rank or size it needs is unknown (kind <see cref="ErrorKind.Unsupported"/>), or an attribute is malformed (<see cref="ErrorKind.BadInput"/>).</exception>
    public static IReadOnlyList<Value?> Vjp(GraphBuilder builder, IReadOnlyList<Value> outputs, IReadOnlyList<Value?> seeds, IReadOnlyList<Value> wrt)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (seeds.Count != outputs.Count)
        {
            throw new ArgumentException("One seed per output (null for ones).", nameof(seeds));
        }
        var plan = ReversePlan.Build(builder.Graph, outputs, wrt);
        if (plan.NodesWithoutRule.Count > 0)
        {
            throw new MissingGradientRuleException(plan.MissingRules);
        }
        var relevant = plan.Nodes;

        var accumulator = new GradientAccumulator(builder);
        for (var i = 0; i < outputs.Count; i++)
        {
            if (plan.IsActive(outputs[i]))
            {
                accumulator.Add(outputs[i], seeds[i] ?? builder.FillLike(1, outputs[i]));
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
            var needs = node.Inputs.Select(v => v is not null && plan.IsActive(v)).ToArray();
            var context = new GradientContext(node, builder, outputGrads, needs);
            GradientRules.TryGet(node.Domain, node.OpType, out var rule);
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

/// <summary>An operator on the path from the differentiated values to the outputs that has no gradient rule.</summary>
/// <param name="Domain">The operator's domain; "" for ai.onnx.</param>
/// <param name="OpType">The operator.</param>
/// <param name="NodeName">The node's name; "" when it has none.</param>
public sealed record MissingRule(string Domain, string OpType, string NodeName)
{
    /// <summary>The operator and node as messages name them, e.g. <c>com.example.Foo (node 'foo1')</c>.</summary>
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
