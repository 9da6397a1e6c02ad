using System.CommandLine;

namespace ImplicitRegOnnx.Cli;

/// <summary>Builds a command of the tree from its arguments and options; its action runs through the one error handling (<see cref="ErrorHandling.Guard"/>).</summary>
internal static class CommandFactory
{
    public static Command Create(CommandContext context, string name, string description, IEnumerable<Symbol> symbols, Func<ParseResult, int> action)
    {
        var command = new Command(name, description);
        foreach (var symbol in symbols)
        {
            if (symbol is Argument argument)
            {
                command.Arguments.Add(argument);
            }
            else
            {
                command.Options.Add((Option)symbol);
            }
        }
        command.SetAction(parsed => ErrorHandling.Guard(context, () => action(parsed)));
        return command;
    }
}
