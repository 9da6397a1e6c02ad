namespace ImplicitRegOnnx;

/// <summary>What went wrong, in the terms a caller acts on. Every error the toolkit raises for a
/// problem of its input or its work is an <see cref="ImplicitRegException"/> with one of these kinds;
/// the command-line tool maps each kind to one exit code in one place.</summary>
public enum ErrorKind
{
    /// <summary>The input or the options are wrong: a missing or corrupt file, a model that is not valid
    /// ONNX, a tensor of the wrong shape, an option out of range. Fix the input and retry.</summary>
    BadInput,

    /// <summary>The input is valid but asks for something the toolkit cannot do (an operator without a
    /// gradient rule, an execution provider this build lacks).</summary>
    Unsupported,

    /// <summary>The work ran and did not succeed (a verification found a difference, a gradient check
    /// failed, ONNX Runtime refused a model the toolkit built).</summary>
    Failed,

    /// <summary>Training produced a NaN or an infinity.</summary>
    Diverged,

    /// <summary>The caller cancelled the work.</summary>
    Cancelled,
}

/// <summary>
/// The one exception base of the toolkit. <see cref="Exception.Message"/> is one line that names the file,
/// node, tensor or parameter it concerns and what to do. <see cref="Parameter"/> names the API parameter at
/// fault (<c>"OptimizerOptions.Momentum"</c>), as it appears in the message, so a front end can show its own
/// name for it (the CLI shows the flag).
/// </summary>
public class ImplicitRegException : Exception
{
    /// <summary>An error of kind <see cref="ErrorKind.Failed"/> with no message.</summary>
    public ImplicitRegException()
        : this(ErrorKind.Failed, "the operation failed")
    {
    }

    /// <summary>An error of kind <see cref="ErrorKind.Failed"/>.</summary>
    /// <param name="message">One line for the user.</param>
    public ImplicitRegException(string message)
        : this(ErrorKind.Failed, message)
    {
    }

    /// <summary>An error of kind <see cref="ErrorKind.Failed"/> caused by <paramref name="innerException"/>.</summary>
    /// <param name="message">One line for the user.</param>
    /// <param name="innerException">The cause.</param>
    public ImplicitRegException(string message, Exception innerException)
        : this(ErrorKind.Failed, message, innerException)
    {
    }

    /// <summary>An error of the given kind.</summary>
    /// <param name="kind">What went wrong.</param>
    /// <param name="message">One line for the user naming what it concerns.</param>
    /// <param name="innerException">The cause, if any.</param>
    /// <param name="parameter">The API parameter at fault, spelled as in <paramref name="message"/>.</param>
    public ImplicitRegException(ErrorKind kind, string message, Exception? innerException = null, string? parameter = null)
        : base(message, innerException)
    {
        Kind = kind;
        Parameter = parameter;
    }

    /// <summary>What went wrong.</summary>
    public ErrorKind Kind { get; }

    /// <summary>The API parameter at fault (e.g. <c>"OptimizerOptions.Momentum"</c>), spelled as in the message; null when none is.</summary>
    public string? Parameter { get; }

    /// <summary>
    /// This error as seen from a caller that knows where it happened: the same kind and parameter, the
    /// message prefixed with <paramref name="where"/> (a file, a graph, an entry), this error as the cause.
    /// Typed data of a subclass stays on <see cref="Exception.InnerException"/>.
    /// </summary>
    /// <param name="where">What the error concerns, e.g. the path of the model file.</param>
    public ImplicitRegException Within(string where) =>
        new(Kind, $"{where}: {Message}", this, Parameter);

    /// <summary>Bad input: a file, model, tensor or value the caller must fix.</summary>
    /// <param name="message">One line naming the file, node or tensor and what is wrong.</param>
    /// <param name="innerException">The cause, if any.</param>
    public static ImplicitRegException BadInput(string message, Exception? innerException = null) =>
        new(ErrorKind.BadInput, message, innerException);

    /// <summary>A bad value of one API parameter; the message is "<paramref name="parameter"/> <paramref name="problem"/>".</summary>
    /// <param name="parameter">The parameter as the API spells it, e.g. <c>"OptimizerOptions.Momentum"</c>.</param>
    /// <param name="problem">What is wrong with it and what would be right, e.g. "must be in [0, 1), got 1.5".</param>
    public static ImplicitRegException BadParameter(string parameter, string problem) =>
        new(ErrorKind.BadInput, $"{parameter} {problem}", null, parameter);

    /// <summary>Valid input that the toolkit cannot handle because of one API parameter's value (e.g. a device this build lacks).</summary>
    /// <param name="parameter">The parameter as the API spells it, e.g. <c>"TrainerOptions.Device"</c>.</param>
    /// <param name="problem">What cannot be done and what would work.</param>
    /// <param name="innerException">The cause, if any.</param>
    public static ImplicitRegException UnsupportedParameter(string parameter, string problem, Exception? innerException = null) =>
        new(ErrorKind.Unsupported, $"{parameter} {problem}", innerException, parameter);

    /// <summary>Valid input that asks for something the toolkit cannot do.</summary>
    /// <param name="message">One line naming what is unsupported.</param>
    /// <param name="innerException">The cause, if any.</param>
    public static ImplicitRegException Unsupported(string message, Exception? innerException = null) =>
        new(ErrorKind.Unsupported, message, innerException);

    /// <summary>The work ran and did not succeed.</summary>
    /// <param name="message">One line saying what failed.</param>
    /// <param name="innerException">The cause, if any.</param>
    public static ImplicitRegException Failed(string message, Exception? innerException = null) =>
        new(ErrorKind.Failed, message, innerException);
}
