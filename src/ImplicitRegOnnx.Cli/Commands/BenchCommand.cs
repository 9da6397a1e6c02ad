using System.CommandLine;
using System.Globalization;
using ImplicitRegOnnx.Runtime.Training;
using ImplicitRegOnnx.Runtime.Workflows;
using ImplicitRegOnnx.Training;

namespace ImplicitRegOnnx.Cli.Commands;

/// <summary>
/// <c>implicitreg bench MODEL --loss L --batch B --penalty P</c>: times whole training steps
/// (<see cref="StepBenchmark"/>) and reports the median and spread of the step time, the build time,
/// node counts and peak memory.
/// </summary>
internal static class BenchCommand
{
    public static Command Create(CommandContext context)
    {
        var model = new Argument<string>("MODEL") { Description = "The .onnx inference model." };
        var loss = new Option<string>("--loss") { Description = $"{string.Join(", ", OptionNames.Losses)}.", DefaultValueFactory = _ => "cross-entropy" };
        var batch = new Option<int>("--batch") { Description = "Examples per step (also the size of every symbolic dimension).", DefaultValueFactory = _ => 128 };
        var penalty = new Option<string>("--penalty") { Description = "none, exact or finite-difference.", DefaultValueFactory = _ => "exact" };
        var microbatches = new Option<int>("--microbatches") { Description = "n microbatches of the penalty.", DefaultValueFactory = _ => 1 };
        var threads = new Option<int>("--threads") { Description = "ONNX Runtime threads (0: its default).", DefaultValueFactory = _ => 0 };
        var steps = new Option<int>("--steps") { Description = "Timed steps (after 3 warm-up steps).", DefaultValueFactory = _ => 10 };
        var device = new Option<string>("--device") { Description = "auto, cpu or cuda[:N].", DefaultValueFactory = _ => "cpu" };
        var json = new Option<bool>("--json") { Description = "Print JSON (median_step_s, p10_step_s, p90_step_s, build_s, ...)." };
        var profile = new Option<string?>("--profile") { Description = "Write ONNX Runtime's per-node profile of the timed steps to PREFIX_<date>.json (summarize with tools/profile-summary.py)." };
        var command = new Command("bench", "Time whole training steps of a model.");
        command.Arguments.Add(model);
        new Option[] { loss, batch, penalty, microbatches, threads, steps, device, json, profile }.ToList().ForEach(command.Options.Add);
        command.SetAction(parsed => ErrorHandling.Guard(context, () =>
        {
            var r = StepBenchmark.Run(new BenchOptions
            {
                Model = parsed.GetRequiredValue(model),
                Step = BenchOptions.StepFor(OptionNames.ParseLoss(parsed.GetValue(loss)!), OptionNames.ParsePenaltyMode(parsed.GetValue(penalty)!), parsed.GetValue(microbatches)),
                Batch = parsed.GetValue(batch),
                Steps = parsed.GetValue(steps),
                Threads = parsed.GetValue(threads),
                Device = TrainingSettings.ParseDevice(parsed.GetValue(device)!, "BenchOptions.Device"),
                ProfilePrefix = parsed.GetValue(profile),
            });
            r.Warnings.ToList().ForEach(context.Warn);
            var report = r.Report();
            context.Out.Write(parsed.GetValue(json) ? report.ToJson() : string.Create(CultureInfo.InvariantCulture,
                $"{r.Model}: {report.Penalty} penalty, batch {r.Batch}, {r.Device}: median step {r.Quantile(0.5) * 1000:0.0} ms (p10 {r.Quantile(0.1) * 1000:0.0}, p90 {r.Quantile(0.9) * 1000:0.0}), build {r.BuildSeconds:0.00} s, {r.ForwardNodes} -> {r.StepNodes} nodes, peak memory {report.PeakMemoryMb} MB{(report.StepAddedMemoryMb is { } more ? $" (steps add {more} MB)" : "")}\n"));
            return ExitCodes.Ok;
        }));
        return command;
    }
}
