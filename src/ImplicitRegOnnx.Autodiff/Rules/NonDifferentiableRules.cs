namespace ImplicitRegOnnx.Autodiff.Rules;

/// <summary>
/// Operators whose outputs are integers, booleans, shapes or piecewise constant: their inputs get no
/// gradient (Sign, Floor, Round and Ceil have derivative zero wherever it exists).
/// </summary>
internal static class NonDifferentiableRules
{
    public static void Register(RuleRegistry r) => r.AddNonDifferentiable(
        "Constant", "ConstantOfShape", "Shape", "Size", "Range", "EyeLike",
        "Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual", "Not", "And", "Or", "Xor",
        "IsNaN", "IsInf", "Sign", "Floor", "Ceil", "Round",
        "ArgMax", "ArgMin", "NonZero", "OneHot", "Hardmax", "Mod", "BitShift",
        "RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Bernoulli", "Multinomial");
}
