using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using ImplicitRegOnnx.Runtime;
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
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static Command Create(CommandContext context)
    {
        var model = new Argument<string>("MODEL") { Description = "The .onnx inference model." };
        var loss = new Option<string>("--loss") { Description = $"{string.Join(", ", Losses.Names)}.", DefaultValueFactory = _ => "cross-entropy" };
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
        foreach (var option in new Option[] { loss, batch, penalty, microbatches, threads, steps, device, json, profile })
        {
            command.Options.Add(option);
        }
        command.SetAction(parsed => ErrorHandling.Guard(context, () =>
        {
            var lossName = parsed.GetValue(loss)!;
            if (!Losses.TryParse(lossName, out var lossKind))
            {
                throw ImplicitRegException.BadInput($"--loss {lossName}: use one of {string.Join(", ", Losses.Names)}");
            }
            var mode = GradientOptionSet.ParseMode(parsed.GetValue(penalty)!);
            if (!Device.TryParse(parsed.GetValue(device)!, out var chosen))
            {
                throw ImplicitRegException.BadInput($"--device {parsed.GetValue(device)}: use auto, cpu, cuda or cuda:N");
            }
            var options = new BenchOptions
            {
                Model = parsed.GetRequiredValue(model),
                Step = new StepModelOptions
                {
                    Gradient = new GradientModelOptions
                    {
                        Loss = lossKind,
                        Penalty = new PenaltyOptions { Mode = mode, Coefficient = mode == PenaltyMode.None ? 0 : 0.025, Microbatches = parsed.GetValue(microbatches) },
                    },
                    ConstantEvaluator = OrtConstantEvaluator.Instance,
                },
                Batch = parsed.GetValue(batch),
                Steps = parsed.GetValue(steps),
                Threads = parsed.GetValue(threads),
                Device = chosen,
                ProfilePrefix = parsed.GetValue(profile),
            };
            return Execute(context, options, parsed.GetValue(json));
        }));
        return command;
    }

    public static int Execute(CommandContext context, BenchOptions options, bool json)
    {
        var r = StepBenchmark.Run(options);
        foreach (var warning in r.Warnings)
        {
            context.Warn(warning);
        }
        var report = new Dictionary<string, object>
        {
            ["model"] = r.Model,
            ["penalty"] = r.Penalty.Name(),
            ["batch"] = r.Batch,
            ["threads"] = r.Threads,
            ["device"] = r.Device,
            ["steps"] = r.StepSeconds.Count,
            ["median_step_s"] = r.Quantile(0.5),
            ["p10_step_s"] = r.Quantile(0.1),
            ["p90_step_s"] = r.Quantile(0.9),
            ["cpu_step_s"] = Math.Round(r.CpuStepSeconds, 4),
            ["build_s"] = Math.Round(r.BuildSeconds, 4),
            ["forward_nodes"] = r.ForwardNodes,
            ["step_nodes"] = r.StepNodes,
            ["peak_memory_mb"] = Math.Round(r.PeakMemoryMb, 1),
        };
        if (r.StepPeakMemoryMb is { } stepPeak && r.StepAddedMemoryMb is { } added)
        {
            report["step_peak_memory_mb"] = Math.Round(stepPeak, 1);
            report["step_added_memory_mb"] = Math.Round(added, 1);
        }
        context.Out.Write(json
            ? JsonSerializer.Serialize(report, Indented) + "\n"
            : string.Create(CultureInfo.InvariantCulture,
                $"{r.Model}: {report["penalty"]} penalty, batch {r.Batch}, {r.Device}: median step {r.Quantile(0.5) * 1000:0.0} ms (p10 {r.Quantile(0.1) * 1000:0.0}, p90 {r.Quantile(0.9) * 1000:0.0}), build {r.BuildSeconds:0.00} s, {r.ForwardNodes} -> {r.StepNodes} nodes, peak memory {report["peak_memory_mb"]} MB{(report.TryGetValue("step_added_memory_mb", out var more) ? $" (steps add {more} MB)" : "")}\n"));
        return ExitCodes.Ok;
    }
}
