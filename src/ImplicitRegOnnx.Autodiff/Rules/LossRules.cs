namespace ImplicitRegOnnx.Autodiff.Rules;

internal static class LossRules
{
    public static void Register(RuleRegistry r)
    {
        _ = r;
    }
}
