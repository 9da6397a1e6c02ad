using ImplicitRegOnnx.Onnx;

namespace ImplicitRegOnnx.Runtime.Verification;

/// <summary>What an equivalence check found.</summary>
/// <param name="Differences">One line per differing output; empty when the models agree.</param>
/// <param name="OutputsCompared">How many outputs were compared.</param>
public sealed record EquivalenceResult(IReadOnlyList<string> Differences, int OutputsCompared)
{
    /// <summary>True when no output differed beyond the tolerance.</summary>
    public bool Equivalent => Differences.Count == 0;
}

/// <summary>
/// Runs two model files (e.g. a model and its optimized form) on the same random inputs with ONNX
/// Runtime CPU and compares every output.
/// </summary>
public static class EquivalenceCheck
{
    /// <summary>
    /// Make <paramref name="feeds"/> with <see cref="RandomFeeds.Create"/> from the reference model.
    /// Throws <see cref="ImplicitRegException"/> (kind <see cref="ErrorKind.Failed"/>) when ORT cannot run the reference (nothing to compare
    /// against); a candidate that fails to run is reported as a difference.
    /// </summary>
    public static EquivalenceResult Run(IReadOnlyList<Tensor> feeds, string referencePath, string candidatePath, Tolerance? tolerance = null)
    {
        IReadOnlyList<RunOutput> expected;
        using (var runner = ModelRunner.FromFile(referencePath))
        {
            expected = runner.Run(feeds);
        }
        IReadOnlyList<RunOutput> actual;
        try
        {
            using var runner = ModelRunner.FromFile(candidatePath);
            actual = runner.Run(feeds);
        }
        catch (ImplicitRegException e)
        {
            return new EquivalenceResult([e.Message], 0);
        }
        return new EquivalenceResult(OutputComparison.Differences(expected, actual, tolerance), expected.Count);
    }
}
