using System.Globalization;

namespace ImplicitRegOnnx.Runtime.Training;

/// <summary>
/// Code the trainer calls after every step and every epoch; <see cref="Trainer.RequestStop"/> from either
/// ends the run after the current step (a checkpoint is written there when checkpoints are on).
/// </summary>
public abstract class TrainerCallback
{
    /// <summary>Before the first step (after a resume has loaded its checkpoint).</summary>
    public virtual void OnStart(Trainer trainer, TrainingStart start)
    {
    }

    /// <summary>After each step.</summary>
    public virtual void OnStep(Trainer trainer, StepEvent e)
    {
    }

    /// <summary>After each epoch (its test metrics included when a test set was given).</summary>
    public virtual void OnEpoch(Trainer trainer, EpochEvent e)
    {
    }
}

/// <summary>Where a run starts: examples per epoch, steps in all, and the step a resumed run continues from.</summary>
public sealed record TrainingStart(int Examples, long TotalSteps, long ResumedFromStep);

/// <summary>Whether a monitored metric is better when smaller or larger.</summary>
public enum MonitorMode
{
    /// <summary>Larger for accuracy, smaller for losses and errors.</summary>
    Auto,

    /// <summary>Smaller is better.</summary>
    Min,

    /// <summary>Larger is better.</summary>
    Max,
}

/// <summary>The epoch metrics early stopping and keep-best can monitor.</summary>
public static class TrainingMetrics
{
    /// <summary>Mean training loss C over the epoch's steps.</summary>
    public const string TrainLoss = "train_loss";
    /// <summary>Mean penalty R over the epoch's steps.</summary>
    public const string Penalty = "penalty";
    /// <summary>Mean loss on the test set.</summary>
    public const string TestLoss = "test_loss";
    /// <summary>Classification accuracy on the test set, in [0, 1].</summary>
    public const string TestAccuracy = "test_accuracy";
    /// <summary>Mean squared error on the test set.</summary>
    public const string TestMse = "test_mse";
    /// <summary>Mean absolute error on the test set.</summary>
    public const string TestMae = "test_mae";

    /// <summary>Every name <see cref="ValueOf"/> knows.</summary>
    public static IReadOnlyList<string> Names { get; } = [TrainLoss, Penalty, TestLoss, TestAccuracy, TestMse, TestMae];

    /// <summary>The metric's value in an epoch, or null when the epoch has none (no test set, no class labels, not a regression loss).</summary>
    public static double? ValueOf(EpochEvent e, string name)
    {
        ArgumentNullException.ThrowIfNull(e);
        return name switch
        {
            TrainLoss => e.TrainLoss,
            Penalty => e.Penalty,
            TestLoss => e.Test?.Loss,
            TestAccuracy => e.Test?.Accuracy,
            TestMse => e.Test?.MeanSquaredError,
            TestMae => e.Test?.MeanAbsoluteError,
            _ => throw ImplicitRegException.BadParameter("TrainerOptions.Monitor", $"unknown metric '{name}'; use one of {string.Join(", ", Names)}"),
        };
    }

    /// <summary>Whether larger values of the metric are better in <paramref name="mode"/>.</summary>
    public static bool Maximizes(string name, MonitorMode mode) => mode == MonitorMode.Max || (mode == MonitorMode.Auto && name == TestAccuracy);
}

/// <summary>Where a monitor stands; kept in checkpoints so that a resumed run keeps its best.</summary>
/// <param name="Best">The best value so far.</param>
/// <param name="BestEpoch">The epoch (0-based) that reached it.</param>
/// <param name="EpochsWithoutImprovement">Epochs since then.</param>
public sealed record MonitorState(double Best, long BestEpoch, int EpochsWithoutImprovement);

/// <summary>
/// Follows one epoch metric: an epoch improves on the best when it is better by more than the minimum
/// delta. Early stopping stops after <c>patience</c> epochs without improvement; keep-best writes the model
/// of every improving epoch.
/// </summary>
public sealed class MetricMonitor
{
    /// <param name="metric">One of <see cref="TrainingMetrics.Names"/>.</param>
    /// <param name="mode">Whether smaller or larger is better.</param>
    /// <param name="minDelta">How much better than the best an epoch must be to count as an improvement.</param>
    public MetricMonitor(string metric, MonitorMode mode, double minDelta)
    {
        Metric = metric;
        Maximize = TrainingMetrics.Maximizes(metric, mode);
        MinDelta = minDelta;
    }

    /// <summary>The metric watched, one of <see cref="TrainingMetrics.Names"/>.</summary>
    public string Metric { get; }

    /// <summary>Whether larger values are better.</summary>
    public bool Maximize { get; }

    /// <summary>The improvement over the best needed to count, in the metric's units.</summary>
    public double MinDelta { get; }

    /// <summary>The best so far; null before the first epoch.</summary>
    public MonitorState? State { get; set; }

    /// <summary>Takes an epoch's value; true when it improved on the best (always for the first).</summary>
    public bool Update(EpochEvent e)
    {
        var value = TrainingMetrics.ValueOf(e, Metric)
            ?? throw ImplicitRegException.BadParameter("TrainerOptions.Monitor", $"'{Metric}' has no value in epoch {e.Epoch + 1}"
                + (Metric.StartsWith("test_", StringComparison.Ordinal) ? " (it needs a test set" + (Metric is TrainingMetrics.TestMse or TrainingMetrics.TestMae ? " and a regression loss, mse or l1)" : Metric == TrainingMetrics.TestAccuracy ? " with class labels)" : ")") : "")
                + "; monitor another metric");
        var improved = State is not { } s || (Maximize ? value > s.Best + MinDelta : value < s.Best - MinDelta);
        State = improved ? new MonitorState(value, e.Epoch, 0) : State! with { EpochsWithoutImprovement = State.EpochsWithoutImprovement + 1 };
        return improved;
    }

    /// <summary>"test_loss 0.1234 at epoch 5".</summary>
    public string DescribeBest() => State is { } s
        ? string.Create(CultureInfo.InvariantCulture, $"{Metric} {s.Best:g6} at epoch {s.BestEpoch + 1}")
        : Metric + " not measured yet";
}

/// <summary>Training stopped at the caller's request (a cancelled token), after a complete step; kind <see cref="ErrorKind.Cancelled"/>.</summary>
public sealed class TrainingCancelledException : ImplicitRegException
{
    /// <param name="step">Steps taken.</param>
    /// <param name="checkpoint">The checkpoint written at that step, or null when checkpoints are off.</param>
    /// <param name="message">One line: where it stopped and how to continue.</param>
    public TrainingCancelledException(long step, string? checkpoint, string message)
        : base(ErrorKind.Cancelled, message)
    {
        Step = step;
        Checkpoint = checkpoint;
    }

    /// <summary>Steps taken when training stopped.</summary>
    public long Step { get; }

    /// <summary>The checkpoint of that step (resume from it with <see cref="TrainerOptions.Resume"/>); null without a checkpoint directory.</summary>
    public string? Checkpoint { get; }
}

/// <summary>Wraps the delegate callbacks of <see cref="Trainer.Fit(Data.Dataset, Data.Dataset?, Action{StepEvent}?, Action{EpochEvent}?, CancellationToken)"/>.</summary>
internal sealed class DelegateCallback(Action<StepEvent>? onStep, Action<EpochEvent>? onEpoch) : TrainerCallback
{
    public override void OnStep(Trainer trainer, StepEvent e) => onStep?.Invoke(e);

    public override void OnEpoch(Trainer trainer, EpochEvent e) => onEpoch?.Invoke(e);
}
