namespace ImplicitRegOnnx.Autodiff.Rules;

internal static class ConvolutionRules
{
    public static void Register(RuleRegistry r)
    {
        _ = r;
    }
}
