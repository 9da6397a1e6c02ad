using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Training;
using Microsoft.ML.OnnxRuntime;
using Tensor = ImplicitRegOnnx.Onnx.Tensor;
using TensorElementType = Microsoft.ML.OnnxRuntime.Tensors.TensorElementType;

namespace ImplicitRegOnnx.Runtime;

/// <summary>The scalars of one training step.</summary>
public readonly record struct StepMetrics(float Loss, float Penalty, float Objective);

/// <summary>
/// Runs a step model step after step with parameters and optimizer states kept in ONNX Runtime
/// buffers bound through OrtIoBinding: each state input P has two buffers, one bound as the input
/// P and one as the output P.next, and they swap after every step. Per step only the batch goes in
/// and three scalars come out; weights are copied to the host only on request (checkpoints, export).
/// With a device memory (e.g. CUDA) both buffers live in that memory: the initial state is copied
/// there into both at the start, and the step only swaps device buffers.
/// The gradients-out form runs in <see cref="GradientStepSession"/>, which shares this state handling.
/// </summary>
public sealed class StepSession : ITrainingStep
{
    private readonly InferenceSession _session;
    private readonly OrtIoBinding _binding;
    private readonly RunOptions _runOptions = new();
    private readonly StateBuffers _state;
    private readonly Dictionary<string, OrtValue> _scalars = new(StringComparer.Ordinal);
    private readonly OrtValue _learningRate;
    private readonly OrtValue _penaltyCoefficient;
    private readonly bool _takesCoefficient;
    private readonly IReadOnlyList<string> _parameters;
    private readonly HashSet<string> _batchInputs;
    private readonly BatchBuffers _batchBuffers;

    /// <param name="step">The step model to run.</param>
    /// <param name="options">Session options (device, threads); <see cref="DefaultOptions"/> when null.</param>
    /// <param name="stateMemory">Where parameters and optimizer states live: null for host memory,
    /// else a device's memory (<see cref="DeviceSetup.StateMemory"/>).</param>
    public StepSession(StepModel step, SessionOptions? options = null, OrtMemoryInfo? stateMemory = null)
    {
        ArgumentNullException.ThrowIfNull(step);
        if (step.Form != StepModelForm.Fused)
        {
            throw ImplicitRegException.Unsupported("StepSession runs fused step models; this one is the gradients-out form (StepModel.Form), which GradientStepSession runs with its apply-update model");
        }
        using var defaults = options is null ? DefaultOptions() : null;
        _session = OrtSteps.Load(step.Model, options ?? defaults!, "the step model");
        _binding = _session.CreateIoBinding();
        _state = new StateBuffers(step.InitialState, options ?? defaults!, stateMemory);
        foreach (var name in new[] { "loss", "penalty", "objective" })
        {
            _scalars[name] = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, TensorElementType.Float, []);
        }
        _learningRate = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, TensorElementType.Float, []);
        _penaltyCoefficient = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, TensorElementType.Float, []);
        _takesCoefficient = step.Model.Graph.Inputs.Any(v => v.Name == StepModelBuilder.PenaltyCoefficient);
        _parameters = step.Parameters;
        _batchBuffers = new BatchBuffers(BatchBuffers.MicrobatchesOf(step));
        _batchInputs = [.. step.Model.Graph.RequiredInputs.Select(v => v.Name)
            .Where(n => n != StepModelBuilder.LearningRate && !_state.Contains(n))];
    }

    /// <summary>
    /// Session options for training: sequential execution, ONNX Runtime's extended graph optimizations
    /// (fusions, constant folding; not the NCHWc layout transform of ORT_ENABLE_ALL, which adds
    /// reorders around the convolutions it converts), the CPU arena, and no memory pattern. The memory
    /// pattern plans one block for all intermediate tensors of a run; for the exact-penalty resnet8 step
    /// at batch 128 it raised the process peak from about 740 MiB to 1,420 MiB (docs/performance.md),
    /// while the arena alone reuses freed buffers across steps.
    /// </summary>
    public static SessionOptions DefaultOptions(int intraOpThreads = 0) => new()
    {
        GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
        ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        IntraOpNumThreads = intraOpThreads,
        EnableMemoryPattern = false,
        EnableCpuMemArena = true,
        LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL,
    };

    /// <inheritdoc/>
    public IReadOnlyCollection<string> BatchInputs => _batchInputs;

    /// <inheritdoc/>
    public IReadOnlyList<string> Parameters => _parameters;

    /// <summary>Runs one step on a batch and swaps every state buffer with its ".next".</summary>
    /// <param name="batch">One tensor per name of <see cref="BatchInputs"/>.</param>
    /// <param name="learningRate">ε of this step.</param>
    /// <param name="penaltyCoefficient">c fed to the step model's "penalty_coefficient" input; null leaves it
    /// unbound, so ONNX Runtime uses its initializer, the coefficient the model was built with.</param>
    public StepMetrics Step(IReadOnlyDictionary<string, Tensor> batch, float learningRate, float? penaltyCoefficient = null)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (penaltyCoefficient is not null && !_takesCoefficient)
        {
            throw ImplicitRegException.BadInput($"this step model has no '{StepModelBuilder.PenaltyCoefficient}' input (written by an older toolkit); rewrite it to feed the coefficient");
        }
        _learningRate.GetTensorMutableDataAsSpan<float>()[0] = learningRate;
        if (penaltyCoefficient is { } coefficient)
        {
            _penaltyCoefficient.GetTensorMutableDataAsSpan<float>()[0] = coefficient;
        }
        _binding.ClearBoundInputs();
        _binding.ClearBoundOutputs();
        foreach (var name in _batchInputs)
        {
            _binding.BindInput(name, _batchBuffers.For(name, batch));
        }
        _binding.BindInput(StepModelBuilder.LearningRate, _learningRate);
        if (penaltyCoefficient is not null)
        {
            _binding.BindInput(StepModelBuilder.PenaltyCoefficient, _penaltyCoefficient);
        }
        foreach (var name in _state.Names)
        {
            _binding.BindInput(name, _state.Current(name));
            _binding.BindOutput(name + ".next", _state.Next(name));
        }
        foreach (var (name, value) in _scalars)
        {
            _binding.BindOutput(name, value);
        }
        OrtSteps.Run(_session, _runOptions, _binding, "the step");
        _state.Swap();
        return new StepMetrics(Scalar("loss"), Scalar("penalty"), Scalar("objective"));
    }

    private float Scalar(string name) => _scalars[name].GetTensorDataAsSpan<float>()[0];

    /// <summary>A host copy of every parameter and state (for checkpoints and export).</summary>
    public IReadOnlyDictionary<string, Tensor> State() => _state.State();

    /// <summary>Overwrites parameters and states (resuming from a checkpoint); shapes and types must match.</summary>
    public void LoadState(IReadOnlyDictionary<string, Tensor> state) => _state.LoadState(state);

    /// <summary>Releases the session, its binding and every buffer.</summary>
    public void Dispose()
    {
        foreach (var value in _scalars.Values)
        {
            value.Dispose();
        }
        _state.Dispose();
        _batchBuffers.Dispose();
        _learningRate.Dispose();
        _penaltyCoefficient.Dispose();
        _binding.Dispose();
        _runOptions.Dispose();
        _session.Dispose();
    }
}
