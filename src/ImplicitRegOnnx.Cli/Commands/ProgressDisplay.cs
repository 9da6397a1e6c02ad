using System.Diagnostics;
using System.Globalization;
using ImplicitRegOnnx.Runtime;
using ImplicitRegOnnx.Runtime.Data;
using Spectre.Console;

namespace ImplicitRegOnnx.Cli.Commands;

/// <summary>
/// The progress bar of <c>train</c> when stdout is a terminal: epoch, step, loss, penalty, learning rate
/// and examples per second, redrawn in place. Redirected output (CI logs, files) gets plain epoch lines.
/// </summary>
internal static class ProgressDisplay
{
    public static bool IsInteractive(CommandContext context) =>
        ReferenceEquals(context.Out, Console.Out) && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;

    public static IReadOnlyList<EpochEvent> Run(Trainer trainer, Dataset train, Dataset? test, TrainerOptions options,
        Action<StepEvent> onStep, Action<EpochEvent, Action<string>> onEpoch)
    {
        var perEpoch = options.KeepLast ? (train.Count + options.BatchSize - 1) / options.BatchSize : train.Count / options.BatchSize;
        var total = Math.Min(options.MaxSteps ?? long.MaxValue, (long)perEpoch * options.Epochs);
        IReadOnlyList<EpochEvent> epochs = [];
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(progress =>
            {
                var task = progress.AddTask("training", maxValue: total);
                var clock = Stopwatch.StartNew();
                epochs = trainer.Fit(train, test,
                    e =>
                    {
                        onStep(e);
                        task.Value = e.Step;
                        var rate = e.Step / Math.Max(clock.Elapsed.TotalSeconds, 1e-9) * options.BatchSize;
                        task.Description = string.Create(CultureInfo.InvariantCulture,
                            $"epoch {e.Epoch + 1}/{options.Epochs} step {e.Step} loss {e.Metrics.Loss:0.0000} penalty {e.Metrics.Penalty:0.0000} lr {e.LearningRate:g3} {rate:0} ex/s");
                    },
                    e => onEpoch(e, line => AnsiConsole.MarkupLine(Markup.Escape(line))));
            });
        return epochs;
    }
}
