using System.Diagnostics;
using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Runtime.Data;
using ImplicitRegOnnx.Runtime.Training;

namespace ImplicitRegOnnx.Runtime.Experiments;

/// <summary>
/// One training run of a sweep: trains with <see cref="Trainer"/>, evaluating the test set after every
/// epoch, then measures the training loss and the gradient norms of the final weights. A run that
/// diverges is a result too (status "diverged"), not an error.
/// </summary>
public static class ExperimentRun
{
    /// <summary>Trains from <paramref name="inference"/>'s weights on <paramref name="train"/> with <paramref name="options"/> and returns the measurements; errors other than divergence propagate as <see cref="ImplicitRegException"/>.</summary>
    public static RunResult Execute(SweepPoint point, Model inference, Dataset train, Dataset test, TrainerOptions options)
    {
        ArgumentNullException.ThrowIfNull(point);
        ArgumentNullException.ThrowIfNull(options);
        var watch = Stopwatch.StartNew();
        using var trainer = new Trainer(inference, options);
        var epochs = new List<EpochEvent>();
        var accuracies = new List<double>();
        try
        {
            trainer.Fit(train, test, onEpoch: e =>
            {
                epochs.Add(e);
                accuracies.Add(e.Test?.Accuracy ?? double.NaN);
            });
        }
        catch (TrainingDivergedException e)
        {
            return new RunResult
            {
                Key = point.Key,
                Parameters = point.Values,
                Status = "diverged",
                Message = e.Message,
                BestTestAccuracy = accuracies.Count == 0 ? double.NaN : accuracies.Max(),
                Epochs = epochs.Count,
                Steps = trainer.Steps,
                Seconds = Math.Round(watch.Elapsed.TotalSeconds, 3),
                TestAccuracyByEpoch = accuracies,
            };
        }
        var last = epochs[^1];
        var best = accuracies.Select((a, i) => (a, i)).MaxBy(p => p.a);
        var onTrain = trainer.Evaluate(train);
        var norms = GradientStatistics.Measure(trainer.ExportInferenceModel(), options.Step.Gradient, train, options.BatchSize, options.Threads);
        return new RunResult
        {
            Key = point.Key,
            Parameters = point.Values,
            Status = "ok",
            FinalTestAccuracy = last.Test?.Accuracy ?? double.NaN,
            BestTestAccuracy = best.a,
            BestEpoch = best.i + 1,
            FinalTestLoss = last.Test?.Loss ?? double.NaN,
            TrainLoss = onTrain.Loss,
            TrainAccuracy = onTrain.Accuracy ?? double.NaN,
            Penalty = last.Penalty,
            FullBatchGradNormSq = norms.FullBatch,
            MeanMinibatchGradNormSq = norms.MeanMinibatch,
            Epochs = epochs.Count,
            Steps = trainer.Steps,
            Seconds = Math.Round(watch.Elapsed.TotalSeconds, 3),
            TestAccuracyByEpoch = accuracies,
        };
    }
}
