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
/// </summary>
public sealed class StepSession : IDisposable
{
    private readonly InferenceSession _session;
    private readonly OrtIoBinding _binding;
    private readonly RunOptions _runOptions = new();
    private readonly List<string> _stateNames;
    private readonly Dictionary<string, OrtValue> _current = new(StringComparer.Ordinal);
    private readonly Dictionary<string, OrtValue> _next = new(StringComparer.Ordinal);
    private readonly IReadOnlyDictionary<string, Tensor> _initialState;
    private readonly StateTransfer? _transfer;
    private readonly Dictionary<string, OrtValue> _scalars = new(StringComparer.Ordinal);
    private readonly OrtValue _learningRate;
    private readonly HashSet<string> _batchInputs;
    private readonly Dictionary<string, OrtValue> _batchBuffers = new(StringComparer.Ordinal);

    /// <param name="step">The step model to run.</param>
    /// <param name="options">Session options (device, threads); <see cref="DefaultOptions"/> when null.</param>
    /// <param name="stateMemory">Where parameters and optimizer states live: null for host memory,
    /// else a device's memory (<see cref="DeviceSetup.StateMemory"/>).</param>
    public StepSession(StepModel step, SessionOptions? options = null, OrtMemoryInfo? stateMemory = null)
    {
        if (step.Form != StepModelForm.Fused)
        {
            throw ImplicitRegException.Unsupported("StepSession runs fused step models; this one is the gradients-out form (StepModel.Form), which its apply-update model completes");
        }
        using var defaults = options is null ? DefaultOptions() : null;
        try
        {
            _session = new InferenceSession(step.Model.ToBytes(), options ?? defaults!);
        }
        catch (OnnxRuntimeException e)
        {
            throw ImplicitRegException.Failed("ONNX Runtime cannot load the step model: " + e.Message.ReplaceLineEndings(" "), e);
        }
        _binding = _session.CreateIoBinding();
        _stateNames = [.. step.InitialState.Keys];
        _initialState = step.InitialState;
        if (stateMemory is null)
        {
            foreach (var (name, tensor) in step.InitialState)
            {
                _current[name] = OrtTensors.ToOrtValue(tensor);
                _next[name] = OrtTensors.ToOrtValue(tensor);
            }
        }
        else
        {
            _transfer = new StateTransfer(step.InitialState, options ?? defaults!, stateMemory);
            Upload(step.InitialState, _current);
            Upload(step.InitialState, _next);
        }
        foreach (var name in new[] { "loss", "penalty", "objective" })
        {
            _scalars[name] = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, TensorElementType.Float, []);
        }
        _learningRate = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, TensorElementType.Float, []);
        _batchInputs = [.. step.Model.Graph.RequiredInputs.Select(v => v.Name)
            .Where(n => n != StepModelBuilder.LearningRate && !_current.ContainsKey(n))];
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

    /// <summary>The inputs a batch must provide (model inputs and, unless the model computes its loss, "target").</summary>
    public IReadOnlyCollection<string> BatchInputs => _batchInputs;

    /// <summary>Runs one step on a batch and swaps every state buffer with its ".next".</summary>
    public StepMetrics Step(IReadOnlyDictionary<string, Tensor> batch, float learningRate)
    {
        _learningRate.GetTensorMutableDataAsSpan<float>()[0] = learningRate;
        try
        {
            _binding.ClearBoundInputs();
            _binding.ClearBoundOutputs();
            foreach (var name in _batchInputs)
            {
                if (!batch.TryGetValue(name, out var tensor))
                {
                    throw ImplicitRegException.BadInput($"the batch has no array for step-model input '{name}'");
                }
                _binding.BindInput(name, BatchBuffer(name, tensor));
            }
            _binding.BindInput(StepModelBuilder.LearningRate, _learningRate);
            foreach (var name in _stateNames)
            {
                _binding.BindInput(name, _current[name]);
                _binding.BindOutput(name + ".next", _next[name]);
            }
            foreach (var (name, value) in _scalars)
            {
                _binding.BindOutput(name, value);
            }
            _session.RunWithBinding(_runOptions, _binding);
        }
        catch (OnnxRuntimeException e)
        {
            throw ImplicitRegException.Failed("ONNX Runtime failed to run the step: " + e.Message.ReplaceLineEndings(" "), e);
        }
        foreach (var name in _stateNames)
        {
            (_current[name], _next[name]) = (_next[name], _current[name]);
        }
        return new StepMetrics(Scalar("loss"), Scalar("penalty"), Scalar("objective"));
    }

    /// <summary>
    /// The buffer of a batch input, filled with <paramref name="tensor"/>: reused from the previous step
    /// while the type and shape stay the same (every step but a smaller last batch), so a step
    /// allocates nothing and copies the batch once.
    /// </summary>
    private OrtValue BatchBuffer(string name, Tensor tensor)
    {
        if (_batchBuffers.TryGetValue(name, out var buffer))
        {
            var info = buffer.GetTensorTypeAndShape();
            if ((int)info.ElementDataType == (int)tensor.ElementType && info.Shape.AsSpan().SequenceEqual(tensor.Dims))
            {
                OrtTensors.CopyInto(tensor, buffer);
                return buffer;
            }
            buffer.Dispose();
        }
        return _batchBuffers[name] = OrtTensors.ToOrtValue(tensor);
    }

    private float Scalar(string name) => _scalars[name].GetTensorDataAsSpan<float>()[0];

    /// <summary>A host copy of every parameter and state (for checkpoints and export).</summary>
    public IReadOnlyDictionary<string, Tensor> State()
    {
        if (_transfer is null)
        {
            return _stateNames.ToDictionary(n => n, n => OrtTensors.ToTensor(_current[n], n), StringComparer.Ordinal);
        }
        var host = _transfer.ToHost(_current);
        try
        {
            return _stateNames.ToDictionary(n => n, n => OrtTensors.ToTensor(host[n], n), StringComparer.Ordinal);
        }
        finally
        {
            foreach (var value in host.Values)
            {
                value.Dispose();
            }
        }
    }

    /// <summary>Copies host tensors into new device buffers that replace those in <paramref name="buffers"/>.</summary>
    private void Upload(IReadOnlyDictionary<string, Tensor> state, Dictionary<string, OrtValue> buffers)
    {
        var host = _stateNames.ToDictionary(n => n, n => OrtTensors.ToOrtValue(state[n]), StringComparer.Ordinal);
        try
        {
            var device = _transfer!.ToDevice(host);
            foreach (var name in _stateNames)
            {
                buffers.Remove(name, out var old);
                old?.Dispose();
                buffers[name] = device[name];
            }
        }
        finally
        {
            foreach (var value in host.Values)
            {
                value.Dispose();
            }
        }
    }

    /// <summary>Overwrites parameters and states (resuming from a checkpoint); shapes and types must match.</summary>
    public void LoadState(IReadOnlyDictionary<string, Tensor> state)
    {
        foreach (var name in _stateNames)
        {
            if (!state.TryGetValue(name, out var tensor))
            {
                throw ImplicitRegException.BadInput($"the state has no value for '{name}'");
            }
            var expected = _initialState[name];
            if (tensor.ElementType != expected.ElementType || !tensor.Dims.AsSpan().SequenceEqual(expected.Dims))
            {
                throw ImplicitRegException.BadInput($"'{name}' is {tensor.ElementType} [{string.Join(',', tensor.Dims)}] but the step model needs {expected.ElementType} [{string.Join(',', expected.Dims)}]");
            }
        }
        if (_transfer is not null)
        {
            Upload(state, _current);
            return;
        }
        foreach (var name in _stateNames)
        {
            OrtTensors.CopyInto(state[name], _current[name]);
        }
    }

    public void Dispose()
    {
        foreach (var value in _current.Values.Concat(_next.Values).Concat(_scalars.Values).Concat(_batchBuffers.Values))
        {
            value.Dispose();
        }
        _transfer?.Dispose();
        _learningRate.Dispose();
        _binding.Dispose();
        _runOptions.Dispose();
        _session.Dispose();
    }
}
