namespace ImplicitRegOnnx.Cli.Tests;

public class RootCommandTests
{
    [Fact]
    public void NoArgumentsPrintsHelpAndExitsTwo()
    {
        var result = CliRunner.Run();

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("inspect", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("optimize", result.Stdout, StringComparison.Ordinal);
        Assert.Equal("", result.Stderr);
    }

    [Fact]
    public void HelpExitsZero()
    {
        var result = CliRunner.Run("--help");
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("Usage:", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void VersionPrintsTheVersion()
    {
        var result = CliRunner.Run("--version");
        Assert.Equal(0, result.ExitCode);
        Assert.Matches(@"^\d+\.\d+\.\d+", result.Stdout);
    }

    [Fact]
    public void ErrorLinesAreCollapsedToOneLine() =>
        Assert.Equal("a b c", ErrorHandling.OneLine("a\n  b\r\nc\n"));

    [Fact]
    public void UnexpectedExceptionsExitOneWithAHintToUseVerbose()
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var context = new CommandContext(stdout, stderr);

        var code = ErrorHandling.Guard(context, () => throw new InvalidOperationException("boom"));

        Assert.Equal(ExitCodes.Failed, code);
        var line = Assert.Single(stderr.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("boom", line, StringComparison.Ordinal);
        Assert.Contains("--verbose", line, StringComparison.Ordinal);
    }
}
