namespace ImplicitRegOnnx.Autodiff.Rules;

/// <summary>Ops that move elements without changing them (ONNX operator spec: Reshape, Expand, ...).</summary>
internal static partial class ShapeRules
{
    public static void Register(RuleRegistry r)
    {
        r.Add("Reshape", c => c.SetGrad(0, c.B.Reshape(c.Dy, c.B.Shape(c.X(0)))));
        r.Add("Expand", c => c.SetGradUnbroadcast(0, c.Dy));
        RegisterOthers(r);
    }

    static partial void RegisterOthers(RuleRegistry r);
}
