using ImplicitRegOnnx.Onnx.Passes;

namespace ImplicitRegOnnx.Onnx.Tests.Passes;

public class CommonSubexpressionEliminationTests
{
    [Fact]
    public void MergesEqualNodesAndTheirConsumersInOnePass()
    {
        var g = new Graph("g");
        var x = g.Input("x", 2);
        var r1 = g.Op("Relu", "r1", [x]);
        var r2 = g.Op("Relu", "r2", [x]);
        var e1 = g.Op("Exp", "e1", [r1]);
        var e2 = g.Op("Exp", "e2", [r2]);
        g.Outputs.Add(g.Op("Add", "y", [e1, e2]));

        var changes = new CommonSubexpressionElimination().Run(g.ToModel());

        Assert.Equal(2, changes);
        Assert.Equal(["Relu", "Exp", "Add"], g.OpTypes());
        var add = g.NodeProducing("y");
        Assert.Same(add.Inputs[0], add.Inputs[1]);
        Assert.Equal("e1", add.Inputs[0]!.Name);
        Assert.Equal(["y"], g.OutputNames());
    }

    [Fact]
    public void ComparesAttributesDeeplyButIgnoresTheirOrder()
    {
        var g = new Graph("g");
        var x = g.Input("x", 2, 2);
        var w = g.Init("w", [1, 2, 3, 4], 2, 2);
        var s0 = g.Op("Softmax", "s0", [x], Attribute.Int("axis", 0));
        var s1 = g.Op("Softmax", "s1", [x], Attribute.Int("axis", 1));
        var g1 = g.Op("Gemm", "g1", [x, w], Attribute.Float("alpha", 2f), Attribute.Int("transB", 1));
        var g2 = g.Op("Gemm", "g2", [x, w], Attribute.Int("transB", 1), Attribute.Float("alpha", 2f));
        var m1 = g.Op("LeakyRelu", "m1", [x], Attribute.Float("alpha", 0f));
        var m2 = g.Op("LeakyRelu", "m2", [x], Attribute.Float("alpha", -0f));
        g.Outputs.Add(g.Op("Sum", "y", [s0, s1, g1, g2, m1, m2]));

        var changes = new CommonSubexpressionElimination().Run(g.ToModel());

        Assert.Equal(1, changes);
        Assert.Equal(["s0", "s1", "g1", "m1", "m2", "y"], g.Nodes.Select(n => n.Outputs[0]!.Name));
    }

    [Fact]
    public void MergesConstantsWithEqualTensorContent()
    {
        var g = new Graph("g");
        var x = g.Input("x", 2);
        var c1 = g.Op("Constant", "c1", [], Attribute.FromTensor("value", Tensor.FromArray(new float[] { 1, 2 }, [2], "t1")));
        var c2 = g.Op("Constant", "c2", [], Attribute.FromTensor("value", Tensor.FromArray(new float[] { 1, 2 }, [2], "t2")));
        var c3 = g.Op("Constant", "c3", [], Attribute.FromTensor("value", Tensor.FromArray(new float[] { 1, 3 }, [2], "t3")));
        g.Outputs.Add(g.Op("Sum", "y", [x, c1, c2, c3]));

        Assert.Equal(1, new CommonSubexpressionElimination().Run(g.ToModel()));
        Assert.Equal(["c1", "c3", "y"], g.Nodes.Select(n => n.Outputs[0]!.Name));
    }

    [Theory]
    [InlineData("RandomNormalLike")]
    [InlineData("RandomUniformLike")]
    [InlineData("Bernoulli")]
    [InlineData("Dropout")]
    public void NeverMergesRandomOrTrainingOps(string opType)
    {
        var g = new Graph("g");
        var x = g.Input("x", 2);
        var a = g.Op(opType, "a", [x]);
        var b = g.Op(opType, "b", [x]);
        g.Outputs.Add(g.Op("Add", "y", [a, b]));

        Assert.Equal(0, new CommonSubexpressionElimination().Run(g.ToModel()));
        Assert.Equal(3, g.Nodes.Count);
    }

    [Fact]
    public void NeverMergesNodesWithSubgraphsOrUnknownDomains()
    {
        var g = new Graph("g");
        var x = g.Input("x", 2);
        var cond = g.AddInput("cond", new TensorType(ElementType.Bool, Shape.Scalar));
        Value If(string name)
        {
            var t = new Graph("t");
            t.Outputs.Add(t.Op("Relu", name + "_t", [x]));
            var e = new Graph("e");
            e.Outputs.Add(e.Op("Neg", name + "_e", [x]));
            return g.Append(new Node("", "If", [cond], [name], [Attribute.FromGraph("then_branch", t), Attribute.FromGraph("else_branch", e)])).Output;
        }
        var i1 = If("i1");
        var i2 = If("i2");
        var u1 = g.Append(new Node("com.example", "Noise", [x], ["u1"])).Output;
        var u2 = g.Append(new Node("com.example", "Noise", [x], ["u2"])).Output;
        g.Outputs.Add(g.Op("Sum", "y", [i1, i2, u1, u2]));

        Assert.Equal(0, new CommonSubexpressionElimination().Run(g.ToModel()));
        Assert.Equal(5, g.Nodes.Count);
    }

    [Fact]
    public void MergesCallsOfAPureLocalFunctionOnly()
    {
        var pure = new Graph("pure");
        pure.Outputs.Add(pure.Op("Relu", "r", [pure.AddInput("a", null)]));
        var noisy = new Graph("noisy");
        noisy.Outputs.Add(noisy.Op("RandomNormalLike", "n", [noisy.AddInput("a", null)]));
        var g = new Graph("g");
        var x = g.Input("x", 2);
        var calls = new[] { "Pure", "Pure", "Noisy", "Noisy" }
            .Select((f, i) => g.Append(new Node("local", f, [x], ["c" + i])).Output).ToArray();
        g.Outputs.Add(g.Op("Sum", "y", calls));
        var model = g.ToModel();
        model.SetOpsetVersion("local", 1);
        model.Functions.Add(new Function("local", "Pure", pure));
        model.Functions.Add(new Function("local", "Noisy", noisy));

        Assert.Equal(1, new CommonSubexpressionElimination().Run(model));
        Assert.Equal(["c0", "c2", "c3", "y"], g.Nodes.Select(n => n.Outputs[0]!.Name));
    }

    [Fact]
    public void AMergedAwayGraphOutputKeepsItsNameAndType()
    {
        var g = new Graph("g");
        var x = g.Input("x", 2);
        var inner = g.Op("Relu", "inner", [x]);
        var output = g.Op("Relu", "out", [x]);
        output.Type = new TensorType(ElementType.Float, new Shape([Dim.Named("n")]));
        g.Outputs.Add(g.Op("Exp", "first", [inner]));
        g.Outputs.Add(output);
        var declared = output.Type;

        Assert.Equal(1, new CommonSubexpressionElimination().Run(g.ToModel()));

        Assert.Equal(["first", "out"], g.OutputNames());
        Assert.Equal(declared, g.Outputs[1].Type);
        Assert.Equal(["out", "first"], g.Nodes.Select(n => n.Outputs[0]!.Name));
        Assert.Same(g.Outputs[1], g.NodeProducing("first").Inputs[0]);
    }

    [Fact]
    public void TwoGraphOutputsWithEqualComputationStaySeparate()
    {
        var g = new Graph("g");
        var x = g.Input("x", 2);
        g.Outputs.Add(g.Op("Relu", "out1", [x]));
        g.Outputs.Add(g.Op("Relu", "out2", [x]));

        Assert.Equal(0, new CommonSubexpressionElimination().Run(g.ToModel()));
        Assert.Equal(["out1", "out2"], g.OutputNames());
        Assert.Equal(2, g.Nodes.Count);
    }

    [Fact]
    public void MergesEqualInitializersButNotOverridableOnes()
    {
        var g = new Graph("g");
        var x = g.Input("x", 2);
        var w1 = g.Init("w1", [1, 2]);
        var w2 = g.Init("w2", [1, 2]);
        var w3 = g.Init("w3", [1, 2]);
        g.AddInput(w3);
        var d = g.AddInitializer(Tensor.FromArray(new double[] { 1, 2 }, [2], "d"));
        var a1 = g.Op("Add", "a1", [x, w1]);
        var a2 = g.Op("Add", "a2", [x, w2]);
        var a3 = g.Op("Add", "a3", [x, w3]);
        g.Outputs.Add(g.Op("Sum", "y", [a1, a2, a3, g.Op("Cast", "dc", [d], Attribute.Int("to", 1))]));

        // w2 merges into w1, then a2 into a1; w3 is a graph input and stays.
        Assert.Equal(2, new CommonSubexpressionElimination().Run(g.ToModel()));
        Assert.Equal(["w1", "w3", "d"], g.Initializers.Select(v => v.Name));
        Assert.Equal(["a1", "a3", "dc", "y"], g.Nodes.Select(n => n.Outputs[0]!.Name));
    }
}
