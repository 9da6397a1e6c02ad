using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Onnx.Building;
using ImplicitRegOnnx.Onnx.Passes;
using ImplicitRegOnnx.Runtime.Verification;
using ImplicitRegOnnx.TestSupport;
using ImplicitRegOnnx.Training;

namespace ImplicitRegOnnx.Runtime.Tests.Verification;

public class GradientCheckTests
{
    private static GradientCheckOptions Options(LossKind loss, int microbatches = 1) => new()
    {
        Gradient = new GradientModelOptions
        {
            Loss = loss,
            Penalty = new PenaltyOptions { Mode = PenaltyMode.Exact, Coefficient = 0.025, Microbatches = microbatches },
        },
        Batch = 4,
    };

    [Theory]
    [InlineData("mlp_tanh.onnx", 2)]
    [InlineData("attention_gelu.onnx", 1)]
    public void SmoothModelsPassWithEveryQuantityChecked(string name, int microbatches)
    {
        var result = GradientCheck.Run(Model.Load(TestPaths.Model(name)), Options(LossKind.CrossEntropy, microbatches));

        Assert.True(result.Passed, string.Join("\n", result.Derivatives));
        Assert.Empty(result.Unchecked);
        Assert.Equal(3 * 3, result.Derivatives.Count);   // loss, penalty, objective along 3 directions
        Assert.All(result.Derivatives, d => Assert.True(d.Smooth && double.IsFinite(d.RelativeError), d.ToString()));
        Assert.True(result.MaxError < 1e-3, $"worst {result.MaxError}");
    }

    [Fact]
    public void ReluNetworkPassesOnTheLossAndReportsThePenaltyAsUnchecked()
    {
        // The gradient of a ReLU network is piecewise constant in its activation pattern, so its squared
        // norm jumps: no central difference of the penalty means anything at float32 steps.
        var result = GradientCheck.Run(Model.Load(TestPaths.Model("resnet8_small.onnx")), Options(LossKind.CrossEntropy));

        Assert.True(result.Passed, string.Join("\n", result.Derivatives));
        Assert.Contains("penalty", result.Unchecked);
        Assert.Contains(result.Checked, d => d.Quantity == "loss");
    }

    [Fact]
    public void TheSameSeedGivesTheSameCheck()
    {
        var model = Model.Load(TestPaths.Model("mlp_tanh.onnx"));
        var a = GradientCheck.Run(model, Options(LossKind.Mse));
        var b = GradientCheck.Run(model, Options(LossKind.Mse));
        Assert.Equal(a.Derivatives, b.Derivatives);
        var other = GradientCheck.Run(model, Options(LossKind.Mse) with { Seed = 99 });
        Assert.NotEqual(a.Derivatives[0].Numeric, other.Derivatives[0].Numeric);
    }

    /// <summary>How a correct gradient model is broken, to show that the check can fail.</summary>
    public enum Damage
    {
        /// <summary>∇C of every parameter scaled by 1.05: a wrong factor.</summary>
        ScaledLossGradient,

        /// <summary>∇(C + c·R) replaced by ∇C: the penalty's gradient is missing.</summary>
        MissingPenaltyGradient,

        /// <summary>The sign of one weight's ∇C flipped.</summary>
        FlippedWeightGradient,
    }

    [Theory]
    [InlineData(Damage.ScaledLossGradient, "loss", 0.04)]       // 1 − 1/1.05 = 0.048 on every direction
    [InlineData(Damage.MissingPenaltyGradient, "penalty", 0.99)] // the analytic side is 0
    [InlineData(Damage.FlippedWeightGradient, "loss", 0.1)]
    public void AWrongGradientFails(Damage damage, string quantity, double expectedAtLeast)
    {
        var inference = Model.Load(TestPaths.Model("mlp_tanh.onnx"));
        var options = Options(LossKind.CrossEntropy);
        var gradient = GradientModelBuilder.Build(inference, options.Gradient with { Penalty = options.Gradient.Penalty with { Coefficient = 1 } });
        var batch = GradientCheck.RandomBatch(inference, gradient, options);
        Break(gradient, damage);

        var result = GradientCheck.Run(gradient, batch, options);

        Assert.False(result.Passed);
        var worst = result.Checked.Where(d => d.Quantity == quantity).Max(d => d.RelativeError);
        Assert.True(worst > expectedAtLeast, $"{quantity}: worst {worst}\n{string.Join("\n", result.Derivatives)}");
    }

    private static void Break(GradientModel gradient, Damage damage)
    {
        var graph = gradient.Model.Graph;
        var b = new GraphBuilder(graph, gradient.Model.OpsetVersion("")!.Value);
        Node OutputNode(string name) => graph.Outputs.Single(o => o.Name == name).Producer!;
        switch (damage)
        {
            case Damage.ScaledLossGradient:
                foreach (var p in gradient.Parameters)
                {
                    var node = OutputNode("grad/" + p);
                    node.SetInput(0, b.Mul(node.Input(0)!, b.Constant(Tensor.Scalar(1.05f))));
                }
                break;
            case Damage.MissingPenaltyGradient:
                foreach (var p in gradient.Parameters)
                {
                    OutputNode("objective_grad/" + p).SetInput(0, OutputNode("grad/" + p).Input(0));
                }
                break;
            case Damage.FlippedWeightGradient:
                var weight = OutputNode("grad/" + gradient.Parameters.First(p => p.EndsWith("weight", StringComparison.Ordinal)));
                weight.SetInput(0, b.Op("Neg", [weight.Input(0)!]));
                break;
        }
        TopologicalSort.Sort(graph);
    }

    [Fact]
    public void RelativeErrorIsMeasuredAgainstTheFloat32NoiseForTinyDerivatives()
    {
        // |f| = 1 over 4 terms: κ = 2·(1 + 2) = 6, noise N = 6·u/h; below N/τ, the difference is scaled by N/τ.
        var h = GradientCheck.InitialStep;
        var noise = 6 * GradientCheck.Float32Roundoff / h;
        Assert.Equal(0.5, GradientCheck.RelativeError(1.0, 0.5, 1.0, 4, h, 1e-2), 12);
        Assert.Equal(noise / 2 / (noise / 1e-2), GradientCheck.RelativeError(noise / 2, 0, 1.0, 4, h, 1e-2), 12);
        Assert.True(double.IsNaN(GradientCheck.RelativeError(double.NaN, 1, 1, 4, h, 1e-2)));
        Assert.Equal(0, GradientCheck.RelativeError(0, 0, 0, 4, h, 1e-2));
    }
}
