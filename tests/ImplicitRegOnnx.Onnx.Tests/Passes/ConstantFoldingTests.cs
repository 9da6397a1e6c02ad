using ImplicitRegOnnx.Onnx.Passes;
using ImplicitRegOnnx.Runtime;
using ImplicitRegOnnx.Runtime.Training;

namespace ImplicitRegOnnx.Onnx.Tests.Passes;

/// <summary>Constant folding with ONNX Runtime as the evaluator (what the CLI and <c>Trainer</c> use).</summary>
public class ConstantFoldingTests
{
    private static ConstantFolding Folding() => new(OrtConstantEvaluator.Instance);

    [Fact]
    public void ConstantNodesBecomeInitializers()
    {
        var g = new Graph("g");
        var x = g.Input("x", 3);
        var c = g.Op("Constant", "c", [], Attribute.Ints("value_ints", [1, 2, 3]));
        var f = g.Op("Constant", "f", [], Attribute.Float("value_float", 0.5f));
        g.Outputs.Add(g.Op("Sum", "y", [x, g.Op("Cast", "cf", [c], Attribute.Int("to", 1)), f]));
        var sum = g.NodeProducing("y");

        var changes = Folding().Run(g.ToModel());

        Assert.Equal(3, changes); // two Constant nodes, then Cast of a constant
        Assert.Equal(["Sum"], g.OpTypes());
        Assert.Equal(new float[] { 1, 2, 3 }, sum.Inputs[1]!.Initializer!.ToArray<float>());
        Assert.Equal("cf", sum.Inputs[1]!.Name);
        Assert.Equal([], f.Initializer!.Dims);
        Assert.Equal(0.5f, f.Initializer!.ToArray<float>()[0]);
        Assert.Same(g, f.Graph);
    }

    [Fact]
    public void FoldsAConstantChainInOneBatchAndKeepsTheRest()
    {
        var g = new Graph("g");
        var x = g.Input("x", 2);
        var a = g.Init("a", [1, 2]);
        var b = g.Init("b", [10, 20]);
        var sum = g.Op("Add", "sum", [a, b]);
        var product = g.Op("Mul", "product", [sum, a]);
        g.Outputs.Add(g.Op("Add", "y", [x, product]));

        var changes = Folding().Run(g.ToModel());

        Assert.Equal(2, changes);
        Assert.Equal(["y_node"], g.Nodes.Select(n => n.Name));
        var folded = g.NodeProducing("y").Inputs[1]!;
        Assert.Equal("product", folded.Name);
        Assert.Equal(new float[] { 11, 44 }, folded.Initializer!.ToArray<float>());
        Assert.Equal(new TensorType(ElementType.Float, new Shape(2)), folded.Type);
        Assert.Null(folded.Producer);
        Assert.Equal(["y"], g.OutputNames());
    }

    [Fact]
    public void LeavesOverridableInitializersGraphOutputsAndRandomOpsAlone()
    {
        var g = new Graph("g");
        var w = g.Init("w", [1, 2]);
        g.AddInput(w); // an initializer that is also an input is only a default
        var c = g.Init("c", [3, 4]);
        var fromInput = g.Op("Neg", "from_input", [w]);
        var random = g.Op("RandomUniformLike", "random", [c]);
        var dropout = g.Op("Dropout", "dropout", [c]);
        g.Outputs.Add(g.Op("Sum", "y", [fromInput, random, dropout]));
        g.Outputs.Add(g.Op("Exp", "exp_is_output", [c]));

        Assert.Equal(0, Folding().Run(g.ToModel()));
        Assert.Equal(["Neg", "RandomUniformLike", "Dropout", "Sum", "Exp"], g.OpTypes());
    }

    [Fact]
    public void SkipsResultsMuchLargerThanTheirInputs()
    {
        var g = new Graph("g");
        var x = g.Input("x", 3);
        var bigShape = g.AddInitializer(Tensor.FromArray(new long[] { 2000, 1000 }, [2], "big_shape"));
        var smallShape = g.AddInitializer(Tensor.FromArray(new long[] { 3 }, [1], "small_shape"));
        var big = g.Op("ConstantOfShape", "big", [bigShape]);
        var small = g.Op("ConstantOfShape", "small", [smallShape], Attribute.FromTensor("value", Tensor.FromArray(new float[] { 7 }, [1])));
        var reduced = g.Op("ReduceSum", "reduced", [big]);
        g.Outputs.Add(g.Op("Add", "y", [x, small]));
        g.Outputs.Add(g.Op("Identity", "z", [reduced]));

        Assert.Equal(1, Folding().Run(g.ToModel()));
        Assert.Equal(["ConstantOfShape", "ReduceSum", "Add", "Identity"], g.OpTypes());
        Assert.Equal(new float[] { 7, 7, 7 }, small.Initializer!.ToArray<float>());
        Assert.Null(big.Initializer);
    }

    [Fact]
    public void ShapeOfAStaticGraphInputFoldsAndADynamicOneDoesNot()
    {
        var g = new Graph("g");
        var fixedInput = g.Input("fixed", 4, 5, 6);
        var dynamic = g.AddInput("dynamic", new TensorType(ElementType.Float, new Shape([Dim.Named("n"), Dim.Of(5)])));
        var s = g.Op("Shape", "s", [fixedInput], Attribute.Int("start", 1));
        var n = g.Op("Size", "n", [fixedInput]);
        var d = g.Op("Shape", "d", [dynamic]);
        g.Outputs.Add(g.Op("Concat", "y", [s, g.Op("Unsqueeze", "n1", [n, g.AddInitializer(Tensor.FromArray(new long[] { 0 }, [1], "axes"))]), d], Attribute.Int("axis", 0)));

        var changes = Folding().Run(g.ToModel(opset: 17));

        Assert.Equal(3, changes); // Shape, Size, then the Unsqueeze of the folded size
        Assert.Equal(["Shape", "Concat"], g.OpTypes());
        Assert.Equal(new long[] { 5, 6 }, s.Initializer!.ToArray<long>());
        Assert.Equal(new long[] { 120 }, g.NodeProducing("y").Inputs[1]!.Initializer!.ToArray<long>());
    }

    [Fact]
    public void DoesNotFoldAcrossSubgraphBoundariesButFoldsConstantsInside()
    {
        var g = new Graph("g");
        var cond = g.AddInput("cond", new TensorType(ElementType.Bool, Shape.Scalar));
        var w = g.Init("w", [1, 2]);
        var thenBranch = new Graph("then");
        thenBranch.Outputs.Add(thenBranch.Op("Neg", "then_out", [w]));
        var elseBranch = new Graph("else");
        var k = elseBranch.Op("Constant", "k", [], Attribute.Floats("value_floats", [5, 6]));
        elseBranch.Outputs.Add(elseBranch.Op("Relu", "else_out", [k]));
        g.Outputs.Add(g.Append(new Node("", "If", [cond], ["y"], [Attribute.FromGraph("then_branch", thenBranch), Attribute.FromGraph("else_branch", elseBranch)])).Output);

        var changes = Folding().Run(g.ToModel());

        // Only the Constant becomes an initializer of the else branch; Relu's output is the branch output.
        Assert.Equal(1, changes);
        Assert.Equal(["Neg"], thenBranch.OpTypes());
        Assert.Equal(["Relu"], elseBranch.OpTypes());
        Assert.Equal(["k"], elseBranch.Initializers.Select(v => v.Name));
        Assert.Equal(["w"], g.Initializers.Select(v => v.Name));
    }

    [Fact]
    public void ANodeTheRuntimeRejectsStaysWhileOthersFold()
    {
        var g = new Graph("g");
        var x = g.Input("x", 2);
        var a = g.Init("a", [1, 2]);
        var bad = g.Op("NoSuchOperator", "bad", [a]);
        var good = g.Op("Neg", "good", [a]);
        var after = g.Op("Exp", "after_bad", [bad]);
        g.Outputs.Add(g.Op("Sum", "y", [x, good, after]));

        var changes = Folding().Run(g.ToModel());

        Assert.Equal(1, changes);
        Assert.Equal(["NoSuchOperator", "Exp", "Sum"], g.OpTypes());
        Assert.Equal(new float[] { -1, -2 }, good.Initializer!.ToArray<float>());
    }

    [Fact]
    public void FoldsIntegerAndBoolResults()
    {
        var g = new Graph("g");
        var x = g.AddInput("x", new TensorType(ElementType.Int64, new Shape(3)));
        var a = g.AddInitializer(Tensor.FromArray(new long[] { 1, 5, 3 }, [3], "a"));
        var b = g.AddInitializer(Tensor.FromArray(new long[] { 2, 2, 2 }, [3], "b"));
        var greater = g.Op("Greater", "greater", [a, b]);
        var where = g.Op("Where", "where", [greater, a, b]);
        g.Outputs.Add(g.Op("Add", "y", [x, where]));

        Assert.Equal(2, Folding().Run(g.ToModel()));
        Assert.Equal(new long[] { 2, 5, 3 }, where.Initializer!.ToArray<long>());
        Assert.Equal(["Add"], g.OpTypes());
    }

    [Fact]
    public void LeavesIrVersion3ModelsAloneBecauseTheirInitializersMustBeInputs()
    {
        var g = new Graph("g");
        var x = g.Input("x", 2);
        var c = g.Op("Constant", "c", [], Attribute.Floats("value_floats", [1, 2]));
        g.Outputs.Add(g.Op("Add", "y", [x, c]));
        var model = g.ToModel(opset: 8);
        model.IrVersion = 3;

        Assert.Equal(0, Folding().Run(model));
        Assert.Equal(["Constant", "Add"], g.OpTypes());
    }
}
