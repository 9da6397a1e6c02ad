using ImplicitRegOnnx.Autodiff.Tests.GradCheck;
using ImplicitRegOnnx.Onnx.Building;

namespace ImplicitRegOnnx.Autodiff.Tests;

/// <summary>
/// Gradient rules registered by a user for operators of their own domain. ONNX Runtime runs the custom
/// ops through model-local functions of the same domain and name (ONNX IR spec, "Functions"), so the
/// derivatives are checked against central differences like every built-in rule, at order 1 and 2.
/// </summary>
public class CustomRuleTests
{
    private const string Domain = "test.custom_rules";

    /// <summary>Rules are process-wide and cannot be replaced: register once for all tests of this class.</summary>
    private static readonly Lazy<bool> Registered = new(() =>
    {
        GradientRules.Register(Domain, "SoftClip", SoftClipRule);
        GradientRules.Register(Domain, "OpaqueSoftClip", OpaqueSoftClipRule);
        return true;
    });

    /// <summary>
    /// SoftClip(x) = x / √(1 + x²), so dy/dx = (1 + x²)^(−3/2) = r³ with r = 1/√(1 + x²): emitted in
    /// ai.onnx ops that have rules, so the gradient can be differentiated again.
    /// </summary>
    private static void SoftClipRule(GradientContext c)
    {
        var x = c.X();
        var r = c.B.Op("Reciprocal", [c.B.Op("Sqrt", [c.B.Add(c.Scalar(1, x), c.B.Mul(x, x))])]);
        c.SetGrad(0, c.B.Mul(c.Dy, c.B.Mul(r, c.B.Mul(r, r))));
    }

    /// <summary>The same function, whose rule emits a custom gradient op that has no rule of its own.</summary>
    private static void OpaqueSoftClipRule(GradientContext c) =>
        c.SetGrad(0, c.B.AppendNode(Domain, "SoftClipGrad", [c.X(), c.Dy], 1).Output);

    /// <summary>The model-local functions: SoftClip (and OpaqueSoftClip) and SoftClipGrad(x, dy) = dy·(1 + x²)^(−3/2).</summary>
    private static void AddFunctions(Model model)
    {
        model.Opsets.Add(new OpsetId(Domain, 1));
        model.Functions.Add(SoftClipFunction("SoftClip"));
        model.Functions.Add(SoftClipFunction("OpaqueSoftClip"));

        var grad = new Graph("SoftClipGrad");
        var x = grad.AddInput("x", null);
        var dy = grad.AddInput("dy", null);
        var s = OnePlusSquare(grad, x);
        var exponent = grad.Append(new Node("", "CastLike", [Constant(grad, "minus_three_halves", -1.5f), x], ["exponent"])).Output;
        var power = grad.Append(new Node("", "Pow", [s, exponent], ["power"])).Output;
        grad.Outputs.Add(grad.Append(new Node("", "Mul", [dy, power], ["dx"])).Output);
        model.Functions.Add(Function("SoftClipGrad", grad));
    }

    private static Function SoftClipFunction(string name)
    {
        var body = new Graph(name);
        var x = body.AddInput("x", null);
        var root = body.Append(new Node("", "Sqrt", [OnePlusSquare(body, x)], ["root"])).Output;
        body.Outputs.Add(body.Append(new Node("", "Div", [x, root], ["y"])).Output);
        return Function(name, body);
    }

    private static Function Function(string name, Graph body)
    {
        var function = new Function(Domain, name, body);
        function.Opsets.Add(new OpsetId("", 17));
        return function;
    }

    private static Value OnePlusSquare(Graph body, Value x)
    {
        var one = body.Append(new Node("", "CastLike", [Constant(body, "one", 1f), x], ["one_like"])).Output;
        var square = body.Append(new Node("", "Mul", [x, x], ["square"])).Output;
        return body.Append(new Node("", "Add", [one, square], ["one_plus_square"])).Output;
    }

    private static Value Constant(Graph body, string name, float value) =>
        body.Append(new Node("", "Constant", [], [name], [Attribute.FromTensor("value", Tensor.Scalar(value))])).Output;

    /// <summary>A row of two chained custom nodes around a Tanh, so the rule sees nonzero second derivatives from both sides.</summary>
    private static GradCheckCase Case(string opType) =>
        new(opType, opType, [InputSpec.Of(2, 3) with { Low = -2, High = 2 }], (b, x) => [Apply(b, opType, b.Op("Tanh", [Apply(b, opType, x[0])]))])
        {
            PrepareModel = AddFunctions,
        };

    /// <summary>A custom node; its output type is declared (shape inference knows no custom ops), as an exporter's value_info would.</summary>
    private static Value Apply(GraphBuilder b, string opType, Value x)
    {
        var y = b.AppendNode(Domain, opType, [x], 1).Output;
        y.Type = x.Type;
        return y;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void ARegisteredRuleDifferentiatesACustomOp(int order)
    {
        Assert.True(Registered.Value);
        Assert.True(GradientRules.Has(Domain, "SoftClip"));
        var outcome = GradChecker.Run(Case("SoftClip"), order);
        Assert.True(outcome.Passed, outcome.ToString());
        // The check is not empty: the derivative along the direction is far from zero.
        Assert.True(Math.Abs(outcome.Analytic) > 100 * outcome.Tolerance, outcome.ToString());
    }

    [Fact]
    public void ItsSecondOrderGraphHoldsOnlyOpsWithRules()
    {
        Assert.True(Registered.Value);
        var (model, _, _) = GradChecker.BuildBackward(Case("SoftClip"), order: 2, [[2, 3]]);
        Assert.Contains(model.Graph.Nodes, n => n.Domain == Domain);
        Assert.All(model.Graph.Nodes, n => Assert.True(GradientRules.Has(n), $"{n.Domain}.{n.OpType} has no rule"));
    }

    [Fact]
    public void ARuleThatEmitsAnOpWithoutARuleWorksAtOrderOneAndNamesThatOpAtOrderTwo()
    {
        Assert.True(Registered.Value);
        var c = Case("OpaqueSoftClip");
        var first = GradChecker.Run(c, order: 1);
        Assert.True(first.Passed, first.ToString());

        var error = Assert.Throws<MissingGradientRuleException>(() => GradChecker.BuildBackward(c, order: 2, [[2, 3]]));
        var missing = Assert.Single(error.Missing.DistinctBy(m => (m.Domain, m.OpType)));
        Assert.Equal((Domain, "SoftClipGrad"), (missing.Domain, missing.OpType));
        Assert.Contains($"{Domain}.SoftClipGrad", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnUnregisteredCustomOpIsNamedByTheMissingRuleError()
    {
        var graph = new Graph("g");
        var x = graph.AddInput("x", new TensorType(ElementType.Double, new Shape(3)));
        var b = new GraphBuilder(graph, 17);
        var y = Apply(b, "NeverRegistered", x);
        var error = Assert.Throws<MissingGradientRuleException>(() => ReverseMode.Vjp(b, [b.ReduceSum(y, [0])], [null], [x]));
        Assert.Equal(Domain, Assert.Single(error.Missing).Domain);
        Assert.False(GradientRules.Has(Domain, "NeverRegistered"));
    }

    [Fact]
    public void RulesCannotBeReplaced()
    {
        Assert.True(Registered.Value);
        var again = Assert.Throws<ImplicitRegException>(() => GradientRules.Register(Domain, "SoftClip", SoftClipRule));
        Assert.Equal(ErrorKind.BadInput, again.Kind);
        Assert.Contains($"{Domain}.SoftClip", again.Message, StringComparison.Ordinal);
        // Built-in rules neither, under either spelling of the standard domain.
        Assert.Throws<ImplicitRegException>(() => GradientRules.Register("ai.onnx", "Relu", SoftClipRule));
        Assert.Throws<ImplicitRegException>(() => GradientRules.RegisterNonDifferentiable("", "Shape"));
        Assert.True(GradientRules.Has("ai.onnx", "Relu"));
        // A custom op is not the ai.onnx op of the same name.
        Assert.False(GradientRules.Has(Domain, "Relu"));
        Assert.DoesNotContain("SoftClip", GradientRules.OpTypes);
    }
}
