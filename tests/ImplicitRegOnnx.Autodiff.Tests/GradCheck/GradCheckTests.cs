namespace ImplicitRegOnnx.Autodiff.Tests.GradCheck;

public class GradCheckTests
{
    public static TheoryData<string> Cases() => GradCheckTable.Names();

    [Theory]
    [MemberData(nameof(Cases))]
    public void FirstOrderMatchesCentralDifferences(string name)
    {
        var outcome = GradChecker.Run(GradCheckTable.Get(name), order: 1);
        Assert.True(outcome.Passed, outcome.ToString());
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void SecondOrderMatchesCentralDifferences(string name)
    {
        var c = GradCheckTable.Get(name);
        if (!c.SecondOrder)
        {
            return;
        }
        var outcome = GradChecker.Run(c, order: 2);
        Assert.True(outcome.Passed, outcome.ToString());
    }

    /// <summary>
    /// Closure: differentiating every rule's output twice emits only ai.onnx ops that have rules
    /// themselves, so a backward graph can always be differentiated again (the exact penalty).
    /// </summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void SecondOrderGraphUsesOnlyOpsWithRules(string name)
    {
        var c = GradCheckTable.Get(name);
        var dims = Enumerable.Range(0, 8).Select(_ => Array.Empty<long>()).ToArray();
        var (model, _, _) = GradChecker.BuildBackward(c, order: 2, OutputDimsFromInference(c));
        var foreign = model.Graph.Nodes.Where(n => !n.IsStandard || !GradientRules.Has(n.OpType)).Select(n => n.OpType).Distinct().ToList();
        Assert.True(foreign.Count == 0, $"ops without rules: {string.Join(", ", foreign)}");
        _ = dims;
    }

    private static long[][] OutputDimsFromInference(GradCheckCase c)
    {
        var graph = new Graph();
        var b = new Onnx.Building.GraphBuilder(graph, c.Opset);
        var xs = c.Inputs.Select((s, i) => graph.AddInput($"x{i}", new TensorType(s.Type, new Shape(s.Dims)))).ToArray();
        return [.. c.Build(b, xs).Select(y => y.Shape?.ToArray() ?? [])];
    }
}
