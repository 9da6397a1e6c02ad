using System.CommandLine;
using ImplicitRegOnnx.Runtime;
using ImplicitRegOnnx.Training;
using ImplicitRegOnnx.Runtime.Training;

namespace ImplicitRegOnnx.Cli.Commands;

/// <summary>
/// The options that say how one run trains (loss, epochs, batch size, learning rate and schedule, the
/// penalty's scale and mode, optimizer, seed, step limit), shared by <c>train</c> and <c>sweep</c>:
/// <c>sweep</c> parses each point of its grid through the same set, so a value means the same in both.
/// </summary>
internal sealed class TrainOptionSet
{
    private readonly Option<string?> _loss = new("--loss") { Description = $"{string.Join(", ", Losses.Names)} (default: cross-entropy for class labels, mse otherwise)." };
    private readonly Option<int> _epochs = new("--epochs") { Description = "Passes over the training data.", DefaultValueFactory = _ => 30 };
    private readonly Option<int> _batchSize = new("--batch-size") { Description = "Examples per step (under mpirun: the global batch, split into one slice per rank).", DefaultValueFactory = _ => 32 };
    private readonly Option<float> _lr = new("--lr") { Description = "Learning rate ε.", DefaultValueFactory = _ => 0.05f };
    private readonly Option<string> _schedule = new("--lr-schedule") { Description = "constant, cosine or step.", DefaultValueFactory = _ => "constant" };
    private readonly Option<long> _warmup = new("--warmup-steps") { Description = "Steps of linear warmup to --lr before the schedule runs over the rest.", DefaultValueFactory = _ => 0 };
    private readonly Option<double?> _coefficient = new("--coefficient") { Description = "c in C + c·R, fixed for every step (default: c(t) = ε(t)/4)." };
    private readonly Option<double?> _lambda = new("--lambda") { Description = "λ with c = λ/4, fixed for every step (default: λ = ε(t), the scheduled learning rate of each step, as in the paper)." };
    private readonly Option<string> _penalty = new("--penalty") { Description = "exact, finite-difference or none.", DefaultValueFactory = _ => "exact" };
    private readonly Option<int> _microbatches = new("--microbatches") { Description = "n microbatches per batch for the penalty (under mpirun: per rank's slice).", DefaultValueFactory = _ => 2 };
    private readonly Option<string> _optimizer = new("--optimizer") { Description = "sgd, momentum or adam.", DefaultValueFactory = _ => "momentum" };
    private readonly Option<ulong> _seed = new("--seed") { Description = "Seed of the per-epoch permutations.", DefaultValueFactory = _ => 0UL };
    private readonly Option<long?> _maxSteps = new("--max-steps") { Description = "Stop after this many steps." };
    private readonly Option<bool> _keepLast = new("--keep-last") { Description = "Keep the last incomplete batch of each epoch." };

    /// <summary>The names of the options in this set (what <c>sweep</c> lets take a list).</summary>
    public IReadOnlyList<string> Names => [.. All.Select(o => o.Name)];

    /// <summary>The help text of an option of this set, by name ("--lr").</summary>
    public string? DescriptionOf(string name) => All.FirstOrDefault(o => o.Name == name)?.Description;

    private Option[] All => [_loss, _epochs, _batchSize, _lr, _schedule, _warmup, _coefficient, _lambda, _penalty, _microbatches, _optimizer, _seed, _maxSteps, _keepLast];

    public void AddTo(Command command)
    {
        foreach (var option in All)
        {
            command.Options.Add(option);
        }
    }

    /// <summary>
    /// The trainer options these values give (threads, device and checkpoints left at their defaults),
    /// and the loss as named (null: chosen from the data by <see cref="WithLoss"/>).
    /// </summary>
    public (TrainerOptions Options, string? LossName) Parse(ParseResult parsed)
    {
        // The values are checked by the library (TrainerOptions.Validate), which names them; FlagNames shows the options.
        var learningRate = parsed.GetValue(_lr);
        var mode = GradientOptionSet.ParseMode(parsed.GetValue(_penalty)!);
        if (parsed.GetValue(_coefficient) is not null && parsed.GetValue(_lambda) is not null)
        {
            throw ImplicitRegException.BadInput("--coefficient and --lambda both set the penalty's scale; give one of them (c = λ/4)");
        }
        var lambdaValue = parsed.GetValue(_lambda) ?? (parsed.GetValue(_coefficient) is null ? learningRate : null);
        var c = parsed.GetValue(_coefficient) ?? PenaltyOptions.CoefficientFromLambda(lambdaValue!.Value);
        var optimizerName = parsed.GetValue(_optimizer)!;
        if (!OptimizerOptions.TryParse(optimizerName, out var optimizerKind))
        {
            throw ImplicitRegException.BadInput($"--optimizer {optimizerName}: use one of {string.Join(", ", OptimizerOptions.Names)}");
        }
        var scheduleName = parsed.GetValue(_schedule);
        var scheduleKind = scheduleName switch
        {
            "constant" => LearningRateSchedule.Constant,
            "cosine" => LearningRateSchedule.Cosine,
            "step" => LearningRateSchedule.Step,
            _ => throw ImplicitRegException.BadInput($"--lr-schedule {scheduleName}: use constant, cosine or step"),
        };
        var lossName = parsed.GetValue(_loss);
        if (lossName is not null && !Losses.TryParse(lossName, out _))
        {
            throw ImplicitRegException.BadInput($"--loss {lossName}: unknown loss; use one of {string.Join(", ", Losses.Names)}");
        }
        var options = new TrainerOptions
        {
            Step = new StepModelOptions
            {
                Gradient = new GradientModelOptions
                {
                    Penalty = new PenaltyOptions { Mode = mode, Coefficient = c, Microbatches = parsed.GetValue(_microbatches) },
                },
                Optimizer = new OptimizerOptions { Kind = optimizerKind },
                Lambda = lambdaValue,
            },
            LearningRate = learningRate,
            // An explicit scale fixes c; without one the trainer feeds c(t) = ε(t)/4 (λ follows the schedule).
            PenaltyCoefficient = parsed.GetValue(_coefficient) is null && parsed.GetValue(_lambda) is null ? null : c,
            Schedule = scheduleKind,
            WarmupSteps = parsed.GetValue(_warmup),
            Epochs = parsed.GetValue(_epochs),
            BatchSize = parsed.GetValue(_batchSize),
            Seed = parsed.GetValue(_seed),
            MaxSteps = parsed.GetValue(_maxSteps),
            KeepLast = parsed.GetValue(_keepLast),
        };
        return (options, lossName);
    }

    /// <summary>The options with the loss set: as named, else cross-entropy for class labels and mse otherwise.</summary>
    public static TrainerOptions WithLoss(TrainerOptions options, string? lossName, bool classLabels)
    {
        lossName ??= classLabels ? "cross-entropy" : "mse";
        if (!Losses.TryParse(lossName, out var kind))
        {
            throw ImplicitRegException.BadInput($"--loss {lossName}: unknown loss; use one of {string.Join(", ", Losses.Names)}");
        }
        return options with { Step = options.Step with { Gradient = options.Step.Gradient with { Loss = kind } } };
    }
}
