using ImplicitRegOnnx.Autodiff.Rules;

namespace ImplicitRegOnnx.Autodiff;

/// <summary>
/// The table of gradient rules, by ai.onnx op type. Each op family registers its rules from its own
/// file under Rules/ (in the spirit of tinygrad's gradient table and PyTorch's derivatives.yaml).
/// Operators whose outputs carry no gradient (Shape, comparisons, ArgMax, ...) are registered as
/// non-differentiable: their inputs get no gradient, which is exact, not an approximation.
/// </summary>
public static class GradientRules
{
    // Declared before Table: static fields initialise in order and Build() fills this set.
    private static readonly HashSet<string> NonDifferentiableOps = new(StringComparer.Ordinal);

    private static readonly Dictionary<string, GradientRule> Table = Build();

    /// <summary>Op types with a rule (differentiable or declared non-differentiable).</summary>
    public static IReadOnlyCollection<string> OpTypes => Table.Keys;

    public static bool Has(string opType) => Table.ContainsKey(opType);

    /// <summary>Whether the op is declared non-differentiable (its inputs never get a gradient).</summary>
    public static bool IsNonDifferentiable(string opType) => NonDifferentiableOps.Contains(opType);

    public static bool TryGet(string opType, out GradientRule rule) => Table.TryGetValue(opType, out rule!);

    private static Dictionary<string, GradientRule> Build()
    {
        var registry = new RuleRegistry();
        ElementwiseRules.Register(registry);
        ActivationRules.Register(registry);
        MoreActivationRules.Register(registry);
        ReductionRules.Register(registry);
        LinearRules.Register(registry);
        ConvolutionRules.Register(registry);
        PoolingRules.Register(registry);
        NormalizationRules.Register(registry);
        ShapeRules.Register(registry);
        IndexingRules.Register(registry);
        LossRules.Register(registry);
        NonDifferentiableRules.Register(registry);
        foreach (var op in registry.NonDifferentiable)
        {
            NonDifferentiableOps.Add(op);
        }
        return registry.Rules;
    }
}

/// <summary>Collects rules while the table is built; refuses a second rule for the same op.</summary>
public sealed class RuleRegistry
{
    internal Dictionary<string, GradientRule> Rules { get; } = new(StringComparer.Ordinal);

    internal List<string> NonDifferentiable { get; } = [];

    public void Add(string opType, GradientRule rule)
    {
        if (!Rules.TryAdd(opType, rule))
        {
            throw new InvalidOperationException($"Two gradient rules for {opType}.");
        }
    }

    /// <summary>Registers ops whose inputs get no gradient.</summary>
    public void AddNonDifferentiable(params string[] opTypes)
    {
        foreach (var op in opTypes)
        {
            Add(op, static _ => { });
            NonDifferentiable.Add(op);
        }
    }
}
