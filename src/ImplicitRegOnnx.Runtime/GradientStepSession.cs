using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Training;
using Microsoft.ML.OnnxRuntime;
using Tensor = ImplicitRegOnnx.Onnx.Tensor;
using TensorElementType = Microsoft.ML.OnnxRuntime.Tensors.TensorElementType;

namespace ImplicitRegOnnx.Runtime;

/// <summary>
/// Runs the gradients-out form of a step (<see cref="StepModelForm.GradientsOut"/>) in two halves: <see cref="ComputeGradients"/>
/// runs the step model on a batch and writes ∇(C + c·R) of every parameter and the loss, penalty and objective into
/// one flat float buffer (<see cref="Buffer"/>); the caller may change that buffer (average it over processes, clip
/// it); <see cref="ApplyUpdate"/> then runs the apply-update model on the buffer's gradients and updates parameters
/// and optimizer states. <see cref="Step(IReadOnlyDictionary{string, Tensor}, float, float?)"/> does both. State is kept as in <see cref="StepSession"/> (the same
/// <c>StateBuffers</c>: two buffers per value, swapped after each update, on the device when a device memory is
/// given), so parameters never leave ONNX Runtime per step.
/// </summary>
/// <remarks>
/// The buffer is allocated once and pinned; the gradient outputs and the apply-update model's gradient inputs are
/// ONNX Runtime tensors over its slices, so a step copies only the batch in (and, with the state on a device, the
/// gradients to the host and back, which the all-reduce over MPI needs anyway). Layout: the gradients of
/// <see cref="Parameters"/> in that order, each in row-major order of its shape, then loss, penalty and objective
/// (the last <see cref="MetricCount"/> floats), so that one all-reduce averages gradients and metrics together.
/// Every trainable parameter must be float32.
/// </remarks>
public sealed class GradientStepSession : ITrainingStep
{
    /// <summary>Floats at the end of <see cref="Buffer"/>: loss, penalty, objective.</summary>
    public const int MetricCount = 3;

    private static readonly string[] MetricNames = ["loss", "penalty", "objective"];

    private readonly InferenceSession _gradientSession;
    private readonly InferenceSession _applySession;
    private readonly OrtIoBinding _gradientBinding;
    private readonly OrtIoBinding _applyBinding;
    private readonly RunOptions _runOptions = new();
    private readonly StateBuffers _state;
    private readonly BatchBuffers _batchBuffers;
    private readonly float[] _buffer;
    private readonly Dictionary<string, (int Offset, int Length)> _slices = new(StringComparer.Ordinal);
    // ONNX Runtime tensors over the slices of _buffer: P.grad, then the three metrics.
    private readonly Dictionary<string, OrtValue> _views = new(StringComparer.Ordinal);
    private readonly OrtValue _learningRate;
    private readonly OrtValue _coefficient;
    private readonly string[] _batchInputs;
    private readonly string[] _gradientStateInputs;
    private readonly string[] _applyStateInputs;
    private readonly bool _takesCoefficient;

    /// <param name="step">A step model of the gradients-out form, with its apply-update model.</param>
    /// <param name="options">Session options (device, threads) for both models; <see cref="StepSession.DefaultOptions"/> when null.</param>
    /// <param name="stateMemory">Where parameters and optimizer states live: null for host memory, else a device's memory.</param>
    public GradientStepSession(StepModel step, SessionOptions? options = null, OrtMemoryInfo? stateMemory = null)
    {
        ArgumentNullException.ThrowIfNull(step);
        if (step.Form != StepModelForm.GradientsOut || step.ApplyUpdate is null)
        {
            throw ImplicitRegException.Unsupported("GradientStepSession runs the gradients-out form with its apply-update model (StepModelOptions.Form = GradientsOut); this step model is fused, which StepSession runs");
        }
        _batchBuffers = new BatchBuffers(BatchBuffers.MicrobatchesOf(step));
        var offset = 0;
        foreach (var parameter in step.Parameters)
        {
            var tensor = step.InitialState[parameter];
            if (tensor.ElementType != ElementType.Float)
            {
                throw ImplicitRegException.Unsupported($"parameter '{parameter}' is {tensor.ElementType}; the gradients-out session keeps gradients in one float32 buffer, so every trainable parameter must be float32 (train this model with the fused step)");
            }
            var length = checked((int)tensor.Dims.Aggregate(1L, (a, d) => a * d));
            _slices[parameter] = (offset, length);
            offset = checked(offset + length);
        }
        GradientLength = offset;
        _buffer = GC.AllocateArray<float>(checked(offset + MetricCount), pinned: true);

        using var defaults = options is null ? StepSession.DefaultOptions() : null;
        _gradientSession = OrtSteps.Load(step.Model, options ?? defaults!, "the gradients-out step model");
        _applySession = OrtSteps.Load(step.ApplyUpdate, options ?? defaults!, "the apply-update model");
        _gradientBinding = _gradientSession.CreateIoBinding();
        _applyBinding = _applySession.CreateIoBinding();
        _state = new StateBuffers(step.InitialState, options ?? defaults!, stateMemory);
        Parameters = step.Parameters;

        foreach (var parameter in step.Parameters)
        {
            var (start, length) = _slices[parameter];
            _views[parameter + StepModelBuilder.GradientSuffix] = OrtValue.CreateTensorValueFromMemory(
                OrtMemoryInfo.DefaultInstance, new Memory<float>(_buffer, start, length), step.InitialState[parameter].Dims);
        }
        for (var i = 0; i < MetricCount; i++)
        {
            _views[MetricNames[i]] = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, new Memory<float>(_buffer, GradientLength + i, 1), []);
        }
        _learningRate = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, TensorElementType.Float, []);
        _coefficient = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, TensorElementType.Float, []);

        var gradientInputs = step.Model.Graph.RequiredInputs.Select(v => v.Name).ToList();
        _gradientStateInputs = [.. gradientInputs.Where(_state.Contains)];
        _batchInputs = [.. gradientInputs.Where(n => !_state.Contains(n))];
        _takesCoefficient = step.Model.Graph.Inputs.Any(v => v.Name == StepModelBuilder.PenaltyCoefficient);
        _applyStateInputs = [.. step.ApplyUpdate.Graph.RequiredInputs.Select(v => v.Name).Where(_state.Contains)];
    }

    /// <summary>Trainable parameter names, in the order of their gradients in <see cref="Buffer"/>.</summary>
    public IReadOnlyList<string> Parameters { get; }

    /// <summary>The inputs a batch must provide (model inputs and, unless the model computes its loss, "target").</summary>
    public IReadOnlyCollection<string> BatchInputs => _batchInputs;

    /// <summary>Floats of all gradients: the start of the metrics in <see cref="Buffer"/>.</summary>
    public int GradientLength { get; }

    /// <summary>The whole flat buffer: gradients, then loss, penalty and objective. Written by <see cref="ComputeGradients"/>,
    /// read by <see cref="ApplyUpdate"/>; the same array for the session's life.</summary>
    public Span<float> Buffer => _buffer;

    /// <summary>The gradients part of <see cref="Buffer"/>.</summary>
    public Span<float> Gradients => _buffer.AsSpan(0, GradientLength);

    /// <summary>The gradient of one parameter in <see cref="Buffer"/> (row-major).</summary>
    public Span<float> GradientOf(string parameter) =>
        _slices.TryGetValue(parameter, out var slice)
            ? _buffer.AsSpan(slice.Offset, slice.Length)
            : throw ImplicitRegException.BadParameter("parameter", $"'{parameter}' is not a trainable parameter of this step model");

    /// <summary>Loss, penalty and objective as <see cref="Buffer"/> holds them now (after an average, the averages).</summary>
    public StepMetrics Metrics => new(_buffer[GradientLength], _buffer[GradientLength + 1], _buffer[GradientLength + 2]);

    /// <summary>
    /// Runs the gradients-out model on <paramref name="batch"/> at the current parameters: fills <see cref="Buffer"/>
    /// with ∇(C + c·R) per parameter and the three metrics, and returns the metrics. Changes no state.
    /// </summary>
    /// <param name="batch">The batch's arrays by input name.</param>
    /// <param name="penaltyCoefficient">c of the objective; null uses the coefficient the model was built with.</param>
    public StepMetrics ComputeGradients(IReadOnlyDictionary<string, Tensor> batch, float? penaltyCoefficient = null)
    {
        ArgumentNullException.ThrowIfNull(batch);
        _gradientBinding.ClearBoundInputs();
        _gradientBinding.ClearBoundOutputs();
        foreach (var name in _batchInputs)
        {
            _gradientBinding.BindInput(name, _batchBuffers.For(name, batch));
        }
        foreach (var name in _gradientStateInputs)
        {
            _gradientBinding.BindInput(name, _state.Current(name));
        }
        if (penaltyCoefficient is { } c)
        {
            if (!_takesCoefficient)
            {
                throw ImplicitRegException.BadParameter("penaltyCoefficient", $"this step model has no '{StepModelBuilder.PenaltyCoefficient}' input; rebuild it with this version of the toolkit");
            }
            _coefficient.GetTensorMutableDataAsSpan<float>()[0] = c;
            _gradientBinding.BindInput(StepModelBuilder.PenaltyCoefficient, _coefficient);
        }
        foreach (var (name, view) in _views)
        {
            _gradientBinding.BindOutput(name, view);
        }
        OrtSteps.Run(_gradientSession, _runOptions, _gradientBinding, "the gradients-out step");
        return Metrics;
    }

    /// <summary>
    /// Runs the apply-update model with the gradients <see cref="Buffer"/> holds now: updates every parameter and
    /// optimizer state (and Adam's step count) at <paramref name="learningRate"/>.
    /// </summary>
    public void ApplyUpdate(float learningRate)
    {
        _learningRate.GetTensorMutableDataAsSpan<float>()[0] = learningRate;
        _applyBinding.ClearBoundInputs();
        _applyBinding.ClearBoundOutputs();
        _applyBinding.BindInput(StepModelBuilder.LearningRate, _learningRate);
        foreach (var name in _applyStateInputs)
        {
            _applyBinding.BindInput(name, _state.Current(name));
        }
        foreach (var parameter in Parameters)
        {
            var name = parameter + StepModelBuilder.GradientSuffix;
            _applyBinding.BindInput(name, _views[name]);
        }
        foreach (var name in _state.Names)
        {
            _applyBinding.BindOutput(name + ".next", _state.Next(name));
        }
        OrtSteps.Run(_applySession, _runOptions, _applyBinding, "the apply-update step");
        _state.Swap();
    }

    /// <summary>One whole step: <see cref="ComputeGradients"/> then <see cref="ApplyUpdate"/> with the gradients unchanged.</summary>
    public StepMetrics Step(IReadOnlyDictionary<string, Tensor> batch, float learningRate, float? penaltyCoefficient = null)
    {
        var metrics = ComputeGradients(batch, penaltyCoefficient);
        ApplyUpdate(learningRate);
        return metrics;
    }

    /// <summary>A host copy of every parameter and state (for checkpoints and export).</summary>
    public IReadOnlyDictionary<string, Tensor> State() => _state.State();

    /// <summary>Overwrites parameters and states (resuming from a checkpoint); shapes and types must match.</summary>
    public void LoadState(IReadOnlyDictionary<string, Tensor> state) => _state.LoadState(state);

    /// <summary>Disposes the ONNX Runtime sessions and the state they hold.</summary>
    public void Dispose()
    {
        foreach (var value in _views.Values)
        {
            value.Dispose();
        }
        _state.Dispose();
        _batchBuffers.Dispose();
        _learningRate.Dispose();
        _coefficient.Dispose();
        _gradientBinding.Dispose();
        _applyBinding.Dispose();
        _runOptions.Dispose();
        _gradientSession.Dispose();
        _applySession.Dispose();
    }
}
