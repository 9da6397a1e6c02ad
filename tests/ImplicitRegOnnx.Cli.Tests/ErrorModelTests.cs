using System.CommandLine;
using ImplicitRegOnnx.TestSupport;
using ImplicitRegOnnx.Runtime.Training;

namespace ImplicitRegOnnx.Cli.Tests;

/// <summary>
/// The libraries validate options and name the API's parameters; the CLI shows its own option names
/// (<see cref="FlagNames"/>) and maps the error's kind to the exit code in one place (<see cref="ErrorHandling.ExitCodeOf"/>).
/// </summary>
public sealed class ErrorModelTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private static void AssertUsageErrorShowingTheFlag(CliResult result, string expected)
    {
        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        var line = Assert.Single(result.StderrLines);
        Assert.StartsWith(ErrorHandling.Prefix, line, StringComparison.Ordinal);
        Assert.Contains(expected, line, StringComparison.Ordinal);
        // The API's names do not reach the user of the tool.
        Assert.DoesNotContain("Options.", line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
    }

    private CliResult Rewrite(params string[] extra) => CliRunner.Run(
        ["rewrite", TestPaths.Model("mlp_tanh.onnx"), "-o", _temp.File("train.onnx"), "--loss", "cross-entropy", "--lambda", "0.1", .. extra]);

    [Fact]
    public void MomentumOutOfRangeShowsTheFlagAndWritesNothing()
    {
        AssertUsageErrorShowingTheFlag(Rewrite("--optimizer", "momentum", "--momentum", "1.5"), "--momentum must be in [0, 1), got 1.5");
        Assert.False(File.Exists(_temp.File("train.onnx")));
    }

    [Fact]
    public void ZeroMicrobatchesShowTheFlag()
    {
        AssertUsageErrorShowingTheFlag(Rewrite("--microbatches", "0"), "--microbatches must be at least 1, got 0");
        AssertUsageErrorShowingTheFlag(CliRunner.Run("train", "--microbatches", "0", "--epochs", "1"), "--microbatches must be at least 1, got 0");
    }

    [Fact]
    public void ATrainableGlobThatMatchesNothingShowsTheFlagAndTheFile()
    {
        var result = Rewrite("--trainable", "nomatch");
        AssertUsageErrorShowingTheFlag(result, "--trainable nomatch: matches no trainable parameter; candidates are ");
        Assert.Contains("mlp_tanh.onnx", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void TrainerOptionsShowTheTrainFlags()
    {
        AssertUsageErrorShowingTheFlag(CliRunner.Run("train", "--lr", "0"), "--lr must be a positive number, got 0");
        AssertUsageErrorShowingTheFlag(CliRunner.Run("train", "--batch-size", "0"), "--batch-size must be at least 1, got 0");
        AssertUsageErrorShowingTheFlag(CliRunner.Run("train", "--resume", "--epochs", "1"), "--resume needs --checkpoint-dir");
        AssertUsageErrorShowingTheFlag(CliRunner.Run("train", "--lambda", "-1", "--epochs", "1"), "--lambda must be a non-negative number, got -1");
    }

    [Fact]
    public void GradcheckOptionsShowTheGradcheckFlags() =>
        AssertUsageErrorShowingTheFlag(
            CliRunner.Run("gradcheck", TestPaths.Model("mlp_tanh.onnx"), "--loss", "cross-entropy", "--microbatches", "2", "--batch", "3"),
            "--batch 3 is not divisible by --microbatches 2");

    [Fact]
    public void ConvertRefusesABadOptionBeforeTouchingAnyModel()
    {
        var outDir = _temp.File("out");
        var result = CliRunner.Run("convert", TestPaths.Model("mlp_tanh.onnx"), "--out-dir", outDir, "--loss", "cross-entropy", "--lambda", "0.1",
            "--optimizer", "adam", "--beta1", "1");
        AssertUsageErrorShowingTheFlag(result, "--beta1 must be in [0, 1), got 1");
        Assert.False(Directory.Exists(outDir));
    }

    [Fact]
    public void UnknownNormalizationShowsTheFlag() =>
        AssertUsageErrorShowingTheFlag(CliRunner.Run("eval", TestPaths.Model("mlp_tanh.onnx"), "--data", TestPaths.Model("data/digits.csv.gz"), "--normalize", "whiten"),
            "--normalize whiten: unknown normalization");

    [Fact]
    public void FlagNamesReplaceWholeApiNamesThatTheCommandHasAnOptionFor()
    {
        var command = new Command("x");
        command.Options.Add(new Option<int>("--microbatches"));
        command.Options.Add(new Option<bool>("--dim"));
        Assert.Equal("--microbatches must be at least 1; give --dim NAME=SIZE",
            FlagNames.Apply("PenaltyOptions.Microbatches must be at least 1; give ModelPreparation.FixSymbolicDims", command));
        // No option for it: the API's name stays, rather than an option the command does not have.
        Assert.Equal("OptimizerOptions.Momentum must be in [0, 1)", FlagNames.Apply("OptimizerOptions.Momentum must be in [0, 1)", command));
        // Only whole names: a longer identifier is not a parameter of the table.
        Assert.Equal("PenaltyOptions.MicrobatchesX, x.PenaltyOptions.Microbatches", FlagNames.Apply("PenaltyOptions.MicrobatchesX, x.PenaltyOptions.Microbatches", command));
        // Before any command is known, every name is shown as its option.
        Assert.Equal("--momentum", FlagNames.Apply("OptimizerOptions.Momentum", null));
    }

    [Fact]
    public void EveryTableEntryNamesAnOptionOfSomeCommand()
    {
        var root = CliApplication.BuildRootCommand(new CommandContext(TextWriter.Null, TextWriter.Null));
        var options = root.Subcommands.SelectMany(c => c.Options).SelectMany(o => o.Aliases.Append(o.Name)).ToHashSet(StringComparer.Ordinal);
        Assert.All(FlagNames.Table, entry => Assert.Contains(entry.Value.Split(' ')[0], options));
    }

    [Theory]
    [InlineData(ErrorKind.BadInput, ExitCodes.Usage)]
    [InlineData(ErrorKind.Unsupported, ExitCodes.Usage)]
    [InlineData(ErrorKind.Failed, ExitCodes.Failed)]
    [InlineData(ErrorKind.Diverged, ExitCodes.Failed)]
    [InlineData(ErrorKind.Cancelled, ExitCodes.Cancelled)]
    public void EachKindHasOneExitCode(ErrorKind kind, int code)
    {
        Assert.Equal(code, ErrorHandling.ExitCodeOf(kind));
        using var stderr = new StringWriter();
        var context = new CommandContext(TextWriter.Null, stderr);
        Assert.Equal(code, ErrorHandling.Guard(context, () => throw new ImplicitRegException(kind, "TrainerOptions.Epochs went wrong")));
        Assert.Equal(ErrorHandling.Prefix + "--epochs went wrong", stderr.ToString().TrimEnd());
    }

    [Fact]
    public void UnexpectedExceptionsStayUnexpected()
    {
        using var stderr = new StringWriter();
        var code = ErrorHandling.Guard(new CommandContext(TextWriter.Null, stderr), () => throw new InvalidOperationException("boom"));
        Assert.Equal(ExitCodes.Failed, code);
        Assert.Equal(ErrorHandling.Prefix + "unexpected InvalidOperationException: boom (rerun with --verbose to see the stack trace)", stderr.ToString().TrimEnd());
    }
}
