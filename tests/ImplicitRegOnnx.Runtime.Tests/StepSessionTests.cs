using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.TestSupport;
using ImplicitRegOnnx.Training;

namespace ImplicitRegOnnx.Runtime.Tests;

public class StepSessionTests
{
    private static (ReferenceCase Case, StepModel Step) Build(OptimizerKind optimizer, StepModelForm form = StepModelForm.Fused)
    {
        var c = ReferenceCase.Load(Path.Combine(TestPaths.RepositoryRoot, "tests", "ReferenceCases", "logsoftmax_nll"));
        Assert.True(Losses.TryParse(c.Info.Loss, out var loss));
        var step = StepModelBuilder.Build(Model.Load(c.ModelPath), new StepModelOptions
        {
            Gradient = new GradientModelOptions
            {
                Loss = loss,
                Output = c.Info.Output,
                Penalty = new PenaltyOptions { Coefficient = c.Info.Coefficient, Microbatches = c.Info.Microbatches },
            },
            Optimizer = new OptimizerOptions { Kind = optimizer },
            Form = form,
        });
        return (c, step);
    }

    [Theory]
    [InlineData(OptimizerKind.Sgd)]
    [InlineData(OptimizerKind.Adam)]
    public void BoundBuffersGiveTheSameStepsAsPlainRuns(OptimizerKind optimizer)
    {
        var (c, step) = Build(optimizer);
        using var plain = new StepEvaluator(step);
        using var bound = new StepSession(step);
        for (var i = 0; i < 3; i++)
        {
            var expected = plain.Run(c.Data, 0.05f);
            var metrics = bound.Step(c.Data, 0.05f);
            Assert.Equal(expected["loss"].ToDoubles()[0], metrics.Loss, 4);
            Assert.Equal(expected["penalty"].ToDoubles()[0], metrics.Penalty, 4);
        }
        var state = bound.State();
        foreach (var (name, tensor) in plain.State)
        {
            var a = tensor.ToDoubles();
            var b = state[name].ToDoubles();
            Assert.True(a.Zip(b).All(z => Math.Abs(z.First - z.Second) <= 1e-5 * (1 + Math.Abs(z.First))), name);
        }
    }

    [Fact]
    public void LoadStateRestoresParametersExactly()
    {
        var (c, step) = Build(OptimizerKind.Adam);
        using var first = new StepSession(step);
        first.Step(c.Data, 0.05f);
        var saved = first.State();
        var next = first.Step(c.Data, 0.05f);

        using var second = new StepSession(step);
        second.LoadState(saved);
        var again = second.Step(c.Data, 0.05f);
        Assert.Equal(next, again);
        foreach (var (name, tensor) in first.State())
        {
            Assert.True(tensor.ContentEquals(second.State()[name]), name);
        }
    }

    // The device-memory path (state uploaded once, swapped in place, copied back only on request) is
    // the one CUDA takes; with the host's memory as the "device" it runs here and must give exactly
    // the steps of the plain path.
    [Fact]
    public void DeviceResidentStateGivesTheSameStepsAsHostState()
    {
        var (c, step) = Build(OptimizerKind.Adam);
        using var host = new StepSession(step);
        using var memory = new Microsoft.ML.OnnxRuntime.OrtMemoryInfo("Cpu", Microsoft.ML.OnnxRuntime.OrtAllocatorType.DeviceAllocator, 0, Microsoft.ML.OnnxRuntime.OrtMemType.Default);
        using var device = new StepSession(step, stateMemory: memory);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(host.Step(c.Data, 0.05f), device.Step(c.Data, 0.05f));
        }
        var saved = device.State();
        foreach (var (name, tensor) in host.State())
        {
            Assert.True(tensor.ContentEquals(saved[name]), name);
        }

        // Loading state into a device session and stepping continues exactly like the host session.
        using var resumed = new StepSession(step, stateMemory: memory);
        resumed.LoadState(saved);
        Assert.Equal(host.Step(c.Data, 0.05f), resumed.Step(c.Data, 0.05f));
        foreach (var (name, tensor) in host.State())
        {
            Assert.True(tensor.ContentEquals(resumed.State()[name]), name);
        }
    }

    [Fact]
    public void RefusesTheGradientsOutForm()
    {
        var (_, split) = Build(OptimizerKind.Sgd, StepModelForm.GradientsOut);
        var error = Assert.Throws<ImplicitRegException>(() => new StepSession(split));
        Assert.Equal(ErrorKind.Unsupported, error.Kind);
        Assert.Contains("gradients-out", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadStateRefusesAWrongShape()
    {
        var (c, step) = Build(OptimizerKind.Sgd);
        using var session = new StepSession(step);
        var state = session.State().ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        var first = state.Keys.First();
        state[first] = new Tensor(ElementType.Float, [1], new byte[4], first);
        var error = Assert.Throws<ImplicitRegException>(() => session.LoadState(state));
        Assert.Contains(first, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReusedBatchBuffersTakeEachNewBatch()
    {
        // The session keeps its batch buffers between steps: a second batch of the same shape must
        // replace the first one's values, exactly as in a session that never saw the first batch.
        var (c, step) = Build(OptimizerKind.Sgd);
        var other = c.Data.ToDictionary(
            kv => kv.Key,
            kv => kv.Value.ElementType == ElementType.Float
                ? Tensor.FromArray(Array.ConvertAll(kv.Value.ToDoubles(), v => (float)(0.5 - v)), kv.Value.Dims, kv.Key)
                : kv.Value,
            StringComparer.Ordinal);
        using var reused = new StepSession(step);
        reused.Step(c.Data, 0.05f);
        var saved = reused.State();
        var second = reused.Step(other, 0.05f);

        using var fresh = new StepSession(step);
        fresh.LoadState(saved);
        Assert.Equal(fresh.Step(other, 0.05f), second);
        Assert.NotEqual(fresh.Step(c.Data, 0.05f), reused.Step(other, 0.05f));
    }

    [Theory]
    [InlineData(StepModelForm.Fused)]
    [InlineData(StepModelForm.GradientsOut)]
    public void A_batch_the_microbatches_do_not_split_is_refused_before_the_run(StepModelForm form)
    {
        var (c, step) = Build(OptimizerKind.Sgd, form);
        var n = c.Info.Microbatches;
        Assert.True(n > 1, "the case must split its batch");
        // Drop the last row of every batch array: B − 1 rows do not split into n equal microbatches.
        var rows = c.Data.Values.First().Dims[0];
        var shorter = c.Data.ToDictionary(p => p.Key, p => Tensor.FromDoubles(p.Value.ElementType, p.Value.ToDoubles().Take((int)(p.Value.ElementCount / rows * (rows - 1))).ToArray(),
            [rows - 1, .. p.Value.Dims.Skip(1)], p.Key));
        using ITrainingStep session = form == StepModelForm.Fused ? new StepSession(step) : new GradientStepSession(step);
        var error = Assert.Throws<ImplicitRegException>(() => session.Step(shorter, 0.05f));
        Assert.Equal(ErrorKind.BadInput, error.Kind);
        Assert.Contains($"rows, which do not split into the step model's {n} equal microbatches", error.Message, StringComparison.Ordinal);
        session.Step(c.Data, 0.05f);
    }
}
