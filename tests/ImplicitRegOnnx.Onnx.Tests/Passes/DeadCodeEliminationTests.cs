using ImplicitRegOnnx.Onnx.Passes;

namespace ImplicitRegOnnx.Onnx.Tests.Passes;

public class DeadCodeEliminationTests
{
    [Fact]
    public void RemovesAChainThatReachesNoOutput()
    {
        var g = new Graph("g");
        var x = g.Input("x", 2);
        g.Outputs.Add(g.Op("Relu", "y", [x]));
        var b = g.Op("Neg", "b", [x]);
        g.Op("Exp", "c", [b]);
        // Pure by spec even in an unknown domain: removed too.
        g.Append(new Node("com.example", "Custom", [x], ["custom"]));

        var changes = new DeadCodeElimination().Run(g.ToModel());

        Assert.Equal(3, changes);
        Assert.Equal(["Relu"], g.OpTypes());
        Assert.Equal(["y"], g.OutputNames());
        Assert.DoesNotContain(x.Uses, u => u.Node.OpType != "Relu");
    }

    [Fact]
    public void KeepsGraphInputsAndRemovesOnlyUnreadInitializers()
    {
        var g = new Graph("g");
        var x = g.Input("x", 2);
        var used = g.Init("used", [1, 2]);
        g.Init("unused", [3, 4]);
        var overridable = g.Init("overridable", [5, 6]);
        g.AddInput(overridable);
        g.Input("unused_input", 2);
        g.Outputs.Add(g.Op("Add", "y", [x, used]));

        var changes = new DeadCodeElimination().Run(g.ToModel());

        Assert.Equal(1, changes);
        Assert.Equal(["used", "overridable"], g.Initializers.Select(v => v.Name));
        Assert.Equal(["x", "overridable", "unused_input"], g.Inputs.Select(v => v.Name));
    }

    [Fact]
    public void KeepsValuesReadOnlyBySubgraphsAndCleansInsideSubgraphs()
    {
        var g = new Graph("g");
        var x = g.Input("x", 2);
        var cond = g.AddInput("cond", new TensorType(ElementType.Bool, Shape.Scalar));
        var w = g.Init("w", [1, 2]);
        var outer = g.Op("Relu", "outer", [x]);
        var thenBranch = new Graph("then");
        thenBranch.Op("Neg", "then_dead", [outer]);
        thenBranch.Outputs.Add(thenBranch.Op("Add", "then_out", [outer, w]));
        var elseBranch = new Graph("else");
        elseBranch.Outputs.Add(elseBranch.Op("Identity", "else_out", [x]));
        var @if = g.Append(new Node("", "If", [cond], ["y"], [Attribute.FromGraph("then_branch", thenBranch), Attribute.FromGraph("else_branch", elseBranch)]));
        g.Outputs.Add(@if.Output);

        var changes = new DeadCodeElimination().Run(g.ToModel());

        Assert.Equal(1, changes);
        Assert.Equal(["Relu", "If"], g.OpTypes());
        Assert.Equal(["Add"], thenBranch.OpTypes());
        Assert.Equal(["w"], g.Initializers.Select(v => v.Name));
    }

    [Fact]
    public void ADeadNodeWithASubgraphReleasesTheOuterValuesItRead()
    {
        var g = new Graph("g");
        var x = g.Input("x", 2);
        var cond = g.AddInput("cond", new TensorType(ElementType.Bool, Shape.Scalar));
        var w = g.Init("w", [1, 2]);
        var outer = g.Op("Relu", "outer", [x]);
        var thenBranch = new Graph("then");
        thenBranch.Outputs.Add(thenBranch.Op("Add", "then_out", [outer, w]));
        var elseBranch = new Graph("else");
        elseBranch.Outputs.Add(elseBranch.Op("Identity", "else_out", [x]));
        g.Append(new Node("", "If", [cond], ["unused"], [Attribute.FromGraph("then_branch", thenBranch), Attribute.FromGraph("else_branch", elseBranch)]));
        g.Outputs.Add(g.Op("Sigmoid", "y", [x]));

        var changes = new DeadCodeElimination().Run(g.ToModel());

        Assert.Equal(3, changes); // If, Relu, initializer w
        Assert.Equal(["Sigmoid"], g.OpTypes());
        Assert.Empty(g.Initializers);
        Assert.Single(x.Uses);
    }

    [Fact]
    public void FunctionBodiesKeepWhatTheirOutputsNeed()
    {
        var body = new Graph("f");
        var a = body.AddInput("a", null);
        body.Op("Neg", "dead", [a]);
        body.Outputs.Add(body.Op("Relu", "r", [a]));
        var g = new Graph("g");
        var x = g.Input("x", 2);
        g.Outputs.Add(g.Append(new Node("com.example", "F", [x], ["y"])).Output);
        var model = g.ToModel();
        model.Functions.Add(new Function("com.example", "F", body));
        model.SetOpsetVersion("com.example", 1);

        var changes = new DeadCodeElimination().Run(model);

        Assert.Equal(1, changes);
        Assert.Equal(["Relu"], body.OpTypes());
        Assert.Equal(["F"], g.OpTypes());
    }

    [Fact]
    public void DropsValueInfosOfRemovedValuesOnly()
    {
        var g = new Graph("g");
        var x = g.Input("x", 2);
        var kept = g.Op("Relu", "kept", [x]);
        var gone = g.Op("Neg", "gone", [x]);
        g.Outputs.Add(g.Op("Exp", "y", [kept]));
        kept.Type = GraphBuilding.Float(2);
        gone.Type = GraphBuilding.Float(2);
        g.ValueInfos.Add(kept);
        g.ValueInfos.Add(gone);

        var changes = new DeadCodeElimination().Run(g.ToModel());

        Assert.Equal(2, changes);
        Assert.Equal(["kept"], g.ValueInfos.Select(v => v.Name));
        Assert.Equal(0, new DeadCodeElimination().Run(g.ToModel()));
    }
}
