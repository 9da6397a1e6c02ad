namespace ImplicitRegOnnx.Cli;

/// <summary>Process exit codes of <c>implicitreg</c> (design.md §3); <see cref="ErrorHandling.ExitCodeOf"/> maps each kind of error to one.</summary>
internal static class ExitCodes
{
    /// <summary>The work succeeded.</summary>
    public const int Ok = 0;

    /// <summary>The work failed (e.g. an optimized model does not match the original, training diverged, or an unexpected error).</summary>
    public const int Failed = 1;

    /// <summary>Bad usage or bad input: unknown option, missing argument, unreadable or invalid model, unusable output path, something the toolkit cannot do with it.</summary>
    public const int Usage = 2;

    /// <summary>The work was cancelled (128 + SIGINT, as shells report an interrupted command).</summary>
    public const int Cancelled = 130;
}
