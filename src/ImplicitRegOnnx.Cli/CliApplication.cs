using System.CommandLine;
using ImplicitRegOnnx.Cli.Commands;

namespace ImplicitRegOnnx.Cli;

/// <summary>Builds the command tree and runs it with the shared error handling.</summary>
internal static class CliApplication
{
    public const string Description =
        "implicitreg: reads ONNX models and rewrites them into training graphs that add SGD's implicit regularizer as an explicit term.";

    public static RootCommand BuildRootCommand(CommandContext context)
    {
        var verbose = new Option<bool>("--verbose")
        {
            Description = "Print stack traces of errors.",
            Recursive = true,
        };
        var root = new RootCommand(Description);
        root.Options.Add(verbose);
        root.Subcommands.Add(InspectCommand.Create(context));
        root.Subcommands.Add(OptimizeCommand.Create(context));
        root.Subcommands.Add(GradCommand.Create(context));
        root.Subcommands.Add(RewriteCommand.Create(context));
        root.Subcommands.Add(ExportCommand.Create(context));
        root.Subcommands.Add(TrainCommand.Create(context));
        root.Subcommands.Add(BenchCommand.Create(context));
        root.Subcommands.Add(EvalCommand.Create(context));
        root.Subcommands.Add(GradcheckCommand.Create(context));
        root.Subcommands.Add(ConvertCommand.Create(context));
        root.Subcommands.Add(LowerCommand.Create(context));
        root.Subcommands.Add(SweepCommand.Create(context));
        return root;
    }

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var context = new CommandContext(stdout, stderr)
        {
            Verbose = args.Contains("--verbose", StringComparer.Ordinal),
        };
        return ErrorHandling.Guard(context, () =>
        {
            var root = BuildRootCommand(context);
            var configuration = new InvocationConfiguration
            {
                Output = stdout,
                Error = stderr,
                EnableDefaultExceptionHandler = false,
            };
            if (args.Length == 0)
            {
                // No command is a usage error: show what there is, and say so in the exit code.
                root.Parse(["--help"]).Invoke(configuration);
                return ExitCodes.Usage;
            }
            var parsed = root.Parse(args);
            context.Command = parsed.CommandResult.Command;
            if (parsed.Errors.Count > 0)
            {
                // An unknown word says more than the "required command" error it causes.
                var first = parsed.Errors.Select(e => e.Message).OrderBy(m => m.StartsWith("Unrecognized", StringComparison.Ordinal) ? 0 : 1).First();
                var more = parsed.Errors.Count > 1 ? $" (and {parsed.Errors.Count - 1} more)" : "";
                var command = parsed.CommandResult.Command is RootCommand ? "implicitreg" : "implicitreg " + parsed.CommandResult.Command.Name;
                return ErrorHandling.Report(context, $"{first.TrimEnd('.')}{more}; see '{command} --help'", null, ExitCodes.Usage);
            }
            return parsed.Invoke(configuration);
        });
    }
}
