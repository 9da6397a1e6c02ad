using System.CommandLine;
using System.Text.RegularExpressions;
using ImplicitRegOnnx.Runtime.Training;

namespace ImplicitRegOnnx.Cli;

/// <summary>
/// The one table from the libraries' parameter names to this tool's options. Library errors name the API
/// (<c>OptimizerOptions.Momentum must be in [0, 1), got 1.5</c>); before an error is printed every name in
/// its message that the running command has an option for is shown as that option
/// (<c>--momentum must be in [0, 1), got 1.5</c>). Names the command has no option for stay as they are.
/// </summary>
internal static class FlagNames
{
    /// <summary>API name → what the tool shows; the first word of what it shows is the option the command must have.</summary>
    public static readonly IReadOnlyDictionary<string, string> Table = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["OptimizerOptions.Kind"] = "--optimizer",
        ["OptimizerOptions.Momentum"] = "--momentum",
        ["OptimizerOptions.Nesterov"] = "--nesterov",
        ["OptimizerOptions.WeightDecay"] = "--weight-decay",
        ["OptimizerOptions.Beta1"] = "--beta1",
        ["OptimizerOptions.Beta2"] = "--beta2",
        ["OptimizerOptions.Epsilon"] = "--epsilon",
        ["PenaltyOptions.Mode"] = "--penalty",
        ["PenaltyOptions.Coefficient"] = "--coefficient",
        ["PenaltyOptions.Microbatches"] = "--microbatches",
        ["PenaltyOptions.FiniteDifferenceStep"] = "--fd-step",
        ["GradientModelOptions.Loss"] = "--loss",
        ["GradientModelOptions.Output"] = "--output",
        ["GradientModelOptions.LossOutput"] = "--loss-output",
        ["GradientModelOptions.Trainable"] = "--trainable",
        ["GradientModelOptions.Freeze"] = "--freeze",
        ["LowerOptions.TrainingStep"] = "--training-step",
        ["LowerOptions.TrainingInfo"] = "--training-info",
        ["LowerOptions.Output"] = "-o",
        ["StepModelOptions.Lambda"] = "--lambda",
        ["StepModelOptions.PenaltyCoefficientInput"] = "--penalty-coefficient-input",
        ["TrainerOptions.LearningRate"] = "--lr",
        ["TrainerOptions.Schedule"] = "--lr-schedule",
        ["TrainerOptions.Epochs"] = "--epochs",
        ["TrainerOptions.BatchSize"] = "--batch-size",
        ["TrainerOptions.Seed"] = "--seed",
        ["TrainerOptions.KeepLast"] = "--keep-last",
        ["TrainerOptions.MaxSteps"] = "--max-steps",
        ["TrainerOptions.Threads"] = "--threads",
        ["TrainerOptions.CheckpointDirectory"] = "--checkpoint-dir",
        ["TrainerOptions.CheckpointEvery"] = "--checkpoint-every",
        ["TrainerOptions.KeepCheckpoints"] = "--keep-checkpoints",
        ["TrainerOptions.Resume"] = "--resume",
        ["TrainerOptions.Device"] = "--device",
        ["TrainerOptions.PenaltyCoefficient"] = "--coefficient",
        ["TrainerOptions.WarmupSteps"] = "--warmup-steps",
        ["TrainerOptions.Monitor"] = "--monitor",
        ["TrainerOptions.EarlyStoppingPatience"] = "--patience",
        ["TrainerOptions.MinDelta"] = "--min-delta",
        ["TrainerOptions.KeepBestPath"] = "--keep-best",
        ["TrainFromFilesOptions.ExportPath"] = "--export",
        ["TrainFromFilesOptions.Loss"] = "--loss",
        ["TrainFromFilesOptions.DataPath"] = "--data",
        ["TrainFromFilesOptions.TestDataPath"] = "--test-data",
        ["GradientCheckOptions.Batch"] = "--batch",
        ["GradientCheckOptions.Directions"] = "--directions",
        ["GradientCheckOptions.Seed"] = "--seed",
        ["GradientCheckOptions.Dims"] = "--dim NAME=SIZE",
        ["GradientCheckOptions.DefaultDim"] = "--dim '*=SIZE'",
        ["FeedOptions.Dims"] = "--dim",
        ["FeedOptions.Shapes"] = "--shape",
        ["FeedOptions.Values"] = "--value",
        ["FeedOptions.Seed"] = "--seed",
        ["DataLoadOptions.LabelColumn"] = "--label-column",
        ["Normalization.Parse"] = "--normalize",
        ["Devices.Create"] = "--device",
        ["Device.Cpu"] = "--device cpu",
        ["ModelPreparation.FixSymbolicDims"] = "--dim NAME=SIZE",
        ["ConstantPromotion.Promote"] = "--promote-constants",
        ["ConvertOptions.OutputDirectory"] = "--out-dir",
        ["OptimizeOptions.Output"] = "-o",
        ["SweepOptions.ThreadsPerRun"] = "--threads-per-run",
        ["SweepOptions.Parallel"] = "--parallel",
        ["SweepOptions.OutputDirectory"] = "--out-dir",
        ["BenchOptions.Batch"] = "--batch",
        ["BenchOptions.Steps"] = "--steps",
        ["BenchOptions.Threads"] = "--threads",
        ["OptimizeOptions.Tolerance"] = "--rtol and --atol",
        ["OptimizeOptions.Verify Never"] = "--no-verify",
        // The training side's library entry points (sweep from files, evaluate from files, bench).
        ["SweepFromFilesOptions.Preset"] = "--preset",
        ["SweepFromFilesOptions.Experiments"] = "--experiments",
        ["SweepFromFilesOptions.Zip"] = "--zip",
        ["SweepFromFilesOptions.PlotX"] = "--plot-x",
        ["SweepFromFilesOptions.DataPath"] = "--data",
        ["SweepFromFilesOptions.TestDataPath"] = "--test-data",
        ["SweepFromFilesOptions.TrainSize"] = "--train-size",
        ["SweepFromFilesOptions.TestSize"] = "--test-size",
        ["EvaluateFromFilesOptions.DataPath"] = "--data",
        ["BenchOptions.Device"] = "--device",
    };

    // Longest names first, so that no name is replaced inside a longer one; whole names only.
    private static readonly Regex Names = new(
        @"(?<![\w.])(" + string.Join('|', Table.Keys.OrderByDescending(k => k.Length).Select(Regex.Escape)) + @")(?![\w])",
        RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));

    /// <summary>
    /// The message with every API name that <paramref name="command"/> has an option for replaced by that
    /// option; with no command (an error before any command ran), every name in the table.
    /// </summary>
    public static string Apply(string message, Command? command)
    {
        ArgumentNullException.ThrowIfNull(message);
        return Names.Replace(message, match =>
        {
            var shown = Table[match.Value];
            var option = shown.Split(' ')[0];
            return command is null || command.Options.Any(o => o.Name == option || o.Aliases.Contains(option)) ? shown : match.Value;
        });
    }
}
