using System.Globalization;
using ImplicitRegOnnx.Runtime.Distributed;

namespace ImplicitRegOnnx.Cli.Commands;

/// <summary>
/// Runs a command in the world of this process (docs/distributed.md): alone as usual, or under an MPI launcher
/// (<c>mpirun -np W implicitreg train …</c>) in the job's world, where rank 0 writes what the command prints and the
/// other ranks print only their errors. Any failure of a rank after the world is open is reported with its rank and
/// aborts the whole job (<see cref="DistributedRun"/>), so no rank waits for one that failed.
/// </summary>
internal static class DistributedCommand
{
    public static int Run(CommandContext context, Func<CommandContext, ICollectives, int> body)
    {
        MpiLaunch? launch = null;
        var code = ErrorHandling.Guard(context, () => (launch = MpiLaunch.FromEnvironment()) is null ? body(context, new SingleProcessCollectives()) : ExitCodes.Ok);
        if (launch is null)
        {
            return code;
        }
        var where = "";
        return DistributedRun.Execute(world =>
        {
            where = world.Size > 1 ? string.Create(CultureInfo.InvariantCulture, $"rank {world.Rank} of {world.Size}: ") : "";
            var own = world.Rank == 0 ? context : new CommandContext(TextWriter.Null, context.Error) { Verbose = context.Verbose, Command = context.Command };
            return body(own, world);
        }, e => ErrorHandling.ReportException(context, e, where));
    }
}
