using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Onnx.Passes;

namespace ImplicitRegOnnx.Autodiff;

/// <summary>What a <see cref="ReversePlan"/> walk counts, beyond the values it starts from.</summary>
internal sealed record ReversePlanOptions
{
    /// <summary>
    /// Nodes whose outputs depend on parameters even when no input does: operators that keep parameters
    /// inside (attributes of ai.onnx.ml ops, weights in subgraphs). Null: none.
    /// </summary>
    public Func<Node, bool>? HoldsParameters { get; init; }

    /// <summary>
    /// For a node with a rule, whether the walk continues through input <c>i</c> towards the parameters.
    /// Null: through every input that depends on them. A node without a rule is followed through all
    /// such inputs, so every operator without a rule upstream is found at once.
    /// </summary>
    public Func<Node, int, bool>? FollowsInput { get; init; }
}

/// <summary>
/// Which nodes reverse-mode differentiation visits, worked out before anything is emitted. The one walk
/// behind <see cref="ReverseMode.Vjp"/> and the unsupported-operator report of the training layer, so that
/// a model the report passes does not fail later for a missing rule.
/// </summary>
/// <remarks>
/// A value is <em>active</em> when it depends on the starting values through floating-point (or untyped)
/// values; ops declared non-differentiable cut the dependency, and outer values a subgraph reads count as
/// its node's inputs. A node is on the path when it has an active input and one of its outputs leads,
/// through followed inputs, to the outputs being differentiated.
/// </remarks>
internal sealed class ReversePlan
{
    private readonly HashSet<Value> _active;

    private ReversePlan(HashSet<Value> active, List<Node> nodes)
    {
        _active = active;
        Nodes = nodes;
        NodesWithoutRule = [.. nodes.Where(n => !GradientRules.Has(n))];
    }

    /// <summary>The nodes on the path, in forward (topological) order; reverse mode visits them backwards.</summary>
    public IReadOnlyList<Node> Nodes { get; }

    /// <summary>The nodes on the path whose operator has no gradient rule, in forward order.</summary>
    public IReadOnlyList<Node> NodesWithoutRule { get; }

    /// <summary><see cref="NodesWithoutRule"/> as the error of <see cref="ReverseMode.Vjp"/> lists them.</summary>
    public IReadOnlyList<MissingRule> MissingRules =>
        [.. NodesWithoutRule.Select(n => new MissingRule(n.IsStandard ? "" : n.Domain, n.OpType, n.Name))];

    /// <summary>The values that depend on the starting values (they include them).</summary>
    public IReadOnlySet<Value> Active => _active;

    /// <summary>Whether <paramref name="value"/> depends on the starting values.</summary>
    public bool IsActive(Value value) => _active.Contains(value);

    /// <summary>The plan for differentiating <paramref name="outputs"/> of <paramref name="graph"/> with respect to <paramref name="wrt"/>.</summary>
    public static ReversePlan Build(Graph graph, IReadOnlyList<Value> outputs, IEnumerable<Value> wrt, ReversePlanOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(graph);
        return Build(TopologicalSort.Order(graph), outputs, wrt, options);
    }

    /// <summary>The plan over nodes already in topological <paramref name="order"/>.</summary>
    public static ReversePlan Build(IReadOnlyList<Node> order, IReadOnlyList<Value> outputs, IEnumerable<Value> wrt, ReversePlanOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(order);
        ArgumentNullException.ThrowIfNull(outputs);
        ArgumentNullException.ThrowIfNull(wrt);
        var holdsParameters = options?.HoldsParameters;
        var followsInput = options?.FollowsInput;

        var active = new HashSet<Value>(wrt);
        foreach (var node in order)
        {
            var source = holdsParameters?.Invoke(node) == true;
            if (!source && (GradientRules.IsNonDifferentiable(node) || !Reads(node).Any(active.Contains)))
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

        var needed = new HashSet<Value>(outputs.Where(active.Contains));
        var nodes = new List<Node>();
        for (var i = order.Count - 1; i >= 0; i--)
        {
            var node = order[i];
            if (!node.Outputs.Any(o => o is not null && needed.Contains(o)))
            {
                continue;
            }
            nodes.Add(node);
            var hasRule = GradientRules.Has(node);
            for (var k = 0; k < node.Inputs.Count; k++)
            {
                if (node.Inputs[k] is { } input && active.Contains(input) && (!hasRule || followsInput is null || followsInput(node, k)))
                {
                    needed.Add(input);
                }
            }
            foreach (var outer in node.ImplicitInputs().Where(active.Contains))
            {
                needed.Add(outer);
            }
        }
        nodes.Reverse();
        return new ReversePlan(active, nodes);
    }

    /// <summary>Whether gradients flow through a value: floating point, or a type nobody inferred.</summary>
    public static bool CarriesGradient(Value value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return value.ElementType == ElementType.Undefined || value.ElementType.IsFloatingPoint();
    }

    /// <summary>The values a node reads: its inputs and the outer values its subgraphs (If, Loop, Scan bodies) use.</summary>
    private static IEnumerable<Value> Reads(Node node) => node.Inputs.OfType<Value>().Concat(node.ImplicitInputs());
}
