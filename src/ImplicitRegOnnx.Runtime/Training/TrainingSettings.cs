using System.Globalization;
using System.Numerics;
using ImplicitRegOnnx.Training;

namespace ImplicitRegOnnx.Runtime.Training;

/// <summary>One training setting in textual form: its name (as sweep points and the tool spell it), the API parameter it sets, its default and what it means.</summary>
/// <param name="Name">The name without dashes, e.g. "lr"; a sweep point's key uses it.</param>
/// <param name="Parameter">The API parameter it sets, e.g. "TrainerOptions.LearningRate" (errors about its value name it).</param>
/// <param name="Default">The value used when it is not given, as text; null: none (the setting is optional).</param>
/// <param name="Description">What it means, one sentence.</param>
/// <param name="IsSwitch">Whether it is on/off ("true" or "false").</param>
public sealed record TrainingSetting(string Name, string Parameter, string? Default, string Description, bool IsSwitch = false);

/// <summary>
/// How one run trains, read from settings in textual form (name → value, e.g. "lr" → "0.05"): the one table that
/// <c>implicitreg train</c>'s options and every point of a sweep grid (<see cref="Experiments.SweepPoint"/>) go
/// through, so that a value means the same in both. <see cref="Parse"/> reads the numbers and names; the values are
/// checked where the options are validated (<see cref="TrainerOptions.Validate"/>).
/// </summary>
public sealed record TrainingSettings
{
    /// <summary>The trainer options the settings give (threads, device, checkpoints and monitoring at their defaults).</summary>
    public required TrainerOptions Trainer { get; init; }

    /// <summary>The loss as given; null: chosen from the data (<see cref="TrainerFor"/>).</summary>
    public LossKind? Loss { get; init; }

    /// <summary>The trainer options with the loss set: as given, else cross-entropy for class labels and mse otherwise.</summary>
    /// <param name="classLabels">Whether the training data has class labels (<see cref="Data.Dataset.HasClassLabels"/>).</param>
    public TrainerOptions TrainerFor(bool classLabels)
    {
        var loss = Loss ?? (classLabels ? LossKind.CrossEntropy : LossKind.Mse);
        return Trainer with { Step = Trainer.Step with { Gradient = Trainer.Step.Gradient with { Loss = loss } } };
    }

    /// <summary>The learning-rate schedule names (<see cref="LearningRateSchedule"/>): constant, cosine, step.</summary>
    public static IReadOnlyList<string> ScheduleNames { get; } = ["constant", "cosine", "step"];

    /// <summary>The settings, in the order tools list them; their names are the names of sweep points' values (<see cref="Experiments.SweepableOptions"/>).</summary>
    public static IReadOnlyList<TrainingSetting> Table { get; } =
    [
        new("loss", "GradientModelOptions.Loss", null, $"{string.Join(", ", OptionNames.Losses)} (default: cross-entropy for class labels, mse otherwise)."),
        new("epochs", "TrainerOptions.Epochs", "30", "Passes over the training data."),
        new("batch-size", "TrainerOptions.BatchSize", "32", "Examples per step (under mpirun: the global batch, split into one slice per rank)."),
        new("lr", "TrainerOptions.LearningRate", "0.05", "Learning rate ε."),
        new("lr-schedule", "TrainerOptions.Schedule", "constant", $"{string.Join(", ", ScheduleNames)}."),
        new("warmup-steps", "TrainerOptions.WarmupSteps", "0", "Steps of linear warmup to the learning rate before the schedule runs over the rest."),
        new("coefficient", "TrainerOptions.PenaltyCoefficient", null, "c in C + c·R, fixed for every step (default: c(t) = ε(t)/4)."),
        new("lambda", "StepModelOptions.Lambda", null, "λ with c = λ/4, fixed for every step (default: λ = ε(t), the scheduled learning rate of each step, as in the paper)."),
        new("penalty", "PenaltyOptions.Mode", "exact", $"{string.Join(", ", OptionNames.PenaltyModes)}."),
        new("microbatches", "PenaltyOptions.Microbatches", "2", "n microbatches per batch for the penalty (under mpirun: per rank's slice)."),
        new("optimizer", "OptimizerOptions.Kind", "momentum", $"{string.Join(", ", OptionNames.Optimizers)}."),
        new("seed", "TrainerOptions.Seed", "0", "Seed of the per-epoch permutations."),
        new("max-steps", "TrainerOptions.MaxSteps", null, "Stop after this many steps."),
        new("keep-last", "TrainerOptions.KeepLast", "false", "Keep the last incomplete batch of each epoch.", IsSwitch: true),
    ];

    /// <summary>The names of <see cref="Table"/>, in its order.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. Table.Select(s => s.Name)];

    /// <summary>The setting called <paramref name="name"/>, or null.</summary>
    /// <param name="name">A name of <see cref="Names"/>.</param>
    public static TrainingSetting? Find(string name) => Table.FirstOrDefault(s => s.Name == name);

    /// <summary>Reads settings in textual form; settings not given take their <see cref="TrainingSetting.Default"/>.</summary>
    /// <param name="values">Name (<see cref="Names"/>) → value; numbers in invariant culture.</param>
    /// <exception cref="ImplicitRegException">Of kind <see cref="ErrorKind.BadInput"/>: an unknown name (naming it), a value that does not parse (naming the
    /// setting's <see cref="TrainingSetting.Parameter"/>), or both coefficient and lambda given.</exception>
    public static TrainingSettings Parse(IReadOnlyDictionary<string, string> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Keys.FirstOrDefault(k => Find(k) is null) is { } unknown)
        {
            throw ImplicitRegException.BadInput($"'{unknown}' is not a training setting; use one of {string.Join(", ", Names)}");
        }
        string? Text(string name) => values.TryGetValue(name, out var v) ? v : Find(name)!.Default;
        T? Number<T>(string name) where T : struct, INumber<T>
        {
            var text = Text(name);
            var real = typeof(T) == typeof(float) || typeof(T) == typeof(double);
            return text is null ? null
                : T.TryParse(text, real ? NumberStyles.Float : NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value
                : throw ImplicitRegException.BadParameter(Find(name)!.Parameter, $"{text}: not {(real ? "a number" : "a whole number")}");
        }
        var learningRate = Number<float>("lr")!.Value;
        var coefficient = Number<double>("coefficient");
        var lambda = Number<double>("lambda");
        if (coefficient is not null && lambda is not null)
        {
            throw ImplicitRegException.BadParameter("TrainerOptions.PenaltyCoefficient", "and StepModelOptions.Lambda both set the penalty's scale; give one of them (c = λ/4)");
        }
        var lambdaValue = lambda ?? (coefficient is null ? learningRate : null);
        var c = coefficient ?? PenaltyOptions.CoefficientFromLambda(lambdaValue!.Value);
        var keepLast = Text("keep-last")!;
        return new TrainingSettings
        {
            Loss = Text("loss") is { } loss ? OptionNames.ParseLoss(loss) : null,
            Trainer = new TrainerOptions
            {
                Step = new StepModelOptions
                {
                    Gradient = new GradientModelOptions
                    {
                        Penalty = new PenaltyOptions { Mode = OptionNames.ParsePenaltyMode(Text("penalty")!), Coefficient = c, Microbatches = Number<int>("microbatches")!.Value },
                    },
                    Optimizer = new OptimizerOptions { Kind = OptionNames.ParseOptimizer(Text("optimizer")!) },
                    Lambda = lambdaValue,
                },
                LearningRate = learningRate,
                // An explicit scale fixes c; without one the trainer feeds c(t) = ε(t)/4 (λ follows the schedule).
                PenaltyCoefficient = coefficient is null && lambda is null ? null : c,
                Schedule = ParseSchedule(Text("lr-schedule")!),
                WarmupSteps = Number<long>("warmup-steps")!.Value,
                Epochs = Number<int>("epochs")!.Value,
                BatchSize = Number<int>("batch-size")!.Value,
                Seed = Number<ulong>("seed")!.Value,
                MaxSteps = Number<long>("max-steps"),
                KeepLast = bool.TryParse(keepLast, out var keep) ? keep : throw ImplicitRegException.BadParameter("TrainerOptions.KeepLast", $"{keepLast}: use true or false"),
            },
        };
    }

    /// <summary>The learning-rate schedule called <paramref name="name"/> (<see cref="ScheduleNames"/>).</summary>
    /// <param name="name">constant, cosine or step.</param>
    /// <param name="parameter">The parameter the name was given for (shown in the error).</param>
    /// <exception cref="ImplicitRegException">Of kind <see cref="ErrorKind.BadInput"/>: no schedule has that name.</exception>
    public static LearningRateSchedule ParseSchedule(string name, string parameter = "TrainerOptions.Schedule") => name switch
    {
        "constant" => LearningRateSchedule.Constant,
        "cosine" => LearningRateSchedule.Cosine,
        "step" => LearningRateSchedule.Step,
        _ => throw ImplicitRegException.BadParameter(parameter, $"{name}: unknown schedule; use one of {string.Join(", ", ScheduleNames)}"),
    };

    /// <summary>A monitored metric, "NAME", "NAME:min" or "NAME:max" (<see cref="TrainerOptions.Monitor"/>, <see cref="TrainerOptions.MonitorMode"/>); null: the default metric.</summary>
    /// <param name="text">The metric (<see cref="TrainingMetrics.Names"/>, checked by <see cref="TrainerOptions.Validate"/>), optionally with its direction.</param>
    /// <exception cref="ImplicitRegException">Of kind <see cref="ErrorKind.BadInput"/>, naming <c>TrainerOptions.Monitor</c>: a direction other than min or max.</exception>
    public static (string? Metric, MonitorMode Mode) ParseMonitor(string? text)
    {
        if (text is null)
        {
            return (null, MonitorMode.Auto);
        }
        var parts = text.Split(':');
        var mode = parts.Length == 1 ? MonitorMode.Auto
            : parts.Length == 2 && parts[1] == "min" ? MonitorMode.Min
            : parts.Length == 2 && parts[1] == "max" ? MonitorMode.Max
            : throw ImplicitRegException.BadParameter("TrainerOptions.Monitor", $"{text}: use METRIC, METRIC:min or METRIC:max");
        return (parts[0], mode);
    }

    /// <summary>The device called <paramref name="text"/>: auto, cpu, cuda or cuda:N (<see cref="Device.TryParse"/>).</summary>
    /// <param name="text">The device's name.</param>
    /// <param name="parameter">The parameter the name was given for (shown in the error).</param>
    /// <exception cref="ImplicitRegException">Of kind <see cref="ErrorKind.BadInput"/>: not a device name.</exception>
    public static Device ParseDevice(string text, string parameter = "TrainerOptions.Device") =>
        Device.TryParse(text, out var device) ? device : throw ImplicitRegException.BadParameter(parameter, $"{text}: use auto, cpu, cuda or cuda:N");
}
