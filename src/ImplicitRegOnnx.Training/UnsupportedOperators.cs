using ImplicitRegOnnx.Autodiff;
using ImplicitRegOnnx.Onnx.Passes;

namespace ImplicitRegOnnx.Training;

/// <summary>
/// Finds, before any rewrite is attempted, the operators that keep a model from being trained: nodes
/// without a gradient rule that lie between the parameters and the outputs a loss can be attached to.
/// </summary>
/// <remarks>
/// The walk is <see cref="ReversePlan"/>'s, the one <see cref="ReverseMode"/> differentiates along, so that
/// a model this check passes does not fail later for a missing rule. It starts from every floating-point
/// initializer (a parameter candidate) and follows, through nodes with a rule, only the inputs parameters
/// are trained through (<see cref="TrainableParameters"/>). Nodes outside ai.onnx without a rule (e.g.
/// ai.onnx.ml's LinearClassifier, Scaler, TreeEnsembleClassifier) hold their parameters in attributes, so
/// they count as parameters themselves: such a node on the path is unsupported even when no initializer
/// reaches it. So do control-flow nodes (If, Loop, Scan) whose bodies hold weights; outer values a body
/// reads count as the node's inputs.
/// </remarks>
internal static class UnsupportedOperators
{
    /// <summary>
    /// The op types without a gradient rule on the path from parameters to <paramref name="outputs"/>,
    /// distinct and sorted; ops outside ai.onnx are written with their domain (<c>ai.onnx.ml.Scaler</c>).
    /// </summary>
    public static IReadOnlyList<string> Find(Graph graph, IReadOnlyList<Value> outputs) =>
        [.. NodesWithoutRule(graph, outputs).Select(Describe).Distinct().Order(StringComparer.Ordinal)];

    /// <summary>
    /// The nodes behind <see cref="Find"/>: every node without a gradient rule on the path from parameters to
    /// <paramref name="outputs"/>, in graph order, with its domain ("" for ai.onnx), op type and name.
    /// </summary>
    public static IReadOnlyList<MissingRule> FindNodes(Graph graph, IReadOnlyList<Value> outputs) =>
        [.. NodesWithoutRule(graph, outputs).Select(n => new MissingRule(n.IsStandard ? "" : n.Domain, n.OpType, n.Name))];

    private static IEnumerable<Node> NodesWithoutRule(Graph graph, IReadOnlyList<Value> outputs)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(outputs);
        List<Node> order;
        try
        {
            order = TopologicalSort.Order(graph);
        }
        catch (ImplicitRegException)
        {
            order = [.. graph.Nodes];
        }
        var parameters = graph.Initializers.Where(v => !v.IsGraphInput && v.Initializer is { } t && t.ElementType.IsFloatingPoint());
        var plan = ReversePlan.Build(order, outputs, parameters, new ReversePlanOptions
        {
            HoldsParameters = node => (!node.IsStandard && !GradientRules.Has(node)) || node.Subgraphs.Any(HoldsWeights),
            FollowsInput = (node, k) => !node.IsStandard || TrainableParameters.IsDifferentiableInput(node, k),
        });
        return plan.NodesWithoutRule;
    }

    /// <summary>The outputs a loss can be attached to: floating-point (or untyped) graph outputs.</summary>
    public static IReadOnlyList<Value> TrainableOutputs(Graph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        return [.. graph.Outputs.Where(ReversePlan.CarriesGradient)];
    }

    /// <summary>The op type as reports write it: <c>Op</c> in ai.onnx, <c>domain.Op</c> elsewhere.</summary>
    public static string Describe(Node node)
    {
        ArgumentNullException.ThrowIfNull(node);
        return node.IsStandard ? node.OpType : $"{node.Domain}.{node.OpType}";
    }

    /// <summary>A subgraph with weights of its own: floating-point initializers or weight-sized Constant nodes (silero's If branches).</summary>
    private static bool HoldsWeights(Graph graph) =>
        graph.SelfAndSubgraphs().Any(g => g.Initializers.Any(v => v.Initializer is { } t && t.ElementType.IsFloatingPoint())
            || g.Nodes.Any(n => ConstantPromotion.WeightOf(n) is not null));
}
