namespace ImplicitRegOnnx.Autodiff.Rules;

internal static class PoolingRules
{
    public static void Register(RuleRegistry r)
    {
        _ = r;
    }
}
