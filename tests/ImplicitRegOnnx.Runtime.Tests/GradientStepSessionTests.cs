using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Runtime.Verification;
using ImplicitRegOnnx.TestSupport;
using ImplicitRegOnnx.Training;
using Microsoft.ML.OnnxRuntime;

namespace ImplicitRegOnnx.Runtime.Tests;

/// <summary>
/// <see cref="GradientStepSession"/>: the gradients-out step and its apply-update model in bound buffers. The two
/// models run the fused step's ops on the same values (GradientsOutFormTests in Training.Tests shows it for plain
/// runs), and binding changes no arithmetic, so on the CPU the session's steps are the fused <see cref="StepSession"/>'s
/// bit for bit: metrics, parameters and optimizer states.
/// </summary>
public class GradientStepSessionTests
{
    private const float LearningRate = 0.05f;

    private static (ReferenceCase Case, StepModel Step) Build(string name, OptimizerKind optimizer, StepModelForm form,
        PenaltyMode mode = PenaltyMode.Exact, bool nesterov = false, double weightDecay = 0)
    {
        var c = ReferenceCase.Load(Path.Combine(TestPaths.RepositoryRoot, "tests", "ReferenceCases", name));
        Assert.True(Losses.TryParse(c.Info.Loss, out var loss));
        var step = StepModelBuilder.Build(Model.Load(c.ModelPath), new StepModelOptions
        {
            Gradient = new GradientModelOptions
            {
                Loss = loss,
                Output = c.Info.Output,
                Penalty = new PenaltyOptions { Mode = mode, Coefficient = c.Info.Coefficient, Microbatches = c.Info.Microbatches },
            },
            Optimizer = new OptimizerOptions { Kind = optimizer, Nesterov = nesterov, WeightDecay = weightDecay },
            Form = form,
            ConstantEvaluator = OrtConstantEvaluator.Instance,
        });
        return (c, step);
    }

    private static void AssertSameState(IReadOnlyDictionary<string, Tensor> expected, IReadOnlyDictionary<string, Tensor> actual, string when)
    {
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (name, tensor) in expected)
        {
            var worst = tensor.ToDoubles().Zip(actual[name].ToDoubles(), (a, b) => Math.Abs(a - b)).Max();
            Assert.True(tensor.ContentEquals(actual[name]), $"{when}: '{name}' differs from the fused step's by up to {worst:g3}");
        }
    }

    [Theory]
    [InlineData("logsoftmax_nll", OptimizerKind.Sgd, PenaltyMode.Exact, false, 0.0)]
    [InlineData("logsoftmax_nll", OptimizerKind.Momentum, PenaltyMode.FiniteDifference, true, 0.01)]
    [InlineData("logsoftmax_nll", OptimizerKind.Adam, PenaltyMode.Exact, false, 0.05)]
    [InlineData("batchnorm_training_microbatches", OptimizerKind.Momentum, PenaltyMode.Exact, false, 0.0)]
    [InlineData("shape_ops_layernorm_bce", OptimizerKind.Adam, PenaltyMode.None, false, 0.0)]
    public void StepsAreTheFusedSessionsBitForBit(string name, OptimizerKind optimizer, PenaltyMode mode, bool nesterov, double weightDecay)
    {
        var (c, fused) = Build(name, optimizer, StepModelForm.Fused, mode, nesterov, weightDecay);
        var (_, split) = Build(name, optimizer, StepModelForm.GradientsOut, mode, nesterov, weightDecay);
        using var expected = new StepSession(fused);
        using var actual = new GradientStepSession(split);
        for (var t = 0; t < 3; t++)
        {
            var a = expected.Step(c.Data, LearningRate);
            var b = actual.Step(c.Data, LearningRate, null);
            Assert.Equal(a, b);
            Assert.Equal(a, actual.Metrics);
            AssertSameState(expected.State(), actual.State(), $"step {t + 1}");
        }
    }

    [Fact]
    public void TheBufferHoldsEachGradientAndTheMetricsAsThePlainModelOutputsThem()
    {
        var (c, split) = Build("logsoftmax_nll", OptimizerKind.Adam, StepModelForm.GradientsOut);
        using var session = new GradientStepSession(split);
        Assert.Equal(split.Parameters, session.Parameters);
        var metrics = session.ComputeGradients(c.Data, 0.07f);

        using var plain = ModelRunner.FromBytes(split.Model.ToBytes());
        var feeds = split.Model.Graph.RequiredInputs
            .Select(v => (split.InitialState.TryGetValue(v.Name, out var s) ? s : c.Data[v.Name]).WithName(v.Name))
            .Append(Tensor.Scalar(ElementType.Float, 0.07f, StepModelBuilder.PenaltyCoefficient))
            .ToList();
        var outputs = plain.Run(feeds).ToDictionary(o => o.Name, o => o.Tensor!, StringComparer.Ordinal);
        var offset = 0;
        foreach (var parameter in split.Parameters)
        {
            var gradient = outputs[parameter + StepModelBuilder.GradientSuffix];
            var values = gradient.ToDoubles().Select(v => (float)v).ToArray();
            Assert.Equal(values, session.GradientOf(parameter).ToArray());
            Assert.Equal(values, session.Buffer.Slice(offset, values.Length).ToArray());
            offset += values.Length;
        }
        Assert.Equal(offset, session.GradientLength);
        Assert.Equal(offset + GradientStepSession.MetricCount, session.Buffer.Length);
        Assert.Equal(new StepMetrics((float)outputs["loss"].ToDoubles()[0], (float)outputs["penalty"].ToDoubles()[0], (float)outputs["objective"].ToDoubles()[0]), metrics);
        Assert.NotEqual(0f, metrics.Penalty);
    }

    [Fact]
    public void TheFedCoefficientScalesThePenaltyTerm()
    {
        var (c, split) = Build("logsoftmax_nll", OptimizerKind.Sgd, StepModelForm.GradientsOut);
        using var session = new GradientStepSession(split);
        var builtIn = session.ComputeGradients(c.Data);
        Assert.Equal(builtIn, session.ComputeGradients(c.Data, (float)c.Info.Coefficient));
        var none = session.ComputeGradients(c.Data, 0f);
        Assert.Equal(none.Loss, none.Objective);
        Assert.Equal(builtIn.Penalty, none.Penalty);
    }

    [Fact]
    public void ApplyUpdateTakesTheGradientsAsTheBufferHoldsThem()
    {
        // Plain SGD: θ' = θ − ε·g. Zero gradients leave θ as it was; doubled gradients at half the rate give the
        // step of the gradients as computed ((ε/2)·(2g) = ε·g exactly: both scalings are by powers of two).
        var (c, split) = Build("logsoftmax_nll", OptimizerKind.Sgd, StepModelForm.GradientsOut);
        using var session = new GradientStepSession(split);
        using var reference = new GradientStepSession(split);
        var before = session.State();
        session.ComputeGradients(c.Data);
        session.Gradients.Clear();
        session.ApplyUpdate(LearningRate);
        AssertSameState(before, session.State(), "zero gradients");

        session.ComputeGradients(c.Data);
        foreach (ref var g in session.Gradients)
        {
            g *= 2;
        }
        session.ApplyUpdate(LearningRate / 2);
        reference.Step(c.Data, LearningRate, null);
        AssertSameState(reference.State(), session.State(), "doubled gradients at half the rate");
    }

    // The path CUDA takes (state in device memory, gradients through the host buffer); with the host's memory as
    // the "device" it runs here and must give the host path's steps exactly.
    [Fact]
    public void DeviceResidentStateGivesTheSameStepsAndLoadStateResumesExactly()
    {
        var (c, split) = Build("logsoftmax_nll", OptimizerKind.Adam, StepModelForm.GradientsOut);
        using var host = new GradientStepSession(split);
        using var memory = new OrtMemoryInfo("Cpu", OrtAllocatorType.DeviceAllocator, 0, OrtMemType.Default);
        using var device = new GradientStepSession(split, stateMemory: memory);
        for (var i = 0; i < 2; i++)
        {
            Assert.Equal(host.Step(c.Data, LearningRate, null), device.Step(c.Data, LearningRate, null));
        }
        var saved = device.State();
        AssertSameState(host.State(), saved, "device state");

        using var resumed = new GradientStepSession(split, stateMemory: memory);
        resumed.LoadState(saved);
        Assert.Equal(host.Step(c.Data, LearningRate, null), resumed.Step(c.Data, LearningRate, null));
        AssertSameState(host.State(), resumed.State(), "resumed");
    }

    [Fact]
    public void RefusesTheFusedFormAndUnknownParameters()
    {
        var (_, fused) = Build("logsoftmax_nll", OptimizerKind.Sgd, StepModelForm.Fused);
        var error = Assert.Throws<ImplicitRegException>(() => new GradientStepSession(fused));
        Assert.Equal(ErrorKind.Unsupported, error.Kind);
        Assert.Contains("fused", error.Message, StringComparison.Ordinal);

        var (_, split) = Build("logsoftmax_nll", OptimizerKind.Sgd, StepModelForm.GradientsOut);
        using var session = new GradientStepSession(split);
        var unknown = Assert.Throws<ImplicitRegException>(() => session.GradientOf("no.such.weight").Length);
        Assert.Contains("no.such.weight", unknown.Message, StringComparison.Ordinal);
    }
}
