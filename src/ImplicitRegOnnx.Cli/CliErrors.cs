using ImplicitRegOnnx.Onnx;

namespace ImplicitRegOnnx.Cli;

/// <summary>
/// An error with a message meant for the user and the exit code it ends in. The message should name
/// the file it concerns, say what is wrong and what to do.
/// </summary>
public sealed class CliException : Exception
{
    public CliException()
    {
    }

    public CliException(string message)
        : this(ExitCodes.Usage, message)
    {
    }

    public CliException(string message, Exception innerException)
        : base(message, innerException)
    {
        ExitCode = ExitCodes.Usage;
    }

    public CliException(int exitCode, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        ExitCode = exitCode;
    }

    public int ExitCode { get; } = ExitCodes.Usage;

    /// <summary>Bad input or usage (exit 2).</summary>
    public static CliException Usage(string message, Exception? inner = null) => new(ExitCodes.Usage, message, inner);

    /// <summary>The work failed (exit 1).</summary>
    public static CliException Failed(string message, Exception? inner = null) => new(ExitCodes.Failed, message, inner);
}

/// <summary>What a command needs from its surroundings: where to write, and whether to be verbose.</summary>
public sealed class CommandContext(TextWriter stdout, TextWriter stderr)
{
    public TextWriter Out { get; } = stdout;

    public TextWriter Error { get; } = stderr;

    /// <summary>Print stack traces of errors (set by --verbose).</summary>
    public bool Verbose { get; set; }

    public void Warn(string message) => Error.WriteLine("implicitreg: warning: " + ErrorHandling.OneLine(message));
}

/// <summary>
/// The one place that turns exceptions into exit codes and messages: user errors print one line
/// (<c>implicitreg: error: FILE: what is wrong</c>) and exit 2; anything unexpected prints one line with
/// a hint to rerun with --verbose and exits 1. --verbose adds the stack trace.
/// </summary>
public static class ErrorHandling
{
    public const string Prefix = "implicitreg: error: ";

    public static int Guard(CommandContext context, Func<int> body)
    {
        try
        {
            return body();
        }
        catch (CliException e)
        {
            return Report(context, e.Message, e, e.ExitCode);
        }
        catch (OnnxFormatException e)
        {
            return Report(context, e.Message, e, ExitCodes.Usage);
        }
        catch (ImplicitRegException e)
        {
            return Report(context, e.Message, e, e.Kind is ErrorKind.BadInput or ErrorKind.Unsupported ? ExitCodes.Usage : ExitCodes.Failed);
        }
        catch (Exception e)
        {
            var message = $"unexpected {e.GetType().Name}: {e.Message}" + (context.Verbose ? "" : " (rerun with --verbose to see the stack trace)");
            return Report(context, message, e, ExitCodes.Failed);
        }
    }

    public static int Report(CommandContext context, string message, Exception? exception, int exitCode)
    {
        context.Error.WriteLine(Prefix + OneLine(message));
        if (context.Verbose && exception is not null)
        {
            context.Error.WriteLine(exception.ToString());
        }
        return exitCode;
    }

    /// <summary>Collapses a message to one line so errors never spill over several.</summary>
    public static string OneLine(string message) =>
        string.Join(' ', message.ReplaceLineEndings("\n").Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
