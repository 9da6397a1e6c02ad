using System.CommandLine;
using ImplicitRegOnnx.Runtime.Verification;
using ImplicitRegOnnx.Training;

namespace ImplicitRegOnnx.Cli.Commands;

/// <summary>The options of a gradient check (batch, seed, directions, sizes of symbolic dims), shared by <c>gradcheck</c> and <c>convert --gradcheck</c>.</summary>
internal sealed class GradcheckOptionSet
{
    private readonly Option<long?> _batch = new("--batch") { Description = "Batch size of the random inputs (first dim when symbolic or unknown; default: the larger of 2 and --microbatches)." };
    private readonly Option<int> _seed = new("--seed") { Description = "Seed of the random inputs, targets and directions.", DefaultValueFactory = _ => 1234 };
    private readonly Option<int> _directions = new("--directions") { Description = "Number of random directions checked.", DefaultValueFactory = _ => 3 };
    private readonly Option<string[]> _dims = new("--dim")
    {
        Description = "Size of a symbolic input dimension, NAME=SIZE (repeatable): fixed in the model except on axis 0 (the batch), and used for random inputs ('*=SIZE' sets the default, 2).",
        AllowMultipleArgumentsPerToken = false,
    };

    /// <summary>The options, for a command's list.</summary>
    public IEnumerable<Option> Options => [_batch, _seed, _directions, _dims];

    /// <summary>The check's options as given; the library checks them (GradientCheckOptions.Validate).</summary>
    public GradientCheckOptions Parse(ParseResult parsed, GradientModelOptions gradient)
    {
        var feeds = FeedOptions.Parse(parsed.GetValue(_dims), seed: parsed.GetValue(_seed));
        return new GradientCheckOptions
        {
            Gradient = gradient,
            Batch = parsed.GetValue(_batch) ?? Math.Max(2, gradient.Penalty.Microbatches),
            Seed = feeds.Seed,
            Dims = feeds.Dims,
            DefaultDim = feeds.DefaultDim,
            Directions = parsed.GetValue(_directions),
        };
    }
}

/// <summary>A check's verdict as the JSON reports of <c>gradcheck</c> and <c>convert</c> write it.</summary>
internal sealed record GradcheckVerdict(bool Passed, double? MaxError, double Threshold, IReadOnlyList<string> Unchecked)
{
    public static GradcheckVerdict Of(GradientCheckResult result) => new(result.Passed, JsonOutput.Finite(result.MaxError), result.Threshold, result.Unchecked);
}
