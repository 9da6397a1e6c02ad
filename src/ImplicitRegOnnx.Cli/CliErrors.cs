using System.CommandLine;
using ImplicitRegOnnx.Runtime.Workflows;

namespace ImplicitRegOnnx.Cli;

/// <summary>What a command needs from its surroundings: where to write, whether to be verbose, which command runs.</summary>
internal sealed class CommandContext(TextWriter stdout, TextWriter stderr)
{
    public TextWriter Out { get; } = stdout;

    public TextWriter Error { get; } = stderr;

    /// <summary>Print stack traces of errors (set by --verbose).</summary>
    public bool Verbose { get; set; }

    /// <summary>The command being run (null before parsing): its options are the names errors show (<see cref="FlagNames"/>).</summary>
    public Command? Command { get; set; }

    public void Warn(string message) => Error.WriteLine("implicitreg: warning: " + ErrorHandling.OneLine(FlagNames.Apply(message, Command)));

    /// <summary>Prints each of a workflow result's warnings.</summary>
    public void Warn(IEnumerable<string> messages)
    {
        foreach (var message in messages)
        {
            Warn(message);
        }
    }
}

/// <summary>
/// The one place that turns exceptions into exit codes and messages. Errors of the libraries and of the
/// tool's own usage are <see cref="ImplicitRegException"/>s: one line
/// (<c>implicitreg: error: FILE: what is wrong</c>) with the API's parameter names shown as this tool's
/// options (<see cref="FlagNames"/>), and the exit code of their <see cref="ErrorKind"/>
/// (<see cref="ExitCodeOf"/>). Anything unexpected prints one line with a hint to rerun with --verbose
/// and exits 1. --verbose adds the stack trace.
/// </summary>
internal static class ErrorHandling
{
    public const string Prefix = "implicitreg: error: ";

    /// <summary>The exit code of each kind of error (design.md §3: 1 the work failed, 2 bad usage or input).</summary>
    public static int ExitCodeOf(ErrorKind kind) => kind switch
    {
        ErrorKind.BadInput or ErrorKind.Unsupported => ExitCodes.Usage,
        ErrorKind.Cancelled => ExitCodes.Cancelled,
        _ => ExitCodes.Failed,
    };

    public static int Guard(CommandContext context, Func<int> body)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(body);
        try
        {
            return body();
        }
        catch (Exception e)
        {
            return ReportException(context, e);
        }
    }

    /// <summary>Prints what <paramref name="exception"/> says (after <paramref name="where"/>, e.g. "rank 1 of 2: ") and returns its exit code.</summary>
    public static int ReportException(CommandContext context, Exception exception, string where = "")
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(exception);
        return exception switch
        {
            ImplicitRegException e => Report(context, where + e.Message, e, ExitCodeOf(e.Kind)),
            OperationCanceledException e => Report(context, where + "cancelled", e, ExitCodeOf(ErrorKind.Cancelled)),
            _ => Report(context, where + $"unexpected {exception.GetType().Name}: {exception.Message}" + (context.Verbose ? "" : " (rerun with --verbose to see the stack trace)"), exception, ExitCodes.Failed),
        };
    }

    public static int Report(CommandContext context, string message, Exception? exception, int exitCode)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Error.WriteLine(Prefix + OneLine(exception is ImplicitRegException ? FlagNames.Apply(message, context.Command) : message));
        if (context.Verbose && exception is not null)
        {
            context.Error.WriteLine(exception.ToString());
        }
        return exitCode;
    }

    /// <summary>
    /// Runs library work about <paramref name="what"/> (a model file, a sweep point): the libraries see the
    /// loaded model or the options, not where they came from, so their errors get it in front (same kind and parameter).
    /// </summary>
    public static T About<T>(string what, Func<T> work) => WorkflowFiles.About(what, work);

    /// <summary>Collapses a message to one line so errors never spill over several.</summary>
    public static string OneLine(string message) => WorkflowFiles.OneLine(message);
}
