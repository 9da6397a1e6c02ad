using ImplicitRegOnnx.Onnx.Building;

namespace ImplicitRegOnnx.Training;

/// <summary>
/// Instantiates a model's forward computation inside another graph with some values substituted
/// (model inputs by microbatch slices, parameters by perturbed parameters). Nodes are copied with
/// fresh output names; values not substituted (initializers, constants) are shared.
/// </summary>
internal static class ForwardCloner
{
    /// <summary>Copies the nodes of <paramref name="source"/> needed for <paramref name="outputs"/>; returns the copies of the outputs.</summary>
    public static IReadOnlyList<Value> Clone(Graph source, GraphBuilder b, IReadOnlyDictionary<Value, Value> substitutions, IReadOnlyList<Value> outputs)
    {
        var map = new Dictionary<Value, Value>(substitutions);
        Value Map(Value v) => map.TryGetValue(v, out var m) ? m : v;
        foreach (var node in NodesFor(source, outputs, substitutions.Keys))
        {
            if (node.Subgraphs.Any())
            {
                throw ImplicitRegException.Unsupported($"node '{node.Name}' ({node.OpType}) holds a subgraph; control flow on the training path is not supported yet");
            }
            var copy = new Node(node.Domain, node.OpType,
                node.Inputs.Select(v => v is null ? null : Map(v)),
                node.Outputs.Select(o => o is null ? null : b.FreshName(o.Name)),
                node.Attributes, b.FreshName(string.IsNullOrEmpty(node.Name) ? node.OpType : node.Name));
            b.Graph.Append(copy);
            for (var i = 0; i < node.Outputs.Count; i++)
            {
                if (node.Outputs[i] is { } o)
                {
                    copy.Outputs[i]!.Type = o.Type;
                    map[o] = copy.Outputs[i]!;
                }
            }
            Onnx.Inference.ShapeInference.InferNode(copy, b.Opset);
        }
        return [.. outputs.Select(Map)];
    }

    /// <summary>The nodes (in order) that the outputs depend on, stopping at substituted values.</summary>
    private static List<Node> NodesFor(Graph source, IReadOnlyList<Value> outputs, IEnumerable<Value> stops)
    {
        var needed = new HashSet<Value>(outputs);
        var stop = new HashSet<Value>(stops);
        var nodes = new List<Node>();
        foreach (var node in Onnx.Passes.TopologicalSort.Order(source).AsEnumerable().Reverse())
        {
            if (!node.Outputs.Any(o => o is not null && needed.Contains(o) && !stop.Contains(o)))
            {
                continue;
            }
            nodes.Add(node);
            foreach (var input in node.Inputs.Concat(node.ImplicitInputs()))
            {
                if (input is not null)
                {
                    needed.Add(input);
                }
            }
        }
        nodes.Reverse();
        return nodes;
    }
}

/// <summary>
/// BatchNormalization with training_mode = 1 (ONNX operator spec, opset 14/15) rewritten in standard
/// ops, so that each forward instance uses the statistics of the slice it is evaluated on (design.md §1):
/// mean and biased variance over every axis but the channel axis 1, Y = scale·(X − mean)/√(var + ε) + B, running_mean = input_mean·momentum +
/// mean·(1 − momentum), likewise running_var. ONNX Runtime's stock CPU build has no training-mode
/// BatchNormalization kernel, so the step graph needs this lowering; it runs after differentiation,
/// so that the gradients use the closed-form BatchNormalization rule (a few full-size ops) rather
/// than the derivatives of each lowered op.
/// </summary>
internal static class BatchNormTraining
{
    /// <summary>Replaces every training-mode BatchNormalization of the graph; returns how many.</summary>
    public static int LowerInPlace(GraphBuilder b)
    {
        var graph = b.Graph;
        var lowered = 0;
        foreach (var node in graph.Nodes.Where(n => n.IsStandard && n.OpType == "BatchNormalization" && n.GetInt("training_mode", 0) == 1).ToList())
        {
            var outputs = Expand(b, node);
            for (var i = 0; i < node.Outputs.Count; i++)
            {
                if (node.Outputs[i] is { } old && outputs[i] is { } replacement)
                {
                    replacement.Type ??= old.Type;
                    old.ReplaceAllUsesWith(replacement);
                }
            }
            graph.Remove(node, force: true);
            lowered++;
        }
        if (lowered > 0)
        {
            Onnx.Passes.TopologicalSort.Sort(graph);
        }
        return lowered;
    }

    private static Value?[] Expand(GraphBuilder b, Node node)
    {
        var x = node.Inputs[0]!;
        var scale = node.Inputs[1]!;
        var bias = node.Inputs[2]!;
        var rank = x.Shape?.Rank ?? throw ImplicitRegException.Unsupported($"BatchNormalization '{node.Name}': the rank of its input is unknown; run shape inference or give the model static ranks");
        long[] axes = [0, .. Enumerable.Range(2, rank - 2).Select(a => (long)a)];
        var epsilon = node.GetFloat("epsilon", 1e-5f);
        var momentum = node.GetFloat("momentum", 0.9f);

        // The same statistics as the BatchNormalization gradient rule recomputes from X, so that
        // common-subexpression elimination computes them once for both.
        var (mean, _, variance, _) = Autodiff.Rules.Statistics.Of(b, x, axes, epsilon);
        // Y itself in one pass: the inference-mode kernel with the batch statistics as its inputs (the
        // spec's Y = (X − mean)/√(var + ε)·scale + B), where Mul by x̂ and the scale, then Add took two
        // passes. Nothing differentiates it: this lowering runs after every gradient.
        var y = b.Op("BatchNormalization", [x, scale, bias, b.Reshape(mean, [-1]), b.Reshape(variance, [-1])], Attribute.Float("epsilon", epsilon));

        var outputs = new Value?[node.Outputs.Count];
        outputs[0] = y;
        if (node.Outputs.Count > 1 && node.Outputs[1] is not null)
        {
            outputs[1] = Running(b, node.Inputs[3]!, b.Reshape(mean, [-1]), momentum);
        }
        if (node.Outputs.Count > 2 && node.Outputs[2] is not null)
        {
            outputs[2] = Running(b, node.Inputs[4]!, b.Reshape(variance, [-1]), momentum);
        }
        return outputs;
    }

    private static Value Running(GraphBuilder b, Value previous, Value current, float momentum) =>
        b.Add(b.Mul(previous, b.ScalarLike(momentum, previous)), b.Mul(current, b.ScalarLike(1 - momentum, current)));
}
