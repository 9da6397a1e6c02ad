using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Runtime.Verification;
using ImplicitRegOnnx.TestSupport;
using ImplicitRegOnnx.Training.Lowering;

namespace ImplicitRegOnnx.Training.Tests.Lowering;

/// <summary>
/// ONNX's backend tests of the ai.onnx.preview.training ops, which stock ONNX Runtime rejects: after
/// lowering, ONNX Runtime runs each model on test_data_set_0's inputs and must give its expected outputs.
/// </summary>
public class BackendTrainingOpTests
{
    public static TheoryData<string> Cases() =>
    [
        "simple/test_gradient_of_add",
        "simple/test_gradient_of_add_and_mul",
        "node/test_momentum",
        "node/test_momentum_multiple",
        "node/test_nesterov_momentum",
        "node/test_adagrad",
        "node/test_adagrad_multiple",
        "node/test_adam",
        "node/test_adam_multiple",
    ];

    /// <summary>
    /// Float32 unit roundoff 2^-24. Each expected output is an element-wise formula of at most 16 rounded
    /// float32 operations (Adam's X_final is the longest chain: regularized gradient, both moments,
    /// square root, powers, bias correction, division, subtraction, post scale), none of which divides by
    /// a value near zero in these data; each operation adds at most one rounding of a quantity bounded by
    /// the largest magnitude M among the test's inputs and outputs. The reference (numpy, partly in float64)
    /// is rounded to float32 once more. So |lowered − expected| ≤ 17·u·M.
    /// </summary>
    private const double UnitRoundoff = 1.0 / (1 << 24);

    /// <summary>
    /// node/test_adam_multiple as Debian ships it has a known defect: its expected outputs were computed
    /// with epsilon = 1e-2 but the Adam node lacks the attribute, so the spec's default (1e-6) applies and
    /// the expected outputs are not the model's (onnx/onnx#7749). ONNX fixed it by adding epsilon = 0.01 to
    /// the node, leaving the outputs unchanged (onnx/onnx#7763); the same fix is applied here, only to a
    /// model that still lacks the attribute, so fixed test data runs as it is.
    /// </summary>
    private static void ApplyUpstreamDataFix(string test, Model model)
    {
        if (test == "node/test_adam_multiple" && model.Graph.Nodes.Single().GetAttribute("epsilon") is null)
        {
            model.Graph.Nodes.Single().SetAttribute(Onnx.Attribute.Float("epsilon", 0.01f));
        }
    }

    [SkippableTheory]
    [MemberData(nameof(Cases))]
    public void LoweredModelReproducesTheExpectedOutputsInOnnxRuntime(string test)
    {
        var folder = BackendTestSuite.Folder(test);
        if (folder is null)
        {
            Assert.False(BackendTestSuite.Required, BackendTestSuite.MissingMessage);
            Skip.If(true, BackendTestSuite.MissingMessage);
        }
        var model = Model.Load(Path.Combine(folder!, "model.onnx"));
        // Why lowering exists: ONNX Runtime does not run these ops as they are.
        Assert.Throws<ImplicitRegException>(() => ModelRunner.FromBytes(model.ToBytes()).Dispose());
        ApplyUpstreamDataFix(test, model);
        var report = TrainingOpLowering.Lower(model);

        Assert.True(report.Total > 0);
        Assert.DoesNotContain(model.Graph.Nodes, n => !n.IsStandard);
        Assert.DoesNotContain(model.Opsets, o => o.Domain == TrainingOpLowering.Domain);

        var inputs = BackendTestSuite.DataSet(folder!, "input");
        var expected = BackendTestSuite.DataSet(folder!, "output");
        using var runner = ModelRunner.FromBytes(model.ToBytes());
        var outputs = runner.Run(inputs);
        Assert.Equal(expected.Count, outputs.Count);

        var magnitude = inputs.Concat(expected).Where(t => t.ElementType.IsFloatingPoint())
            .SelectMany(t => t.ToDoubles()).Select(Math.Abs).Append(1.0).Max();
        var tolerance = 17 * UnitRoundoff * magnitude;
        for (var k = 0; k < expected.Count; k++)
        {
            Assert.Equal(expected[k].Name, outputs[k].Name);
            var actual = outputs[k].Tensor!;
            Assert.Equal(expected[k].ElementType, actual.ElementType);
            Assert.Equal(expected[k].Dims, actual.Dims);
            var want = expected[k].ToDoubles();
            var got = actual.ToDoubles();
            for (var i = 0; i < want.Length; i++)
            {
                Assert.True(Math.Abs(got[i] - want[i]) <= tolerance,
                    $"{test} {expected[k].Name}[{i}]: {got[i]:R} vs expected {want[i]:R} (tolerance {tolerance:G3})");
            }
        }
    }
}
