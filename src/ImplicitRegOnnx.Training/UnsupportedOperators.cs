using ImplicitRegOnnx.Autodiff;
using ImplicitRegOnnx.Onnx.Passes;

namespace ImplicitRegOnnx.Training;

/// <summary>
/// Finds, before any rewrite is attempted, the operators that keep a model from being trained: nodes
/// without a gradient rule that lie between the parameters and the outputs a loss can be attached to.
/// </summary>
/// <remarks>
/// The walk mirrors <see cref="ReverseMode"/> so that a model this check passes does not fail later for
/// a missing rule: a value is <em>active</em> when it depends on a floating-point initializer through
/// floating-point values (ops declared non-differentiable cut the dependency), and a node is on the
/// path when one of its outputs leads back from a checked output through differentiable inputs. Nodes
/// outside ai.onnx (e.g. ai.onnx.ml's LinearClassifier, Scaler, TreeEnsembleClassifier) hold their
/// parameters in attributes, so they count as parameters themselves: such a node on the path is
/// unsupported even when no initializer reaches it. So do control-flow nodes (If, Loop, Scan) whose
/// bodies hold weights; outer values a body reads count as the node's inputs.
/// </remarks>
public static class UnsupportedOperators
{
    /// <summary>
    /// The op types without a gradient rule on the path from parameters to <paramref name="outputs"/>,
    /// distinct and sorted; ops outside ai.onnx are written with their domain (<c>ai.onnx.ml.Scaler</c>).
    /// </summary>
    public static IReadOnlyList<string> Find(Graph graph, IReadOnlyList<Value> outputs)
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
        var active = new HashSet<Value>(graph.Initializers.Where(v => !v.IsGraphInput && v.Initializer is { } t && t.ElementType.IsFloatingPoint()));
        foreach (var node in order)
        {
            var holdsParameters = !node.IsStandard || node.Subgraphs.Any(HoldsWeights);
            if (!holdsParameters && (GradientRules.IsNonDifferentiable(node.OpType) || !Reads(node).Any(active.Contains)))
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
        var unsupported = new SortedSet<string>(StringComparer.Ordinal);
        for (var i = order.Count - 1; i >= 0; i--)
        {
            var node = order[i];
            if (!node.Outputs.Any(o => o is not null && needed.Contains(o)))
            {
                continue;
            }
            var hasRule = node.IsStandard && GradientRules.Has(node.OpType);
            if (!hasRule)
            {
                unsupported.Add(Describe(node));
            }
            for (var k = 0; k < node.Inputs.Count; k++)
            {
                // Without a rule nothing says which inputs carry gradients: follow all of them, so
                // every unsupported op upstream is reported at once.
                if (node.Inputs[k] is { } input && active.Contains(input) && (!hasRule || TrainableParameters.IsDifferentiableInput(node, k)))
                {
                    needed.Add(input);
                }
            }
            foreach (var outer in node.ImplicitInputs().Where(active.Contains))
            {
                needed.Add(outer);
            }
        }
        return [.. unsupported];
    }

    /// <summary>The outputs a loss can be attached to: floating-point (or untyped) graph outputs.</summary>
    public static IReadOnlyList<Value> TrainableOutputs(Graph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        return [.. graph.Outputs.Where(CarriesGradient)];
    }

    /// <summary>The op type as reports write it: <c>Op</c> in ai.onnx, <c>domain.Op</c> elsewhere.</summary>
    public static string Describe(Node node)
    {
        ArgumentNullException.ThrowIfNull(node);
        return node.IsStandard ? node.OpType : $"{node.Domain}.{node.OpType}";
    }

    /// <summary>The values a node reads: its inputs and the outer values its subgraphs (If, Loop, Scan bodies) use.</summary>
    private static IEnumerable<Value> Reads(Node node) =>
        node.Inputs.OfType<Value>().Concat(node.ImplicitInputs());

    /// <summary>A subgraph with weights of its own: floating-point initializers or weight-sized Constant nodes (silero's If branches).</summary>
    private static bool HoldsWeights(Graph graph) =>
        graph.SelfAndSubgraphs().Any(g => g.Initializers.Any(v => v.Initializer is { } t && t.ElementType.IsFloatingPoint())
            || g.Nodes.Any(n => ConstantPromotion.WeightOf(n) is not null));

    private static bool CarriesGradient(Value value) =>
        value.ElementType == ElementType.Undefined || value.ElementType.IsFloatingPoint();
}
