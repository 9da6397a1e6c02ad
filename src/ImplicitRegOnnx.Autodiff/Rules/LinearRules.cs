namespace ImplicitRegOnnx.Autodiff.Rules;

internal static class LinearRules
{
    public static void Register(RuleRegistry r)
    {
        _ = r;
    }
}
