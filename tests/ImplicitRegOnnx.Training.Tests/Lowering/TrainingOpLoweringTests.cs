using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Runtime.Verification;
using ImplicitRegOnnx.Training.Lowering;
using Attribute = ImplicitRegOnnx.Onnx.Attribute;

namespace ImplicitRegOnnx.Training.Tests.Lowering;

/// <summary>Gradient cases the backend tests do not cover, and the errors of the lowering.</summary>
public class TrainingOpLoweringTests
{
    private const string Training = TrainingOpLowering.Domain;

    private static (Model Model, Graph Graph) NewModel(params string[] scalarInputs)
    {
        var graph = new Graph("g");
        foreach (var name in scalarInputs)
        {
            graph.AddInput(name, new TensorType(ElementType.Float, new Shape(3)));
        }
        var model = new Model(graph) { IrVersion = 8 };
        model.Opsets.Add(new OpsetId("", 17));
        model.Opsets.Add(new OpsetId(Training, 1));
        return (model, graph);
    }

    private static Dictionary<string, double[]> Run(Model model, params (string Name, float[] Values)[] feeds)
    {
        using var runner = ModelRunner.FromBytes(model.ToBytes());
        return runner.Run([.. feeds.Select(f => Tensor.FromArray(f.Values, [f.Values.Length], f.Name))])
            .ToDictionary(o => o.Name, o => o.Tensor!.ToDoubles(), StringComparer.Ordinal);
    }

    private static Node Gradient(Graph graph, Value[] inputs, string output, string[] xs, string y, string[]? zs = null)
    {
        var attributes = new List<Attribute> { Attribute.Strings("xs", xs), Attribute.String("y", y) };
        if (zs is not null)
        {
            attributes.Add(Attribute.Strings("zs", zs));
        }
        return graph.Append(new Node(Training, "Gradient", inputs, [output], attributes, output + "_node"));
    }

    [Fact]
    public void GradientAtOtherPointsCopiesTheForwardComputation()
    {
        // c = a·a + b; Gradient(xs=[a], zs=[b], y=c) fed (p, b): ∂c/∂a at a = p is 2p, whatever a is.
        var (model, graph) = NewModel("a", "b", "p");
        var square = graph.Append(new Node("", "Mul", [graph.Inputs[0], graph.Inputs[0]], ["sq"]));
        var c = graph.Append(new Node("", "Add", [square.Output, graph.Inputs[1]], ["c"]));
        var grad = Gradient(graph, [graph.Inputs[2], graph.Inputs[1]], "dc_da", ["a"], "c", ["b"]);
        graph.Outputs.Add(c.Output);
        graph.Outputs.Add(grad.Output);

        TrainingOpLowering.Lower(model);
        var result = Run(model, ("a", [1, 2, 3]), ("b", [0, 0, 0]), ("p", [5, -1, 0.25f]));

        // 2p is exact in float32 (the backward of Mul adds p·1 twice).
        Assert.Equal([10, -2, 0.5], result["dc_da"]);
        Assert.Equal([1, 4, 9], result["c"]);
    }

    [Fact]
    public void ASecondGradientOfTheFirstGivesTheSecondDerivative()
    {
        // d = a³; first = ∂d/∂a = 3a²; second = ∂first/∂a = 6a (the spec's higher-order example).
        var (model, graph) = NewModel("a");
        var a = graph.Inputs[0];
        var square = graph.Append(new Node("", "Mul", [a, a], ["sq"]));
        var cube = graph.Append(new Node("", "Mul", [square.Output, a], ["d"]));
        var first = Gradient(graph, [a], "first", ["a"], "d");
        var second = Gradient(graph, [a], "second", ["a"], "first");
        graph.Outputs.Add(first.Output);
        graph.Outputs.Add(second.Output);
        _ = cube;

        var report = TrainingOpLowering.Lower(model);
        Assert.Equal(2, report.Lowered["Gradient"]);
        var result = Run(model, ("a", [1, -2, 0.5f]));

        // Small integers and halves: every intermediate is exact in float32.
        Assert.Equal([3, 12, 0.75], result["first"]);
        Assert.Equal([6, -12, 3], result["second"]);
    }

    [Fact]
    public void AGradientWithRespectToAnIntermediateTensorTreatsItAsIndependent()
    {
        // The spec's example Gradient(xs=["H", "Z"], y="Y"): h = a·a, y = h·b; ∂y/∂h = b, ∂y/∂b = h.
        var (model, graph) = NewModel("a", "b");
        var h = graph.Append(new Node("", "Mul", [graph.Inputs[0], graph.Inputs[0]], ["h"]));
        var y = graph.Append(new Node("", "Mul", [h.Output, graph.Inputs[1]], ["y"]));
        var grad = graph.Append(new Node(Training, "Gradient", [h.Output, graph.Inputs[1]], ["dy_dh", "dy_db"],
            [Attribute.Strings("xs", ["h", "b"]), Attribute.String("y", "y")], "grad"));
        graph.Outputs.Add(grad.Outputs[0]!);
        graph.Outputs.Add(grad.Outputs[1]!);
        _ = y;

        TrainingOpLowering.Lower(model);
        var result = Run(model, ("a", [1, 2, 3]), ("b", [4, 5, 6]));

        Assert.Equal([4, 5, 6], result["dy_dh"]);
        Assert.Equal([1, 4, 9], result["dy_db"]);
    }

    [Fact]
    public void AGradientOfAnUnrelatedTensorIsZeros()
    {
        var (model, graph) = NewModel("a", "b");
        var c = graph.Append(new Node("", "Neg", [graph.Inputs[1]], ["c"]));
        var grad = Gradient(graph, [graph.Inputs[0]], "dc_da", ["a"], "c");
        graph.Outputs.Add(grad.Output);
        _ = c;

        TrainingOpLowering.Lower(model);
        Assert.Equal([0, 0, 0], Run(model, ("a", [1, 2, 3]), ("b", [4, 5, 6]))["dc_da"]);
    }

    public static TheoryData<string, Attribute[], string> BadOptimizers() => new()
    {
        { "Momentum", [Attribute.Float("alpha", 0.9f), Attribute.Float("beta", 1), Attribute.String("mode", "heavy"), Attribute.Float("norm_coefficient", 0)], "mode 'heavy'" },
        { "Momentum", [Attribute.Float("alpha", 0.9f), Attribute.Float("beta", 1), Attribute.String("mode", "standard")], "'norm_coefficient' is missing" },
        { "Adagrad", [Attribute.Float("learning_rate", 0.1f)], "unsupported attribute 'learning_rate'" },
        { "Momentum", [Attribute.Int("alpha", 1), Attribute.Float("beta", 1), Attribute.String("mode", "standard"), Attribute.Float("norm_coefficient", 0)], "attribute 'alpha' must be a float" },
        { "Rprop", [], "no such op" },
    };

    [Theory]
    [MemberData(nameof(BadOptimizers))]
    public void AnOptimizerThatCannotBeLoweredIsAnErrorNamingTheNode(string op, Attribute[] attributes, string message)
    {
        var graph = new Graph("g");
        var r = graph.AddInput("R", new TensorType(ElementType.Float, Shape.Scalar));
        var t = graph.AddInput("T", new TensorType(ElementType.Int64, Shape.Scalar));
        var x = graph.AddInput("X", new TensorType(ElementType.Float, new Shape(2)));
        var g = graph.AddInput("G", new TensorType(ElementType.Float, new Shape(2)));
        var v = graph.AddInput("V", new TensorType(ElementType.Float, new Shape(2)));
        var node = graph.Append(new Node(Training, op, [r, t, x, g, v], ["X_new", "V_new"], attributes, "the_optimizer"));
        graph.Outputs.Add(node.Output);
        var model = new Model(graph);
        model.Opsets.Add(new OpsetId(Training, 1));

        var error = Assert.Throws<ImplicitRegException>(() => TrainingOpLowering.Lower(model));
        Assert.StartsWith($"node 'the_optimizer' ({op}): ", error.Message, StringComparison.Ordinal);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnOptimizerWithGroupsOfUnequalSizeIsAnError()
    {
        var graph = new Graph("g");
        var inputs = new[] { "R", "T", "X1", "X2" }.Select(n => graph.AddInput(n, new TensorType(ElementType.Float, Shape.Scalar))).ToArray();
        var node = graph.Append(new Node(Training, "Adagrad", inputs, ["X1_new"], [], "adagrad"));
        graph.Outputs.Add(node.Output);
        var model = new Model(graph);
        model.Opsets.Add(new OpsetId(Training, 1));

        var error = Assert.Throws<ImplicitRegException>(() => TrainingOpLowering.Lower(model));
        Assert.Contains("3 equal groups", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AGradientNamingAnUnknownTensorIsAnError()
    {
        var (model, graph) = NewModel("a");
        var grad = Gradient(graph, [graph.Inputs[0]], "g", ["a"], "nowhere");
        graph.Outputs.Add(grad.Output);

        var error = Assert.Throws<ImplicitRegException>(() => TrainingOpLowering.Lower(model));
        Assert.Equal("node 'g_node' (Gradient): names 'nowhere', which no tensor of the graph is called", error.Message);
    }

    [Fact]
    public void AGradientThroughAnOpWithoutRuleIsAnErrorNamingBothNodes()
    {
        var (model, graph) = NewModel("a");
        var det = graph.Append(new Node("", "Det", [graph.Inputs[0]], ["r"], null, "determinant"));
        var grad = Gradient(graph, [graph.Inputs[0]], "g", ["a"], "r");
        graph.Outputs.Add(grad.Output);
        _ = det;

        var error = Assert.Throws<ImplicitRegException>(() => TrainingOpLowering.Lower(model));
        Assert.StartsWith("node 'g_node' (Gradient): no gradient rule for Det (node 'determinant')", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AGradientFedAPointOfAnotherShapeNamesTheBindingAndBothShapes()
    {
        // c = a·a + b with a, b of shape [3]; the node takes the gradient at p of shape [4]: the copy of
        // the forward computation would add [4] to [3], which does not broadcast.
        var (model, graph) = NewModel("a", "b");
        var p = graph.AddInput("p", new TensorType(ElementType.Float, new Shape(4)));
        var square = graph.Append(new Node("", "Mul", [graph.Inputs[0], graph.Inputs[0]], ["sq"]));
        var c = graph.Append(new Node("", "Add", [square.Output, graph.Inputs[1]], ["c"]));
        var grad = Gradient(graph, [p, graph.Inputs[1]], "dc_da", ["a"], "c", ["b"]);
        graph.Outputs.Add(grad.Output);
        _ = c;

        var error = Assert.Throws<ImplicitRegException>(() => TrainingOpLowering.Lower(model));
        Assert.Equal("node 'dc_da_node' (Gradient): input 0 'p' (float[4]) is bound to 'a' of xs (float[3]) and their shapes clash: "
            + "dim 0 is 4 against 3; feed the point at which to take the gradient with the type of 'a'", error.Message);
    }

    [Fact]
    public void AGradientFedAZsPointOfAnotherRankNamesTheBinding()
    {
        var (model, graph) = NewModel("a", "b");
        var q = graph.AddInput("q", new TensorType(ElementType.Float, new Shape(2, 3)));
        var product = graph.Append(new Node("", "Mul", [graph.Inputs[0], graph.Inputs[1]], ["c"]));
        var grad = Gradient(graph, [graph.Inputs[0], q], "dc_da", ["a"], "c", ["b"]);
        graph.Outputs.Add(grad.Output);
        _ = product;

        var error = Assert.Throws<ImplicitRegException>(() => TrainingOpLowering.Lower(model));
        Assert.Equal("node 'dc_da_node' (Gradient): input 1 'q' (float[2,3]) is bound to 'b' of zs (float[3]) and their shapes clash: "
            + "rank 2 against 1; feed the point at which to take the gradient with the type of 'b'", error.Message);
    }

    [Fact]
    public void AGradientFailingAtAPointOfUnknownShapeNamesTheBinding()
    {
        // The same computation taken at p of unknown rank: nothing clashes before the copy, but the
        // backward pass cannot sum a gradient of unknown rank; the error says which binding to look at.
        var (model, graph) = NewModel("a", "b");
        var p = graph.AddInput("p", new TensorType(ElementType.Float, null));
        var square = graph.Append(new Node("", "Mul", [graph.Inputs[0], graph.Inputs[0]], ["sq"]));
        var c = graph.Append(new Node("", "Add", [square.Output, graph.Inputs[1]], ["c"]));
        var grad = Gradient(graph, [p, graph.Inputs[1]], "dc_da", ["a"], "c", ["b"]);
        graph.Outputs.Add(grad.Output);
        _ = c;

        var error = Assert.Throws<ImplicitRegException>(() => TrainingOpLowering.Lower(model));
        Assert.StartsWith("node 'dc_da_node' (Gradient): ", error.Message, StringComparison.Ordinal);
        Assert.EndsWith("(the gradient is taken at points whose shapes may not fit the named tensors: "
            + "input 0 'p' (float, rank unknown) is bound to 'a' of xs (float[3]))", error.Message, StringComparison.Ordinal);
    }
}
