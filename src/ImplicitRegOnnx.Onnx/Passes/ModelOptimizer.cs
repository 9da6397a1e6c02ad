namespace ImplicitRegOnnx.Onnx.Passes;

/// <summary>What <see cref="ModelOptimizer.Optimize"/> did.</summary>
/// <param name="NodesBefore">Nodes of the main graph and all its subgraphs before.</param>
/// <param name="NodesAfter">The same count after.</param>
/// <param name="InitializersBefore">Initializers of the main graph and its subgraphs before.</param>
/// <param name="InitializersAfter">The same count after.</param>
/// <param name="Passes">Each pass run, in order, with its change count (the pass list repeats until a round changes nothing).</param>
public sealed record OptimizeReport(int NodesBefore, int NodesAfter, int InitializersBefore, int InitializersAfter, IReadOnlyList<PassResult> Passes)
{
    /// <summary>Total changes per pass name over all rounds, in first-run order.</summary>
    public IReadOnlyList<PassResult> ChangesByPass =>
        Passes.GroupBy(p => p.Pass).Select(g => new PassResult(g.Key, g.Sum(p => p.Changes))).ToList();

    /// <summary>Whether any pass changed anything.</summary>
    public bool Changed => Passes.Any(p => p.Changes > 0);
}

/// <summary>
/// The optimization behind <c>implicitreg optimize</c>: topological sort, constant folding, common
/// subexpression elimination and dead-code removal, repeated until nothing changes. The graph's
/// inputs and outputs (names, order, types) are left exactly as they were.
/// </summary>
/// <remarks>
/// Folding computed constants needs something that runs operators, which the IR does not have: pass an
/// <see cref="IConstantEvaluator"/>, e.g. <c>ModelOptimizer.Optimize(model, OrtConstantEvaluator.Instance)</c>
/// with the evaluator of <c>ImplicitRegOnnx.Runtime</c>. Without one, constant folding only turns
/// Constant nodes into initializers and folds Shape/Size of statically shaped inputs.
/// </remarks>
public static class ModelOptimizer
{
    /// <summary>Rounds of the pass list at most; each later round only runs when the previous one changed something.</summary>
    public const int MaxRounds = 8;

    /// <summary>Optimizes <paramref name="model"/> in place.</summary>
    /// <param name="model">The model to optimize.</param>
    /// <param name="evaluator">Computes constant subgraphs for constant folding; null folds only what needs no evaluation.</param>
    /// <returns>What changed.</returns>
    public static OptimizeReport Optimize(Model model, IConstantEvaluator? evaluator = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var nodesBefore = PassHelpers.CountNodes(model, includeFunctions: false);
        var initializersBefore = CountInitializers(model);
        var pipeline = new PassPipeline(new TopologicalSort(), new ConstantFolding(evaluator), new CommonSubexpressionElimination(), new DeadCodeElimination())
        {
            MaxRounds = MaxRounds,
        };
        var results = pipeline.Run(model);
        return new OptimizeReport(nodesBefore, PassHelpers.CountNodes(model, includeFunctions: false), initializersBefore, CountInitializers(model), results);
    }

    private static int CountInitializers(Model model) => model.Graph.SelfAndSubgraphs().Sum(g => g.Initializers.Count);
}
