namespace ImplicitRegOnnx.Onnx.Passes;

/// <summary>What one pass did in a pipeline run.</summary>
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
