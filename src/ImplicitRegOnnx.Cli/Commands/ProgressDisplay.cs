using System.Diagnostics;
using System.Globalization;
using ImplicitRegOnnx.Runtime;
using Spectre.Console;
using ImplicitRegOnnx.Runtime.Training;

namespace ImplicitRegOnnx.Cli.Commands;

/// <summary>
/// The progress bar of <c>train</c> when stdout is a terminal: epoch, step, loss, penalty, learning rate
/// and examples per second, redrawn in place. Redirected output (CI logs, files) gets plain epoch lines.
/// </summary>
internal static class ProgressDisplay
{
    public static bool IsInteractive(CommandContext context) =>
        ReferenceEquals(context.Out, Console.Out) && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;

    /// <summary>Runs <paramref name="run"/> inside a progress bar fed by a callback; epoch lines print above it.</summary>
    internal static TrainingResult Run(TrainerOptions options, TrainCommand.ConsolePrinter printer, Func<IEnumerable<TrainerCallback>, TrainingResult> run)
    {
        TrainingResult? result = null;
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(progress =>
            {
                var task = progress.AddTask("training");
                printer.Print = line => AnsiConsole.MarkupLine(Markup.Escape(line));
                result = run([printer, new Bar(task, options)]);
            });
        return result!;
    }

    private sealed class Bar(ProgressTask task, TrainerOptions options) : TrainerCallback
    {
        private readonly Stopwatch _clock = new();
        private long _first;

        public override void OnStart(Trainer trainer, TrainingStart start)
        {
            task.MaxValue = start.TotalSteps;
            task.Value = start.ResumedFromStep;
            _first = start.ResumedFromStep;
            _clock.Start();
        }

        public override void OnStep(Trainer trainer, StepEvent e)
        {
            task.Value = e.Step;
            var rate = (e.Step - _first) / Math.Max(_clock.Elapsed.TotalSeconds, 1e-9) * options.BatchSize;
            task.Description = string.Create(CultureInfo.InvariantCulture,
                $"epoch {e.Epoch + 1}/{options.Epochs} step {e.Step} loss {e.Metrics.Loss:0.0000} penalty {e.Metrics.Penalty:0.0000} lr {e.LearningRate:g3} {rate:0} ex/s");
        }
    }
}
