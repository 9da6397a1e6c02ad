using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Runtime;
using ImplicitRegOnnx.Runtime.Verification;
using ImplicitRegOnnx.Training;

namespace ImplicitRegOnnx.Cli.Commands;

/// <summary>
/// <c>implicitreg bench MODEL --loss L --batch B --penalty P</c>: times whole training steps (forward,
/// loss, penalty, gradient, update) after warm-up on random data of the model's input shape, and
/// reports the median and spread of the step time, the build time, node counts and peak memory
/// (process peak resident size; on Linux also the peak while the steps ran and what they added).
/// </summary>
public static class BenchCommand
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
            var batchSize = parsed.GetValue(batch);
            var stepCount = parsed.GetValue(steps);
            if (batchSize < 1 || stepCount < 1)
            {
                throw ImplicitRegException.BadInput("--batch and --steps must be at least 1");
            }
            if (!Device.TryParse(parsed.GetValue(device)!, out var chosen))
            {
                throw ImplicitRegException.BadInput($"--device {parsed.GetValue(device)}: use auto, cpu, cuda or cuda:N");
            }
            var options = new StepModelOptions
            {
                Gradient = new GradientModelOptions
                {
                    Loss = lossKind,
                    Penalty = new PenaltyOptions { Mode = mode, Coefficient = mode == PenaltyMode.None ? 0 : 0.025, Microbatches = parsed.GetValue(microbatches) },
                },
                ConstantEvaluator = OrtConstantEvaluator.Instance,
            };
            options.Validate();
            if (batchSize % options.Gradient.Penalty.Microbatches != 0)
            {
                throw ImplicitRegException.BadInput($"--batch {batchSize} is not divisible by --microbatches {options.Gradient.Penalty.Microbatches}");
            }
            return Execute(context, parsed.GetRequiredValue(model), options, batchSize, stepCount, parsed.GetValue(threads), chosen, parsed.GetValue(json), parsed.GetValue(profile));
        }));
        return command;
    }

    public static int Execute(CommandContext context, string modelPath, StepModelOptions options, int batch, int steps, int threads, Device device, bool json, string? profilePrefix = null)
    {
        var inference = ModelFiles.Load(modelPath, context);
        var watch = Stopwatch.StartNew();
        var step = ErrorHandling.About(modelPath, () => StepModelBuilder.Build(inference, options));
        var buildSeconds = watch.Elapsed.TotalSeconds;

        var feeds = BatchFor(inference, step, options.Gradient.Loss, batch);
        var buildPeakMb = ProcessMemory.PeakMb();
        // From here the peak covers the session and the steps (the step model stays resident).
        GC.Collect();
        var peakReset = ProcessMemory.TryResetPeak();
        var beforeSessionMb = ProcessMemory.ResidentMb();
        using var session = OpenSession(step, device, threads, profilePrefix, out var chosen);
        for (var i = 0; i < 3; i++)
        {
            session.Step(feeds, 0.001f);
        }
        var times = new double[steps];
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        for (var i = 0; i < steps; i++)
        {
            var t = Stopwatch.GetTimestamp();
            session.Step(feeds, 0.001f);
            times[i] = Stopwatch.GetElapsedTime(t).TotalSeconds;
        }
        // Processor time of the whole process per timed step: unlike the wall time it hardly grows when
        // other processes compete for the cores (with --threads 1 the step runs on this thread).
        var cpuPerStep = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds / steps;
        Array.Sort(times);
        double Quantile(double q) => times[(int)Math.Round(q * (times.Length - 1))];
        var stepPeakMb = ProcessMemory.PeakMb();
        var report = new Dictionary<string, object>
        {
            ["model"] = modelPath,
            ["penalty"] = options.Gradient.Penalty.Mode.Name(),
            ["batch"] = batch,
            ["threads"] = threads,
            ["device"] = chosen,
            ["steps"] = steps,
            ["median_step_s"] = Quantile(0.5),
            ["p10_step_s"] = Quantile(0.1),
            ["p90_step_s"] = Quantile(0.9),
            ["cpu_step_s"] = Math.Round(cpuPerStep, 4),
            ["build_s"] = Math.Round(buildSeconds, 4),
            ["forward_nodes"] = step.ForwardNodes,
            ["step_nodes"] = step.StepNodes,
            ["peak_memory_mb"] = Math.Round(peakReset ? Math.Max(buildPeakMb, stepPeakMb) : stepPeakMb, 1),
        };
        if (peakReset && beforeSessionMb is { } before)
        {
            // Peak resident size while the session ran the steps, and the part of it the session and
            // steps added to what the process held before (runtime, step model, batch).
            report["step_peak_memory_mb"] = Math.Round(stepPeakMb, 1);
            report["step_added_memory_mb"] = Math.Round(stepPeakMb - before, 1);
        }
        context.Out.Write(json
            ? JsonSerializer.Serialize(report, Indented) + "\n"
            : string.Create(CultureInfo.InvariantCulture,
                $"{modelPath}: {report["penalty"]} penalty, batch {batch}, {chosen}: median step {Quantile(0.5) * 1000:0.0} ms (p10 {Quantile(0.1) * 1000:0.0}, p90 {Quantile(0.9) * 1000:0.0}), build {buildSeconds:0.00} s, {step.ForwardNodes} -> {step.StepNodes} nodes, peak memory {report["peak_memory_mb"]} MB{(report.TryGetValue("step_added_memory_mb", out var added) ? $" (steps add {added} MB)" : "")}\n"));
        return ExitCodes.Ok;
    }

    private static StepSession OpenSession(StepModel step, Device device, int threads, string? profilePrefix, out string chosen)
    {
        using var setup = Devices.Create(device, threads);
        chosen = setup.Chosen;
        if (profilePrefix is not null)
        {
            // The prefix must be set first: enabling profiling hands the current prefix to ONNX Runtime.
            setup.Options.ProfileOutputPathPrefix = profilePrefix;
            setup.Options.EnableProfiling = true;
        }
        return new StepSession(step, setup.Options, setup.StateMemory);
    }

    /// <summary>Random inputs of the model's shape (symbolic dims = the batch) and labels for the loss.</summary>
    private static Dictionary<string, Tensor> BatchFor(Model inference, StepModel step, LossKind loss, int batch)
    {
        var random = new Random(1);
        var feeds = RandomFeeds.Create(inference, new FeedOptions { DefaultDim = batch, Seed = 1 })
            .ToDictionary(t => t.Name, t => t, StringComparer.Ordinal);
        var target = step.Model.Graph.Inputs.First(v => v.Name == GradientModelBuilder.Target);
        var output = inference.Graph.Outputs[0].Shape;
        var dims = target.Shape?.Select(d => d.Value ?? batch).ToArray() ?? [batch];
        var count = dims.Aggregate(1L, (a, b) => a * b);
        if (loss.TargetIsClassIndex())
        {
            var classes = output is { Rank: >= 2 } && output[1].Value is { } c ? c : 2;
            feeds[target.Name] = Tensor.FromArray(Enumerable.Range(0, (int)count).Select(_ => (long)random.Next((int)classes)).ToArray(), dims, target.Name);
        }
        else
        {
            feeds[target.Name] = Tensor.FromArray(Enumerable.Range(0, (int)count).Select(_ => (float)random.NextDouble()).ToArray(), dims, target.Name);
        }
        return feeds;
    }
}
