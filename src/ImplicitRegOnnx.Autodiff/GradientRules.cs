using ImplicitRegOnnx.Autodiff.Rules;
using ImplicitRegOnnx.Onnx;

namespace ImplicitRegOnnx.Autodiff;

/// <summary>
/// The table of gradient rules, by operator domain and type. The built-in rules cover ai.onnx; each op
/// family registers its rules from its own file under Rules/ (in the spirit of tinygrad's gradient table
/// and PyTorch's derivatives.yaml). Operators whose outputs carry no gradient (Shape, comparisons,
/// ArgMax, ...) are registered as non-differentiable: their inputs get no gradient, which is exact, not
/// an approximation. Users add rules for other operators, e.g. a custom op, with <see cref="Register"/>.
/// </summary>
public static class GradientRules
{
    private static readonly object RegistrationLock = new();

    // Replaced as a whole on registration (copy on write), so lookups never lock.
    private static volatile RuleTable s_table = BuiltIn();

    /// <summary>ai.onnx op types with a rule (differentiable or declared non-differentiable), built in or registered.</summary>
    public static IReadOnlyCollection<string> OpTypes =>
        [.. s_table.Rules.Keys.Where(k => k.Domain.Length == 0).Select(k => k.OpType)];

    /// <summary>Whether the ai.onnx op type has a rule.</summary>
    public static bool Has(string opType) => Has("", opType);

    /// <summary>Whether the op type of the domain ("" or "ai.onnx" for the standard ops) has a rule.</summary>
    public static bool Has(string domain, string opType) => s_table.Rules.ContainsKey(RuleKey.Of(domain, opType));

    /// <summary>Whether the node's operator has a rule.</summary>
    public static bool Has(Node node)
    {
        ArgumentNullException.ThrowIfNull(node);
        return Has(node.Domain, node.OpType);
    }

    /// <summary>Whether the ai.onnx op is declared non-differentiable (its inputs never get a gradient).</summary>
    public static bool IsNonDifferentiable(string opType) => IsNonDifferentiable("", opType);

    /// <summary>Whether the op of the domain is declared non-differentiable (its inputs never get a gradient).</summary>
    public static bool IsNonDifferentiable(string domain, string opType) => s_table.NonDifferentiable.Contains(RuleKey.Of(domain, opType));

    /// <summary>Whether the node's operator is declared non-differentiable.</summary>
    public static bool IsNonDifferentiable(Node node)
    {
        ArgumentNullException.ThrowIfNull(node);
        return IsNonDifferentiable(node.Domain, node.OpType);
    }

    /// <summary>The rule of an ai.onnx op type.</summary>
    public static bool TryGet(string opType, out GradientRule rule) => TryGet("", opType, out rule);

    /// <summary>The rule of an op type of a domain.</summary>
    public static bool TryGet(string domain, string opType, out GradientRule rule) =>
        s_table.Rules.TryGetValue(RuleKey.Of(domain, opType), out rule!);

    /// <summary>
    /// Registers the gradient rule of an operator that has none yet, for every differentiation in this
    /// process from now on (<see cref="ReverseMode.Vjp"/>, the training graphs, the unsupported-op report).
    /// </summary>
    /// <remarks>
    /// <para>The rule is called once per node of <paramref name="opType"/> on the path from the parameters
    /// to the loss, with the node's output gradients; it emits the gradients of the inputs that
    /// <see cref="GradientContext.Needs"/> asks for, with <see cref="GradientContext.B"/>, and records them
    /// with <see cref="GradientContext.SetGrad"/> (leaving an input unset means its gradient is zero).</para>
    /// <para>The contract that makes the exact penalty possible: the rule emits only operators that have rules
    /// themselves (the built-in ai.onnx ones, or ones registered here), so that the backward graph can be
    /// differentiated again. A rule that emits an operator without a rule still gives first-order gradients
    /// (no penalty, or the finite-difference penalty), but differentiating its output again, as the exact
    /// penalty does, fails with a <see cref="MissingGradientRuleException"/> that names that operator.</para>
    /// <para>The operator itself must be one the runtime that runs the model knows (an ONNX Runtime custom-op
    /// library, or a model-local function of the same domain and name). Shape inference knows only ai.onnx
    /// ops, so the model should declare the custom op's output types (value_info); rules of the ops around it
    /// that need ranks (Gemm's bias, broadcasting) fail otherwise. Register rules before building graphs;
    /// registration is thread-safe. Rules cannot be replaced, built-in ones included.</para>
    /// </remarks>
    /// <param name="domain">The operator's domain, e.g. "com.example"; "" (or "ai.onnx") for the standard ops.</param>
    /// <param name="opType">The operator's type, e.g. "FancyTanh".</param>
    /// <param name="rule">The vector-Jacobian product of the operator.</param>
    /// <exception cref="ImplicitRegException">The operator already has a rule (kind <see cref="ErrorKind.BadInput"/>).</exception>
    public static void Register(string domain, string opType, GradientRule rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        Add(domain, opType, rule, nonDifferentiable: false);
    }

    /// <summary>
    /// Declares an operator non-differentiable (like Shape or ArgMax): its inputs get no gradient, and the
    /// path from the parameters stops there. For operators whose outputs are integers or otherwise carry no
    /// gradient; declaring a differentiable operator so makes its gradients silently zero.
    /// </summary>
    /// <param name="domain">The operator's domain; "" (or "ai.onnx") for the standard ops.</param>
    /// <param name="opType">The operator's type.</param>
    /// <exception cref="ImplicitRegException">The operator already has a rule (kind <see cref="ErrorKind.BadInput"/>).</exception>
    public static void RegisterNonDifferentiable(string domain, string opType) => Add(domain, opType, static _ => { }, nonDifferentiable: true);

    private static void Add(string domain, string opType, GradientRule rule, bool nonDifferentiable)
    {
        ArgumentNullException.ThrowIfNull(domain);
        ArgumentException.ThrowIfNullOrEmpty(opType);
        var key = RuleKey.Of(domain, opType);
        lock (RegistrationLock)
        {
            var table = s_table;
            if (table.Rules.ContainsKey(key))
            {
                throw ImplicitRegException.BadInput($"{key} already has a gradient rule; a rule cannot be replaced");
            }
            var rules = new Dictionary<RuleKey, GradientRule>(table.Rules) { [key] = rule };
            var nonDifferentiableOps = new HashSet<RuleKey>(table.NonDifferentiable);
            if (nonDifferentiable)
            {
                nonDifferentiableOps.Add(key);
            }
            s_table = new RuleTable(rules, nonDifferentiableOps);
        }
    }

    private static RuleTable BuiltIn()
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
        return new RuleTable(
            registry.Rules.ToDictionary(p => RuleKey.Of("", p.Key), p => p.Value),
            [.. registry.NonDifferentiable.Select(op => RuleKey.Of("", op))]);
    }

    private sealed record RuleTable(Dictionary<RuleKey, GradientRule> Rules, HashSet<RuleKey> NonDifferentiable);

    /// <summary>An operator's identity: the domain ("" for ai.onnx, so both spellings meet) and the op type.</summary>
    private readonly record struct RuleKey(string Domain, string OpType)
    {
        public static RuleKey Of(string domain, string opType) => new(Model.NormalizeDomain(domain ?? ""), opType);

        public override string ToString() => Domain.Length == 0 ? OpType : $"{Domain}.{OpType}";
    }
}

/// <summary>Collects the built-in ai.onnx rules while the table is built; refuses a second rule for the same op.</summary>
internal sealed class RuleRegistry
{
    public Dictionary<string, GradientRule> Rules { get; } = new(StringComparer.Ordinal);

    public List<string> NonDifferentiable { get; } = [];

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
