namespace ImplicitRegOnnx.Onnx.Passes;

/// <summary>What one pass did in one round of <see cref="ModelOptimizer.Optimize"/>.</summary>
/// <param name="Pass">The pass's name: "topological-sort", "constant-folding", "cse" or "dead-code".</param>
/// <param name="Changes">How many changes it made (nodes removed, folded or merged; the unit is the pass's own).</param>
public sealed record PassResult(string Pass, int Changes);

/// <summary>Runs passes in order, repeating the list until nothing changes (or a round limit).</summary>
internal sealed class PassPipeline(params IModelPass[] passes)
{
    private readonly IModelPass[] _passes = passes;

    public int MaxRounds { get; init; } = 4;

    public IReadOnlyList<PassResult> Run(Model model)
    {
        var results = new List<PassResult>();
        for (var round = 0; round < MaxRounds; round++)
        {
            var changed = 0;
            foreach (var pass in _passes)
            {
                var changes = pass.Run(model);
                results.Add(new PassResult(pass.Name, changes));
                changed += changes;
            }
            if (changed == 0)
            {
                break;
            }
        }
        return results;
    }
}
