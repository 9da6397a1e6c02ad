namespace ImplicitRegOnnx.Autodiff.Rules;

internal static class ActivationRules
{
    public static void Register(RuleRegistry r)
    {
        _ = r;
    }
}
