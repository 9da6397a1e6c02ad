using System.CommandLine;
using ImplicitRegOnnx.Training;

namespace ImplicitRegOnnx.Cli.Commands;

/// <summary>The options that say what to differentiate, shared by <c>grad</c> and <c>rewrite</c>.</summary>
internal sealed class GradientOptionSet
{
    private readonly Option<string?> _loss = new("--loss") { Description = $"Loss attached to the output: {string.Join(", ", Losses.Names)}." };
    private readonly Option<double?> _coefficient = new("--coefficient") { Description = "c in C + c·R." };
    private readonly Option<double?> _lambda = new("--lambda") { Description = "λ, with c = λ/4 (the paper's ε/m scale)." };
    private readonly Option<int> _microbatches = new("--microbatches") { Description = "n: consecutive equal slices of the batch the penalty averages over.", DefaultValueFactory = _ => 1 };
    private readonly Option<string> _penalty = new("--penalty") { Description = "exact (double backward), finite-difference or none.", DefaultValueFactory = _ => "exact" };
    private readonly Option<double> _fdStep = new("--fd-step") { Description = "h of the finite-difference mode (default 1e-4; larger steps cross ReLU kinks).", DefaultValueFactory = _ => PenaltyOptions.DefaultFiniteDifferenceStep };
    private readonly Option<string?> _output = new("--output") { Description = "The model output the loss is attached to (default: the first)." };
    private readonly Option<string[]> _trainable = new("--trainable") { Description = "Train only parameters matching these globs (repeatable).", AllowMultipleArgumentsPerToken = false };
    private readonly Option<string[]> _freeze = new("--freeze") { Description = "Do not train parameters matching these globs (repeatable).", AllowMultipleArgumentsPerToken = false };
    private readonly Option<string?> _lossOutput;
    private readonly LossKind? _defaultLoss;
    private readonly bool _scaleOptional;

    /// <param name="withLossOutput">Offer --loss-output (the model computes its own loss).</param>
    /// <param name="defaultLoss">The loss when --loss is not given (null: --loss is required).</param>
    /// <param name="scaleOptional">The penalty's scale may be left out (c = 0) even with a penalty mode.</param>
    public GradientOptionSet(bool withLossOutput, LossKind? defaultLoss = null, bool scaleOptional = false)
    {
        _defaultLoss = defaultLoss;
        _scaleOptional = scaleOptional;
        if (defaultLoss is { } loss)
        {
            _loss.Description += $" Default: {loss.Name()}.";
        }
        _lossOutput = withLossOutput
            ? new Option<string?>("--loss-output") { Description = "The model already outputs a scalar loss under this name: use it as C (no --loss, no target input)." }
            : null!;
    }

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { _loss, _coefficient, _lambda, _microbatches, _penalty, _fdStep, _output, _trainable, _freeze })
        {
            command.Options.Add(option);
        }
        if (_lossOutput is not null)
        {
            command.Options.Add(_lossOutput);
        }
    }

    /// <summary>The options as given, and λ when the scale was given as λ.</summary>
    public (GradientModelOptions Options, double? Lambda) Parse(ParseResult parsed)
    {
        var mode = ParseMode(parsed.GetValue(_penalty)!);
        var lambda = parsed.GetValue(_lambda);
        var c = Coefficient(parsed.GetValue(_coefficient), lambda, _scaleOptional ? PenaltyMode.None : mode);
        var lossOutput = _lossOutput is null ? null : parsed.GetValue(_lossOutput);
        var lossName = parsed.GetValue(_loss);
        var lossKind = LossKind.CrossEntropy;
        if (lossOutput is not null && lossName is not null)
        {
            throw ImplicitRegException.BadInput("--loss and --loss-output contradict each other: the model either gets a loss attached or has its own");
        }
        if (lossOutput is null)
        {
            if (lossName is null && _defaultLoss is { } fallback)
            {
                lossKind = fallback;
            }
            else if (lossName is null)
            {
                throw ImplicitRegException.BadInput($"--loss is required: one of {string.Join(", ", Losses.Names)}" + (_lossOutput is null ? "" : " (or --loss-output NAME)"));
            }
            if (lossName is not null && !Losses.TryParse(lossName, out lossKind))
            {
                throw ImplicitRegException.BadInput($"--loss {lossName}: unknown loss; use one of {string.Join(", ", Losses.Names)}");
            }
        }
        // The values are checked by the library (GradientModelOptions.Validate), which names them; FlagNames shows the options.
        var options = new GradientModelOptions
        {
            Loss = lossKind,
            LossOutput = lossOutput,
            Output = parsed.GetValue(_output),
            Trainable = parsed.GetValue(_trainable),
            Freeze = parsed.GetValue(_freeze),
            Penalty = new PenaltyOptions { Mode = mode, Coefficient = c, Microbatches = parsed.GetValue(_microbatches), FiniteDifferenceStep = parsed.GetValue(_fdStep) },
        };
        return (options, lambda);
    }

    /// <summary>--penalty's value, or a usage error.</summary>
    public static PenaltyMode ParseMode(string name) =>
        PenaltyModes.TryParse(name, out var mode) ? mode : throw ImplicitRegException.BadInput($"--penalty {name}: expected exact, finite-difference or none");

    private static double Coefficient(double? coefficient, double? lambda, PenaltyMode mode)
    {
        if (coefficient is not null && lambda is not null)
        {
            throw ImplicitRegException.BadInput("--coefficient and --lambda both set the penalty's scale; give one of them (c = λ/4)");
        }
        var c = coefficient ?? (lambda is { } l ? PenaltyOptions.CoefficientFromLambda(l) : (double?)null);
        if (c is null)
        {
            if (mode == PenaltyMode.None)
            {
                return 0;
            }
            throw ImplicitRegException.BadInput("the penalty needs a scale: give --coefficient c or --lambda λ (c = λ/4), or --penalty none");
        }
        return c.Value;
    }
}
