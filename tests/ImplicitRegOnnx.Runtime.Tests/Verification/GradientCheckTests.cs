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
        Assert.Equal(4 * 3, result.Derivatives.Count);   // loss, penalty, objective along 3 random directions and the gradient's
        Assert.Single(result.Derivatives, d => d.Quantity == "loss" && d.AlongGradient);
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

        /// <summary>∇C of every parameter negated: a sign error.</summary>
        NegatedLossGradient,

        /// <summary>∇(C + c·R) replaced by ∇C: the penalty's gradient is missing.</summary>
        MissingPenaltyGradient,

        /// <summary>The sign of one weight's ∇C flipped.</summary>
        FlippedWeightGradient,

        /// <summary>The last bias's ∇C is zero: a missing term, orthogonal to the rest of the computed gradient (so only the
        /// random directions can see it, in proportion to the term's share of the derivative; the output layer's bias has a large one).</summary>
        MissingBiasGradient,

        /// <summary>The last ReLU's backward passes dy through unmasked (the identity's rule instead of ReLU's): a wrong rule.</summary>
        WrongReluRule,
    }

    [Theory]
    [InlineData("mlp_tanh.onnx", Damage.ScaledLossGradient, "loss", 0.04)]       // 1 − 1/1.05 = 0.048 on every direction, less at most τ/2 of bound
    [InlineData("mlp_tanh.onnx", Damage.NegatedLossGradient, "loss", 1.9)]       // |D − (−D)| / |D| = 2
    [InlineData("mlp_tanh.onnx", Damage.MissingPenaltyGradient, "penalty", 0.99)] // the analytic side is 0
    [InlineData("mlp_tanh.onnx", Damage.FlippedWeightGradient, "loss", 0.1)]
    [InlineData("mlp_tanh.onnx", Damage.MissingBiasGradient, "loss", GradientCheck.DefaultThreshold)]
    [InlineData("deep_relu_cnn.onnx", Damage.ScaledLossGradient, "loss", 0.04)]
    [InlineData("deep_relu_cnn.onnx", Damage.NegatedLossGradient, "loss", 1.9)]
    [InlineData("deep_relu_cnn.onnx", Damage.FlippedWeightGradient, "loss", GradientCheck.DefaultThreshold)]
    [InlineData("deep_relu_cnn.onnx", Damage.MissingBiasGradient, "loss", GradientCheck.DefaultThreshold)]
    [InlineData("deep_relu_cnn.onnx", Damage.WrongReluRule, "loss", GradientCheck.DefaultThreshold)]
    public void AWrongGradientFails(string model, Damage damage, string quantity, double expectedAtLeast)
    {
        var inference = Model.Load(TestPaths.Model(model));
        // The deep CNN with a smaller batch and one random direction: the damage shows whatever the kinks (and it is slow).
        var options = model == DeepRelu ? DeepReluOptions with { Batch = 2, Directions = 1 } : Options(LossKind.CrossEntropy);
        var gradient = GradientModelBuilder.Build(inference, options.Gradient with { Penalty = options.Gradient.Penalty with { Coefficient = 1 } });
        var batch = GradientCheck.RandomBatch(inference, gradient, options);
        Break(gradient, damage);

        var result = GradientCheck.Run(gradient, batch, options);

        Assert.False(result.Passed);
        var worst = result.Checked.Where(d => d.Quantity == quantity).Max(d => d.RelativeError);
        Assert.True(worst > expectedAtLeast, $"{quantity}: worst {worst}\n{string.Join("\n", result.Derivatives)}");
    }

    private const string DeepRelu = "deep_relu_cnn.onnx";

    /// <summary>The deep ReLU CNN's check: the loss only (its penalty jumps at every activation change).</summary>
    private static GradientCheckOptions DeepReluOptions => new()
    {
        Gradient = new GradientModelOptions { Loss = LossKind.CrossEntropy, Penalty = new PenaltyOptions { Mode = PenaltyMode.None } },
        Batch = 4,
        Seed = 1,
    };

    /// <summary>
    /// models/deep_relu_cnn.onnx (tools/export_deep_relu_cnn.py: 16 ReLU convolutions on 128×128 images, about 5.2M
    /// ReLU units in a batch of 4) has kinks so dense that along a random direction the slope changes by more than τ
    /// within ±h₀: a central difference at h₀ compared with the slope at θ, what the check did before, fails the correct
    /// gradient there. The path integral passes it, along every direction, with the bound well inside τ/2.
    /// </summary>
    [Fact]
    public void ADeepReluNetworkWhoseKinksFoolCentralDifferencesPasses()
    {
        var result = GradientCheck.Run(Model.Load(TestPaths.Model(DeepRelu)), DeepReluOptions);

        var all = string.Join("\n", result.Derivatives);
        Assert.True(result.Passed, all);
        // Numeric is the central difference at h₀ (the same two end points). Along some random direction it differs from
        // the slope at θ by more than τ, so a central-difference check fails the correct gradient there, while the path
        // integral converged (its bound within τ/2) and agrees.
        Assert.Contains(result.Checked, d => !d.AlongGradient
            && Math.Abs(d.Numeric - d.AtCenter) > GradientCheck.DefaultThreshold * Math.Max(Math.Abs(d.Numeric), Math.Abs(d.AtCenter))
            && d.RelativeError <= GradientCheck.DefaultThreshold);
        Assert.Contains(result.Checked, d => d.AlongGradient);
    }

    /// <summary>The gradient direction is a descent direction of the loss, and with a correct gradient both sides agree on it.</summary>
    [Fact]
    public void TheGradientDirectionHasTheLargestDerivative()
    {
        var result = GradientCheck.Run(Model.Load(TestPaths.Model("mlp_tanh.onnx")), Options(LossKind.CrossEntropy));
        var losses = result.Derivatives.Where(d => d.Quantity == "loss").ToList();
        var along = losses.Single(d => d.AlongGradient);
        Assert.Equal(3, along.Direction);
        Assert.True(along.AtCenter > 0 && along.Numeric > 0, along.ToString());
        Assert.All(losses.Where(d => !d.AlongGradient), d => Assert.True(Math.Abs(d.AtCenter) < along.AtCenter, d.ToString()));
    }

    /// <summary>
    /// An audio model whose first Conv has a 512-sample kernel cannot run at the default size 2 of its symbolic
    /// `samples`: the error says which sizes were used and names GradientCheckOptions.Dims, and with those set it runs.
    /// </summary>
    [Fact]
    public void AModelThatCannotRunAtTheDefaultSizesIsToldWhichSizesWereUsed()
    {
        var model = Model.Load(TestPaths.Model("audio_conv512.onnx"));
        var options = Options(LossKind.CrossEntropy) with { Batch = 2, Directions = 1 };

        var error = Assert.Throws<ImplicitRegException>(() => GradientCheck.Run(model, options));

        Assert.Equal(ErrorKind.BadInput, error.Kind);
        Assert.Contains("'audio' [2, 1, 2]", error.Message, StringComparison.Ordinal);
        Assert.Contains("samples = 2 (the default GradientCheckOptions.DefaultDim)", error.Message, StringComparison.Ordinal);
        Assert.Contains("GradientCheckOptions.Dims", error.Message, StringComparison.Ordinal);
        Assert.Contains("/frontend/Conv", error.Message, StringComparison.Ordinal);   // ONNX Runtime's own words stay
        Assert.DoesNotContain('\n', error.Message);

        var sized = GradientCheck.Run(Model.Load(TestPaths.Model("audio_conv512.onnx")),
            options with { Dims = new Dictionary<string, long>(StringComparer.Ordinal) { ["samples"] = 1024 } });
        Assert.True(sized.Passed, string.Join("\n", sized.Derivatives));
    }

    [Fact]
    public void TheQuadratureBoundIsTheLargerOfItsTwoEstimates()
    {
        Assert.Equal(0.3, GradientCheck.QuadratureBound(1.0, 1.3, 1.2), 12);    // |T_L − T_{L−1}|
        Assert.Equal(0.5, GradientCheck.QuadratureBound(1.0, 1.0, 2.0), 12);    // |T_{L−1} − T_{L−2}| / 2
        // A disagreement within the bound is no error; beyond it, only the excess counts.
        Assert.Equal(0, GradientCheck.RelativeError(1.0, 1.004, 1.0, 4, 1.0, 1e-2, 0.005));
        Assert.Equal(0.005 / 1.01, GradientCheck.RelativeError(1.0, 1.01, 1.0, 4, 1.0, 1e-2, 0.005), 12);
    }

    private static void Break(GradientModel gradient, Damage damage)
    {
        var graph = gradient.Model.Graph;
        var b = new GraphBuilder(graph, gradient.Model.OpsetVersion("")!.Value);
        Node OutputNode(string name) => graph.Outputs.Single(o => o.Name == name).Producer!;
        switch (damage)
        {
            case Damage.ScaledLossGradient:
            case Damage.NegatedLossGradient:
                foreach (var p in gradient.Parameters)
                {
                    var node = OutputNode("grad/" + p);
                    node.SetInput(0, damage == Damage.ScaledLossGradient
                        ? b.Mul(node.Input(0)!, b.Constant(Tensor.Scalar(1.05f)))
                        : b.Op("Neg", [node.Input(0)!]));
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
            case Damage.MissingBiasGradient:
                var bias = OutputNode("grad/" + gradient.Parameters.Last(p => p.EndsWith("bias", StringComparison.Ordinal)));
                bias.SetInput(0, b.Mul(bias.Input(0)!, b.Constant(Tensor.Scalar(0f))));
                break;
            case Damage.WrongReluRule:
                // ReLU's rule is Where(x > 0, dy, 0) (ActivationRules); the last ReLU's mask is dropped.
                var relu = graph.Nodes.Last(n => n.OpType == "Relu");
                var mask = graph.Nodes.First(n => n.OpType == "Where" && n.Input(0)!.Producer is { OpType: "Greater" } greater && greater.Input(0) == relu.Input(0));
                mask.Outputs[0]!.ReplaceAllUsesWith(mask.Input(1)!);
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
