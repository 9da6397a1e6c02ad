namespace ImplicitRegOnnx.Cli;

/// <summary>Process exit codes of <c>implicitreg</c> (design.md §3).</summary>
public static class ExitCodes
{
    /// <summary>The work succeeded.</summary>
    public const int Ok = 0;

    /// <summary>The work failed (e.g. an optimized model does not match the original, or an unexpected error).</summary>
    public const int Failed = 1;

    /// <summary>Bad usage or bad input: unknown option, missing argument, unreadable or invalid model, unusable output path.</summary>
    public const int Usage = 2;
}
