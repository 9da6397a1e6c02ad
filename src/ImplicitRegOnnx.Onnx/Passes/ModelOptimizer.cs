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
public static class ModelOptimizer
{
    /// <summary>Rounds of the pass list at most; each later round only runs when the previous one changed something.</summary>
    public const int MaxRounds = 8;

    public static OptimizeReport Optimize(Model model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var nodesBefore = PassHelpers.CountNodes(model, includeFunctions: false);
        var initializersBefore = CountInitializers(model);
        var pipeline = new PassPipeline(new TopologicalSort(), new ConstantFolding(), new CommonSubexpressionElimination(), new DeadCodeElimination())
        {
            MaxRounds = MaxRounds,
        };
        var results = pipeline.Run(model);
        return new OptimizeReport(nodesBefore, PassHelpers.CountNodes(model, includeFunctions: false), initializersBefore, CountInitializers(model), results);
    }

    private static int CountInitializers(Model model) => model.Graph.SelfAndSubgraphs().Sum(g => g.Initializers.Count);
}
