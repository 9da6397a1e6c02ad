using ImplicitRegOnnx.Onnx.Building;

namespace ImplicitRegOnnx.Autodiff.Tests;

public class ReversePlanTests
{
    private static TensorType Floats(params long[] dims) => new(ElementType.Float, new Shape(dims));

    [Fact]
    public void ThePathHoldsTheNodesBetweenTheStartAndTheOutputsInForwardOrder()
    {
        var graph = new Graph("g");
        var x = graph.AddInput("x", Floats(3));
        var w = graph.AddInput("w", Floats(3));
        var b = new GraphBuilder(graph, 17);
        var constantSide = b.Neg(x);                 // leads to y but does not depend on w
        var product = b.Mul(constantSide, w);
        var deadEnd = b.Op("Exp", [w]);             // depends on w but does not lead to y
        var shape = b.Shape(w);                     // non-differentiable: cuts the dependency
        var reshaped = b.Reshape(product, shape);
        var y = b.Op("Tanh", [reshaped]);
        graph.Outputs.Add(y);
        graph.Outputs.Add(deadEnd);

        var plan = ReversePlan.Build(graph, [y], [w]);

        Assert.Equal(["Mul", "Reshape", "Tanh"], plan.Nodes.Select(n => n.OpType));
        Assert.Empty(plan.NodesWithoutRule);
        Assert.True(plan.IsActive(product));
        Assert.True(plan.IsActive(deadEnd));
        Assert.False(plan.IsActive(constantSide));
        Assert.False(plan.IsActive(shape));
    }

    [Fact]
    public void IntegerValuesCarryNoGradient()
    {
        var graph = new Graph("g");
        var w = graph.AddInput("w", Floats(3));
        var b = new GraphBuilder(graph, 17);
        var index = b.Cast(w, ElementType.Int64);
        var y = b.Cast(index, ElementType.Float);
        graph.Outputs.Add(y);

        var plan = ReversePlan.Build(graph, [y], [w]);

        Assert.False(plan.IsActive(index));
        Assert.Empty(plan.Nodes);
    }

    /// <summary>A subgraph that reads a value depending on the start puts its node on the path (outer values count as inputs).</summary>
    [Fact]
    public void ControlFlowReadingAnActiveValueIsOnThePathAndHasNoRule()
    {
        var graph = new Graph("g");
        var cond = graph.AddInput("cond", new TensorType(ElementType.Bool, Shape.Scalar));
        var w = graph.AddInput("w", Floats(3));
        var b = new GraphBuilder(graph, 17);
        var doubled = b.Add(w, w);
        var thenBranch = new Graph("then");
        thenBranch.Outputs.Add(thenBranch.Append(new Node("", "Neg", [doubled], ["then_out"])).Output);
        var elseBranch = new Graph("else");
        elseBranch.Outputs.Add(elseBranch.Append(new Node("", "Identity", [doubled], ["else_out"])).Output);
        var branch = graph.Append(new Node("", "If", [cond], ["chosen"], [Attribute.FromGraph("then_branch", thenBranch), Attribute.FromGraph("else_branch", elseBranch)]));
        branch.Output.Type = Floats(3);
        var y = b.ReduceSum(branch.Output, [0], keepDims: false);
        graph.Outputs.Add(y);

        var plan = ReversePlan.Build(graph, [y], [w]);

        Assert.Equal(["Add", "If", "ReduceSum"], plan.Nodes.Select(n => n.OpType));
        Assert.Equal(["If"], plan.NodesWithoutRule.Select(n => n.OpType));
        // Differentiation refuses it rather than treating the If's output as constant (a zero gradient).
        var error = Assert.Throws<MissingGradientRuleException>(() => ReverseMode.Vjp(b, [y], [null], [w]));
        Assert.Equal("If", Assert.Single(error.Missing).OpType);
    }

    [Fact]
    public void OptionsAddSourcesAndStopAtInputs()
    {
        var graph = new Graph("g");
        var x = graph.AddInput("x", Floats(3));
        var w = graph.AddInput("w", Floats(3));
        var b = new GraphBuilder(graph, 17);
        var scaled = b.AppendNode("ai.onnx.ml", "Scaler", [x], 1).Output;   // keeps its parameters in attributes
        scaled.Type = Floats(3);
        var bound = b.Op("Exp", [b.AppendNode("com.example", "Opaque", [w], 1).Output]);
        var y = b.Op("Clip", [b.Mul(scaled, w), bound]);
        graph.Outputs.Add(y);

        var plain = ReversePlan.Build(graph, [y], [w]);
        Assert.Equal(["com.example"], plain.NodesWithoutRule.Select(n => n.Domain));

        var report = ReversePlan.Build(graph, [y], [w], new ReversePlanOptions
        {
            HoldsParameters = n => n.Domain == "ai.onnx.ml",
            FollowsInput = (n, k) => n.OpType != "Clip" || k == 0,
        });
        Assert.Equal(["ai.onnx.ml"], report.NodesWithoutRule.Select(n => n.Domain));
        Assert.True(report.IsActive(scaled));
    }
}
