namespace ImplicitRegOnnx.Autodiff.Tests.GradCheck;

public static partial class GradCheckTable
{
    public static IEnumerable<GradCheckCase> Indexing() => [];
}
