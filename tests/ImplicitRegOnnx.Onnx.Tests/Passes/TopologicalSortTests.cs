using ImplicitRegOnnx.Onnx.Passes;

namespace ImplicitRegOnnx.Onnx.Tests.Passes;

public class TopologicalSortTests
{
    [Fact]
    public void ShuffledGraphGetsSortedAndKeepsSortedOrderStable()
    {
        var g = new Graph("g");
        var x = g.Input("x", 2);
        var a = new Node("", "Relu", [x], ["a"], name: "n_a");
        var b = new Node("", "Neg", [a.Output], ["b"], name: "n_b");
        var c = new Node("", "Add", [a.Output, b.Output], ["c"], name: "n_c");
        var d = new Node("", "Exp", [x], ["d"], name: "n_d");
        // Consumers first: c, b, d, a.
        g.Append(c);
        g.Append(b);
        g.Append(d);
        g.Append(a);
        g.Outputs.Add(c.Output);
        g.Outputs.Add(d.Output);
        var model = g.ToModel();

        var moved = new TopologicalSort().Run(model);

        Assert.True(moved > 0);
        // d has no dependency and stood before a in the list, so stability puts it first.
        Assert.Equal(["n_d", "n_a", "n_b", "n_c"], g.Nodes.Select(n => n.Name));
        Assert.Equal(0, new TopologicalSort().Run(model));
    }

    [Fact]
    public void OuterScopeReadOfASubgraphOrdersTheHolderAfterTheProducer()
    {
        var g = new Graph("g");
        var x = g.Input("x", 2);
        var cond = g.AddInput("cond", new TensorType(ElementType.Bool, Shape.Scalar));
        var thenBranch = new Graph("then");
        thenBranch.Outputs.Add(thenBranch.Op("Identity", "t", [null]));
        var elseBranch = new Graph("else");
        elseBranch.Outputs.Add(elseBranch.Op("Identity", "e", [x]));
        var producer = new Node("", "Relu", [x], ["r"], name: "producer");
        thenBranch.NodeProducing("t").SetInput(0, producer.Output);
        var @if = new Node("", "If", [cond], ["y"], [Attribute.FromGraph("then_branch", thenBranch), Attribute.FromGraph("else_branch", elseBranch)], "if");
        g.Append(@if);
        g.Append(producer);
        g.Outputs.Add(@if.Output);

        new TopologicalSort().Run(g.ToModel());

        Assert.Equal(["producer", "if"], g.Nodes.Select(n => n.Name));
    }

    [Fact]
    public void CycleIsReportedWithANodeName()
    {
        var g = new Graph("cyclic");
        var x = g.Input("x", 2);
        var a = g.Append(new Node("", "Add", [x, null], ["a"], name: "first"));
        var b = g.Append(new Node("", "Relu", [a.Output], ["b"], name: "second"));
        a.SetInput(1, b.Output);
        g.Outputs.Add(b.Output);

        var e = Assert.Throws<ImplicitRegException>(() => new TopologicalSort().Run(g.ToModel()));
        Assert.Contains("cycle", e.Message, StringComparison.Ordinal);
        Assert.Matches("'(first|second)'", e.Message);
    }
}
