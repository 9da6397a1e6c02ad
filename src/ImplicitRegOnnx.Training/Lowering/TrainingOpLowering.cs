using ImplicitRegOnnx.Onnx.Building;
using ImplicitRegOnnx.Onnx.Inference;
using ImplicitRegOnnx.Onnx.Passes;
using ImplicitRegOnnx.Onnx.Serialization;

namespace ImplicitRegOnnx.Training.Lowering;

/// <summary>What <see cref="TrainingOpLowering.Lower"/> did.</summary>
/// <param name="Lowered">How many nodes of each training op were replaced.</param>
/// <param name="OpsetRaisedFrom">The ai.onnx opset the model had when it was raised to <see cref="TrainingOpLowering.GradientOpset"/> (null: not raised; 0: none imported).</param>
public sealed record LoweringReport(IReadOnlyDictionary<string, int> Lowered, long? OpsetRaisedFrom)
{
    /// <summary>All nodes replaced.</summary>
    public int Total => Lowered.Values.Sum();
}

/// <summary>
/// Replaces the ops of the ai.onnx.preview.training domain (Gradient, Momentum, Adagrad, Adam; ONNX
/// operator spec, opset 1), which stock ONNX Runtime rejects, with standard ai.onnx ops: Gradient by the
/// backward graph of <see cref="Autodiff.ReverseMode"/>, the optimizers by their spec's update formulas
/// (one file per op). Each node output keeps its name (an Identity of the lowered value), so graph outputs
/// and consumers are unchanged. The training domain's opset import is dropped when nothing uses it any
/// more. training_info is left to the caller (see <see cref="TrainingStepModel"/>); while the model carries
/// one, the import stays.
/// </summary>
public static class TrainingOpLowering
{
    /// <summary>The operator set domain of ONNX's training operators.</summary>
    public const string Domain = "ai.onnx.preview.training";

    /// <summary>The ai.onnx opset a model is raised to when the autodiff must run on it (the one training graphs use), or when it imports none.</summary>
    public const long GradientOpset = GradientModelBuilder.MinimumOpset;

    private static readonly Dictionary<string, Func<GraphBuilder, Node, Value?[]>> Lowerings = new(StringComparer.Ordinal)
    {
        ["Gradient"] = GradientLowering.Lower,
        ["Momentum"] = MomentumLowering.Lower,
        ["Adagrad"] = AdagradLowering.Lower,
        ["Adam"] = AdamLowering.Lower,
    };

    /// <summary>The ops this lowering knows.</summary>
    public static IReadOnlyCollection<string> KnownOps => Lowerings.Keys;

    /// <summary>Whether <paramref name="node"/> is one of the training ops this pass lowers.</summary>
    public static bool IsTrainingNode(Node node) => node.Domain == Domain;

    /// <summary>Lowers every training-domain node of the main graph in place; throws <see cref="ImplicitRegException"/> naming a node it cannot lower.</summary>
    public static LoweringReport Lower(Model model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var graph = model.Graph;
        CheckPlacement(model);
        var nodes = TopologicalSort.Order(graph).Where(IsTrainingNode).ToList();
        var counts = new SortedDictionary<string, int>(StringComparer.Ordinal);
        if (nodes.Count == 0)
        {
            DropUnusedImport(model);
            return new LoweringReport(counts, null);
        }
        var raisedFrom = RaiseOpset(model, needsAutodiff: nodes.Any(n => n.OpType == "Gradient"));
        var opset = model.OpsetVersion("")!.Value;
        var b = new GraphBuilder(graph, opset) { NamePrefix = "lowered/" };
        foreach (var node in nodes)
        {
            // The autodiff needs the shapes of the values on the differentiated path, and a lowered
            // node's outputs give types to the nodes after it: sort (lowered nodes are appended) and infer before each node.
            TopologicalSort.Sort(graph);
            ShapeInference.InferGraph(graph, opset);
            Replace(b, node, Lowerings[node.OpType](b, node));
            counts[node.OpType] = counts.GetValueOrDefault(node.OpType) + 1;
        }
        TopologicalSort.Sort(graph);
        DropUnusedImport(model);
        return new LoweringReport(counts, raisedFrom);
    }

    /// <summary>Training ops only in the main graph, and only those with a lowering.</summary>
    private static void CheckPlacement(Model model)
    {
        foreach (var node in model.Graph.Nodes.Where(IsTrainingNode))
        {
            if (!Lowerings.ContainsKey(node.OpType))
            {
                throw LoweringErrors.At(node, $"{Domain} has no such op that this tool can lower (known: {string.Join(", ", Lowerings.Keys)})", ErrorKind.Unsupported);
            }
        }
        var nested = model.Graph.Nodes.SelectMany(n => n.Subgraphs).SelectMany(g => g.SelfAndSubgraphs())
            .Concat(model.Functions.SelectMany(f => f.Body.SelfAndSubgraphs()))
            .SelectMany(g => g.Nodes).FirstOrDefault(IsTrainingNode);
        if (nested is not null)
        {
            throw LoweringErrors.At(nested, "training ops inside subgraphs or functions are not lowered; only the main graph's are", ErrorKind.Unsupported);
        }
    }

    /// <summary>
    /// The autodiff rules are written for opset 17 and newer (as the training graphs are), so a model
    /// with a Gradient is upgraded to it; a model importing no ai.onnx opset (the optimizer tests import
    /// only the training domain) gets one. IR version 8 goes with opset 17 (ONNX versioning table).
    /// </summary>
    private static long? RaiseOpset(Model model, bool needsAutodiff)
    {
        var current = model.OpsetVersion("");
        if (current is { } v && (!needsAutodiff || v >= GradientOpset))
        {
            return null;
        }
        try
        {
            OpsetUpgrade.Upgrade(model, GradientOpset);
        }
        catch (OpsetUpgradeException e)
        {
            throw new ImplicitRegException(e.Kind, $"the Gradient lowering needs ai.onnx opset {GradientOpset}, and the upgrade failed: {e.Message}", e);
        }
        model.IrVersion = Math.Max(model.IrVersion, 8);
        return current ?? 0;
    }

    /// <summary>Points every use of the node's outputs at the lowered values, removes the node and gives its output names to Identities of those values.</summary>
    private static void Replace(GraphBuilder b, Node node, Value?[] lowered)
    {
        var graph = node.Graph!;
        var renames = new List<(Value Identity, Value Old)>();
        for (var i = 0; i < node.Outputs.Count; i++)
        {
            if (node.Outputs[i] is not { } old)
            {
                continue;
            }
            var identity = b.Identity(lowered[i]!);
            identity.Type ??= old.Type;
            old.ReplaceAllUsesWith(identity);
            graph.ValueInfos.Remove(old);
            renames.Add((identity, old));
        }
        graph.Remove(node);
        foreach (var (identity, old) in renames)
        {
            identity.Name = old.Name;
        }
    }

    private static void DropUnusedImport(Model model)
    {
        var used = TrainingInfos.Count(model) > 0
            || model.Graph.SelfAndSubgraphs().Concat(model.Functions.SelectMany(f => f.Body.SelfAndSubgraphs()))
                .Any(g => g.Nodes.Any(IsTrainingNode));
        if (!used)
        {
            model.Opsets.RemoveAll(o => o.Domain == Domain);
        }
    }
}
