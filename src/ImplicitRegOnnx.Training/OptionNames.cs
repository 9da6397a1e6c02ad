namespace ImplicitRegOnnx.Training;

/// <summary>
/// The names by which tools, sweep grids and configuration files spell losses, penalty modes and
/// optimizers, parsed in one place: an unknown name is a <see cref="ErrorKind.BadInput"/> error that names
/// the parameter it was given for and lists the names that work.
/// </summary>
public static class OptionNames
{
    /// <summary>The loss names (<see cref="LossKind"/>): cross-entropy, mse, bce-with-logits, l1, nll.</summary>
    public static IReadOnlyList<string> Losses => Training.Losses.Names;

    /// <summary>The penalty-mode names (<see cref="PenaltyMode"/>): exact, finite-difference, none.</summary>
    public static IReadOnlyList<string> PenaltyModes { get; } = ["exact", "finite-difference", "none"];

    /// <summary>The optimizer names (<see cref="OptimizerKind"/>): sgd, momentum, adam.</summary>
    public static IReadOnlyList<string> Optimizers => OptimizerOptions.Names;

    /// <summary>The loss called <paramref name="name"/> ("ce" and "bce" are accepted as short forms).</summary>
    /// <param name="name">The loss's name.</param>
    /// <param name="parameter">The parameter the name was given for, as the caller's API spells it (shown in the error).</param>
    /// <exception cref="ImplicitRegException">Of kind <see cref="ErrorKind.BadInput"/>: no loss has that name.</exception>
    public static LossKind ParseLoss(string name, string parameter = "GradientModelOptions.Loss") =>
        Training.Losses.TryParse(name, out var kind) ? kind : throw Unknown(parameter, name, "loss", Losses);

    /// <summary>The penalty mode called <paramref name="name"/> ("fd" is accepted for finite-difference).</summary>
    /// <param name="name">The mode's name.</param>
    /// <param name="parameter">The parameter the name was given for (shown in the error).</param>
    /// <exception cref="ImplicitRegException">Of kind <see cref="ErrorKind.BadInput"/>: no mode has that name.</exception>
    public static PenaltyMode ParsePenaltyMode(string name, string parameter = "PenaltyOptions.Mode") =>
        Training.PenaltyModes.TryParse(name, out var mode) ? mode : throw Unknown(parameter, name, "penalty mode", PenaltyModes);

    /// <summary>The optimizer called <paramref name="name"/>.</summary>
    /// <param name="name">The optimizer's name.</param>
    /// <param name="parameter">The parameter the name was given for (shown in the error).</param>
    /// <exception cref="ImplicitRegException">Of kind <see cref="ErrorKind.BadInput"/>: no optimizer has that name.</exception>
    public static OptimizerKind ParseOptimizer(string name, string parameter = "OptimizerOptions.Kind") =>
        OptimizerOptions.TryParse(name, out var kind) ? kind : throw Unknown(parameter, name, "optimizer", Optimizers);

    /// <summary>The name a loss is written as (in metadata and reports).</summary>
    /// <param name="kind">The loss.</param>
    public static string NameOf(LossKind kind) => kind.Name();

    /// <summary>The name a penalty mode is written as (in metadata and reports).</summary>
    /// <param name="mode">The penalty mode.</param>
    public static string NameOf(PenaltyMode mode) => mode.Name();

    private static ImplicitRegException Unknown(string parameter, string name, string what, IReadOnlyList<string> names) =>
        ImplicitRegException.BadParameter(parameter, $"{name}: unknown {what}; use one of {string.Join(", ", names)}");
}
