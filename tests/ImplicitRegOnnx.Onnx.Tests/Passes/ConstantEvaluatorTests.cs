using ImplicitRegOnnx.Onnx.Passes;

namespace ImplicitRegOnnx.Onnx.Tests.Passes;

/// <summary>
/// Constant folding through the <see cref="IConstantEvaluator"/> contract alone: a managed evaluator
/// that knows Neg and Add over float tensors (no ONNX Runtime anywhere), and no evaluator at all.
/// </summary>
public class ConstantEvaluatorTests
{
    /// <summary>Evaluates Neg and Add of float tensors of equal shape; any other op fails the whole call.</summary>
    private sealed class NegAddEvaluator : IConstantEvaluator
    {
        public List<Model> Calls { get; } = [];

        /// <summary>Outputs this evaluator declines to give (null entries) though the call succeeds.</summary>
        public HashSet<string> Withheld { get; } = new(StringComparer.Ordinal);

        public IReadOnlyList<Tensor?>? Evaluate(Model model)
        {
            Calls.Add(model);
            Assert.Empty(model.Graph.Inputs);
            var values = model.Graph.Initializers.ToDictionary(v => v, v => v.Initializer!.ToArray<float>());
            foreach (var node in model.Graph.Nodes)
            {
                var a = values[node.Inputs[0]!];
                float[] result;
                switch (node.OpType)
                {
                    case "Neg":
                        result = Array.ConvertAll(a, v => -v);
                        break;
                    case "Add":
                        var b = values[node.Inputs[1]!];
                        result = [.. a.Zip(b, (p, q) => p + q)];
                        break;
                    default:
                        return null;
                }
                values[node.Output] = result;
            }
            return [.. model.Graph.Outputs.Select(o => Withheld.Contains(o.Name)
                ? null
                : Tensor.FromArray(values[o], [values[o].Length], o.Name))];
        }
    }

    [Fact]
    public void AnEvaluatorFoldsConstantSubgraphsInOneCall()
    {
        var g = new Graph("g");
        var x = g.Input("x", 2);
        var a = g.Init("a", [1, 2]);
        var negated = g.Op("Neg", "negated", [a]);
        var sum = g.Op("Add", "sum", [negated, a]);
        var twice = g.Op("Add", "twice", [negated, negated]);
        g.Outputs.Add(g.Op("Add", "y", [x, g.Op("Add", "z", [sum, twice])]));
        var evaluator = new NegAddEvaluator();

        var changes = new ConstantFolding(evaluator).Run(g.ToModel());

        Assert.Equal(4, changes);
        Assert.Equal(["Add"], g.OpTypes());
        Assert.Equal(new float[] { -2, -4 }, g.NodeProducing("y").Inputs[1]!.Initializer!.ToArray<float>());
        // The evaluator saw one model: the constants as initializers, the four nodes, their outputs.
        var call = Assert.Single(evaluator.Calls);
        Assert.Equal(["a"], call.Graph.Initializers.Select(v => v.Name));
        Assert.Equal(["Neg", "Add", "Add", "Add"], call.Graph.OpTypes());
        Assert.Equal(17, call.OpsetVersion(""));
    }

    [Fact]
    public void WhenTheWholeCallFailsEachNodeIsTriedAloneAndTheFailingOneStays()
    {
        var g = new Graph("g");
        var x = g.Input("x", 2);
        var a = g.Init("a", [1, 2]);
        var good = g.Op("Neg", "good", [a]);
        var bad = g.Op("Exp", "bad", [a]);
        g.Outputs.Add(g.Op("Sum", "y", [x, good, bad]));
        var evaluator = new NegAddEvaluator();

        var changes = new ConstantFolding(evaluator).Run(g.ToModel());

        Assert.Equal(1, changes);
        Assert.Equal(["Exp", "Sum"], g.OpTypes());
        Assert.Equal(new float[] { -1, -2 }, good.Initializer!.ToArray<float>());
        Assert.Null(bad.Initializer);
        // The batch of both, then each node alone; Exp, blocked, is not offered again.
        Assert.Equal([2, 1, 1], evaluator.Calls.Select(c => c.Graph.Nodes.Count));
    }

    [Fact]
    public void AnOutputTheEvaluatorDoesNotGiveKeepsItsNode()
    {
        var g = new Graph("g");
        var x = g.Input("x", 2);
        var a = g.Init("a", [1, 2]);
        var kept = g.Op("Neg", "kept", [a]);
        var folded = g.Op("Add", "folded", [a, a]);
        g.Outputs.Add(g.Op("Sum", "y", [x, kept, folded]));
        var evaluator = new NegAddEvaluator { Withheld = { "kept" } };

        Assert.Equal(1, new ConstantFolding(evaluator).Run(g.ToModel()));
        Assert.Equal(["Neg", "Sum"], g.OpTypes());
        Assert.Equal(new float[] { 2, 4 }, folded.Initializer!.ToArray<float>());
    }

    [Fact]
    public void WithoutAnEvaluatorOnlyWhatNeedsNoEvaluationFolds()
    {
        var g = new Graph("g");
        var x = g.Input("x", 4, 5);
        var c = g.Op("Constant", "c", [], Attribute.Floats("value_floats", [1, 2]));
        var negated = g.Op("Neg", "negated", [c]);
        var shape = g.Op("Shape", "shape", [x]);
        g.Outputs.Add(g.Op("Add", "y", [negated, negated]));
        g.Outputs.Add(g.Op("Identity", "s", [shape]));

        var changes = new ConstantFolding().Run(g.ToModel());
        Assert.Null(new ConstantFolding().Evaluator);

        Assert.Equal(2, changes);
        Assert.Equal(["Neg", "Add", "Identity"], g.OpTypes());
        Assert.Equal(new float[] { 1, 2 }, c.Initializer!.ToArray<float>());
        Assert.Equal(new long[] { 4, 5 }, shape.Initializer!.ToArray<long>());
    }

    [Fact]
    public void TheOptimizerPassesItsEvaluatorToConstantFolding()
    {
        var g = new Graph("g");
        var x = g.Input("x", 2);
        var a = g.Init("a", [1, 2]);
        g.Outputs.Add(g.Op("Add", "y", [x, g.Op("Neg", "negated", [a])]));
        var model = g.ToModel();

        Assert.Equal(0, ModelOptimizer.Optimize(g.ToModel()).ChangesByPass.Single(p => p.Pass == "constant-folding").Changes);
        var report = ModelOptimizer.Optimize(model, new NegAddEvaluator());
        Assert.Equal(1, report.ChangesByPass.Single(p => p.Pass == "constant-folding").Changes);
        Assert.Equal(["Add"], model.Graph.OpTypes());
    }
}
