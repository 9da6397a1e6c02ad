using System.CommandLine;
using ImplicitRegOnnx.Training;

namespace ImplicitRegOnnx.Cli.Commands;

/// <summary>The options that say what to differentiate, shared by <c>grad</c>, <c>rewrite</c>, <c>convert</c> and <c>gradcheck</c>.</summary>
internal sealed class GradientOptionSet
{
    private readonly Option<string?> _loss = new("--loss") { Description = $"Loss attached to the output: {string.Join(", ", OptionNames.Losses)}." };
    private readonly Option<double?> _coefficient = new("--coefficient") { Description = "c in C + c·R." };
    private readonly Option<double?> _lambda = new("--lambda") { Description = "λ, with c = λ/4 (the paper's ε/m scale)." };
    private readonly Option<int> _microbatches = new("--microbatches") { Description = "n: consecutive equal slices of the batch the penalty averages over.", DefaultValueFactory = _ => 1 };
    private readonly Option<string> _penalty = new("--penalty") { Description = "exact (double backward), finite-difference or none.", DefaultValueFactory = _ => "exact" };
    private readonly Option<double> _fdStep = new("--fd-step") { Description = "h of the finite-difference mode (default 1e-4; larger steps cross ReLU kinks).", DefaultValueFactory = _ => PenaltyOptions.DefaultFiniteDifferenceStep };
    private readonly Option<string?> _output = new("--output") { Description = "The model output the loss is attached to (default: the first)." };
    private readonly Option<string[]> _trainable = new("--trainable") { Description = "Train only parameters matching these globs (repeatable).", AllowMultipleArgumentsPerToken = false };
    private readonly Option<string[]> _freeze = new("--freeze") { Description = "Do not train parameters matching these globs (repeatable).", AllowMultipleArgumentsPerToken = false };
    private readonly Option<string?>? _lossOutput;
    private readonly LossKind? _defaultLoss;
    private readonly bool _scaleOptional;

    /// <param name="withLossOutput">Offer --loss-output (the model computes its own loss).</param>
    /// <param name="defaultLoss">The loss when --loss is not given (null: --loss is required).</param>
    /// <param name="scaleOptional">The penalty's scale may be left out (c = 0) even with a penalty mode.</param>
    public GradientOptionSet(bool withLossOutput, LossKind? defaultLoss = null, bool scaleOptional = false)
    {
        (_defaultLoss, _scaleOptional) = (defaultLoss, scaleOptional);
        if (defaultLoss is { } loss)
        {
            _loss.Description += $" Default: {OptionNames.NameOf(loss)}.";
        }
        _lossOutput = withLossOutput ? new("--loss-output") { Description = "The model already outputs a scalar loss under this name: use it as C (no --loss, no target input)." } : null;
    }

    /// <summary>The options, for a command's list.</summary>
    public IEnumerable<Option> Options => new Option?[] { _loss, _coefficient, _lambda, _microbatches, _penalty, _fdStep, _output, _trainable, _freeze, _lossOutput }.OfType<Option>();

    /// <summary>The options as given, and λ when the scale was given as λ; the library checks them (GradientModelOptions.WithLoss and Validate, PenaltyOptions.WithScale).</summary>
    public (GradientModelOptions Options, double? Lambda) Parse(ParseResult parsed)
    {
        var lossOutput = _lossOutput is null ? null : parsed.GetValue(_lossOutput);
        var lossName = parsed.GetValue(_loss);
        if (lossName is null && lossOutput is null && _defaultLoss is null)
        {
            throw ImplicitRegException.BadInput($"--loss is required: one of {string.Join(", ", OptionNames.Losses)}" + (_lossOutput is null ? "" : " (or --loss-output NAME)"));
        }
        var penalty = new PenaltyOptions { Mode = ParseMode(parsed.GetValue(_penalty)!), Microbatches = parsed.GetValue(_microbatches), FiniteDifferenceStep = parsed.GetValue(_fdStep) };
        var lambda = parsed.GetValue(_lambda);
        var options = new GradientModelOptions
        {
            Loss = _defaultLoss ?? LossKind.CrossEntropy,
            Output = parsed.GetValue(_output),
            Trainable = parsed.GetValue(_trainable),
            Freeze = parsed.GetValue(_freeze),
            Penalty = penalty.WithScale(parsed.GetValue(_coefficient), lambda, required: !_scaleOptional),
        }.WithLoss(lossName is null ? null : OptionNames.ParseLoss(lossName), lossOutput);
        return (options, lambda);
    }

    /// <summary>--penalty's value (also of <c>train</c> and <c>bench</c>).</summary>
    public static PenaltyMode ParseMode(string name) => OptionNames.ParsePenaltyMode(name);
}
