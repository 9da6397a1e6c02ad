using System.CommandLine;
using ImplicitRegOnnx.Runtime.Training;

namespace ImplicitRegOnnx.Cli.Commands;

/// <summary>
/// The options that say how one run trains, one per training setting of the library's table (<see cref="TrainingSettings.Table"/>):
/// the values go to <see cref="TrainingSettings.Parse"/> as text, as every point of a sweep grid does, so a value means the same in both.
/// </summary>
internal sealed class TrainOptionSet
{
    private readonly List<(TrainingSetting Setting, Option Option)> _options = [.. TrainingSettings.Table.Select(s => (s, s.IsSwitch
        ? (Option)new Option<bool>("--" + s.Name) { Description = s.Description }
        : s.Default is { } value ? new Option<string?>("--" + s.Name) { Description = s.Description, DefaultValueFactory = _ => value }
        : new Option<string?>("--" + s.Name) { Description = s.Description }))];

    /// <summary>The names of the options in this set.</summary>
    public IReadOnlyList<string> Names => [.. _options.Select(o => o.Option.Name)];

    public void AddTo(Command command) => _options.ForEach(o => command.Options.Add(o.Option));

    /// <summary>The settings these values give (threads, device and checkpoints left at their defaults).</summary>
    public TrainingSettings Parse(ParseResult parsed) => TrainingSettings.Parse(_options
        .Select(o => (o.Setting.Name, Value: o.Option is Option<bool> flag ? (parsed.GetValue(flag) ? "true" : null) : parsed.GetValue((Option<string?>)o.Option)))
        .Where(p => p.Value is not null).ToDictionary(p => p.Name, p => p.Value!, StringComparer.Ordinal));
}
