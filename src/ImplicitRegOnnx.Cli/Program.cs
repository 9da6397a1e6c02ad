namespace ImplicitRegOnnx.Cli;

/// <summary>Entry point of the <c>implicitreg</c> tool.</summary>
internal static class Program
{
    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>
    /// Runs the CLI with the given arguments, writing results to <paramref name="stdout"/> and
    /// diagnostics to <paramref name="stderr"/>. Returns the exit code (see <see cref="ExitCodes"/>).
    /// Tests call this in-process.
    /// </summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr) =>
        CliApplication.Run(args, stdout, stderr);
}
