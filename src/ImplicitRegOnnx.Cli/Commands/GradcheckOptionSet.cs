using System.CommandLine;
using System.Text.Json;
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

    public void AddTo(Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        foreach (var option in new Option[] { _batch, _seed, _directions, _dims })
        {
            command.Options.Add(option);
        }
    }

    public GradientCheckOptions Parse(ParseResult parsed, GradientModelOptions gradient)
    {
        ArgumentNullException.ThrowIfNull(parsed);
        // The values are checked by the library (GradientCheckOptions.Validate), which names them; FlagNames shows the options.
        var batch = parsed.GetValue(_batch) ?? Math.Max(2, gradient.Penalty.Microbatches);
        var feeds = OptimizeCommand.ParseDims(parsed.GetValue(_dims) ?? [], [], parsed.GetValue(_seed));
        return new GradientCheckOptions
        {
            Gradient = gradient,
            Batch = batch,
            Seed = feeds.Seed,
            Dims = feeds.Dims,
            DefaultDim = feeds.DefaultDim,
            Directions = parsed.GetValue(_directions),
        };
    }

    /// <summary>Writes a number, or null when it is NaN or infinite (JSON has no such numbers).</summary>
    public static void WriteNumber(Utf8JsonWriter writer, string name, double value)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (double.IsFinite(value))
        {
            writer.WriteNumber(name, value);
        }
        else
        {
            writer.WriteNull(name);
        }
    }

    /// <summary>Writes a check's verdict fields (passed, max_error, threshold, unchecked) into the current object.</summary>
    public static void WriteVerdict(Utf8JsonWriter writer, GradientCheckResult result)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(result);
        writer.WriteBoolean("passed", result.Passed);
        WriteNumber(writer, "max_error", result.MaxError);
        writer.WriteNumber("threshold", result.Threshold);
        writer.WriteStartArray("unchecked");
        foreach (var quantity in result.Unchecked)
        {
            writer.WriteStringValue(quantity);
        }
        writer.WriteEndArray();
    }
}
