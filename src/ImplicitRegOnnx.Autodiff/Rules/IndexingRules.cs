namespace ImplicitRegOnnx.Autodiff.Rules;

internal static class IndexingRules
{
    public static void Register(RuleRegistry r)
    {
        _ = r;
    }
}
