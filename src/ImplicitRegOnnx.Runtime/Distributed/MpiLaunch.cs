using System.Globalization;

namespace ImplicitRegOnnx.Runtime.Distributed;

/// <summary>
/// How an MPI launcher started this process, read from the environment it sets: Open MPI's <c>mpirun</c> sets
/// <c>OMPI_COMM_WORLD_SIZE</c> and <c>OMPI_COMM_WORLD_RANK</c>; PMIx launchers (Open MPI 5's prterun, Slurm's
/// <c>srun --mpi=pmix</c>) set <c>PMIX_RANK</c>. Null sizes or ranks are those the environment does not give.
/// </summary>
/// <param name="Rank">The rank the launcher assigned, when it says.</param>
/// <param name="Size">The number of processes it started, when it says.</param>
/// <param name="Evidence">The variable that identified the launch, e.g. "OMPI_COMM_WORLD_SIZE=2", for messages.</param>
public sealed record MpiLaunch(int? Rank, int? Size, string Evidence)
{
    /// <summary>Open MPI's launcher: the number of processes.</summary>
    public const string SizeVariable = "OMPI_COMM_WORLD_SIZE";

    /// <summary>Open MPI's launcher: this process's rank.</summary>
    public const string RankVariable = "OMPI_COMM_WORLD_RANK";

    /// <summary>PMIx launchers: this process's rank.</summary>
    public const string PmixRankVariable = "PMIX_RANK";

    /// <summary>"this process was started by an MPI launcher (OMPI_COMM_WORLD_SIZE=2)", for messages.</summary>
    public string Description => $"this process was started by an MPI launcher ({Evidence})";

    /// <summary>The launch described by this process's environment, or null when no MPI launcher started it.</summary>
    public static MpiLaunch? FromEnvironment() => From(Environment.GetEnvironmentVariable);

    /// <summary>The launch described by <paramref name="variable"/> (a name → value lookup), or null.</summary>
    /// <exception cref="ImplicitRegException">A launcher variable is set but is not a valid rank or size.</exception>
    public static MpiLaunch? From(Func<string, string?> variable)
    {
        ArgumentNullException.ThrowIfNull(variable);
        var size = Number(variable, SizeVariable, minimum: 1);
        var rank = Number(variable, RankVariable, minimum: 0) ?? Number(variable, PmixRankVariable, minimum: 0);
        if (size is null && rank is null)
        {
            return null;
        }
        if (size is { } w && rank is { } r && r >= w)
        {
            throw ImplicitRegException.BadInput(
                $"the MPI launcher's environment is inconsistent: rank {r} is not below {SizeVariable}={w}");
        }
        var evidence = size is not null ? $"{SizeVariable}={size}"
            : variable(RankVariable) is not null ? $"{RankVariable}={rank}"
            : $"{PmixRankVariable}={rank}";
        return new MpiLaunch(rank, size, evidence);
    }

    private static int? Number(Func<string, string?> variable, string name, int minimum)
    {
        var text = variable(name);
        if (text is null)
        {
            return null;
        }
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= minimum
            ? value
            : throw ImplicitRegException.BadInput(
                $"the MPI launcher's environment variable {name} must be an integer ≥ {minimum}, got '{text}'");
    }
}
