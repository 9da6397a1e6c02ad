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
/// </summary>
public sealed class StepSession : IDisposable
{
    private readonly InferenceSession _session;
    private readonly OrtIoBinding _binding;
    private readonly RunOptions _runOptions = new();
    private readonly List<string> _stateNames;
    private readonly Dictionary<string, OrtValue> _current = new(StringComparer.Ordinal);
    private readonly Dictionary<string, OrtValue> _next = new(StringComparer.Ordinal);
    private readonly Dictionary<string, OrtValue> _scalars = new(StringComparer.Ordinal);
    private readonly OrtValue _learningRate;
    private readonly HashSet<string> _batchInputs;
    private readonly Dictionary<string, OrtValue> _batchBuffers = new(StringComparer.Ordinal);

    public StepSession(StepModel step, SessionOptions? options = null)
    {
        using var defaults = options is null ? DefaultOptions() : null;
        try
        {
            _session = new InferenceSession(step.Model.ToBytes(), options ?? defaults!);
        }
        catch (OnnxRuntimeException e)
        {
            throw new TrainingSetupException("ONNX Runtime cannot load the step model: " + e.Message.ReplaceLineEndings(" "), e);
        }
        _binding = _session.CreateIoBinding();
        _stateNames = [.. step.InitialState.Keys];
        foreach (var (name, tensor) in step.InitialState)
        {
            _current[name] = ToOrtValue(tensor);
            _next[name] = ToOrtValue(tensor);
        }
        foreach (var name in new[] { "loss", "penalty", "objective" })
        {
            _scalars[name] = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, TensorElementType.Float, []);
        }
        _learningRate = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, TensorElementType.Float, []);
        _batchInputs = [.. step.Model.Graph.RequiredInputs.Select(v => v.Name)
            .Where(n => n != StepModelBuilder.LearningRate && !_current.ContainsKey(n))];
    }

    /// <summary>Session options for training: all graph optimizations, sequential execution.</summary>
    public static SessionOptions DefaultOptions(int intraOpThreads = 0) => new()
    {
        GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        IntraOpNumThreads = intraOpThreads,
        EnableMemoryPattern = true,
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
                    throw new TrainingSetupException($"the batch has no array for step-model input '{name}'");
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
            throw new TrainingSetupException("ONNX Runtime failed to run the step: " + e.Message.ReplaceLineEndings(" "), e);
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
                tensor.RawBytes.CopyTo(buffer.GetTensorMutableDataAsSpan<byte>());
                return buffer;
            }
            buffer.Dispose();
        }
        return _batchBuffers[name] = ToOrtValue(tensor);
    }

    private float Scalar(string name) => _scalars[name].GetTensorDataAsSpan<float>()[0];

    /// <summary>A host copy of every parameter and state (for checkpoints and export).</summary>
    public IReadOnlyDictionary<string, Tensor> State() => _stateNames.ToDictionary(
        n => n,
        n =>
        {
            var info = _current[n].GetTensorTypeAndShape();
            return new Tensor((ElementType)(int)info.ElementDataType, info.Shape, _current[n].GetTensorDataAsSpan<byte>().ToArray(), n);
        },
        StringComparer.Ordinal);

    /// <summary>Overwrites parameters and states (resuming from a checkpoint); shapes and types must match.</summary>
    public void LoadState(IReadOnlyDictionary<string, Tensor> state)
    {
        foreach (var name in _stateNames)
        {
            if (!state.TryGetValue(name, out var tensor))
            {
                throw new TrainingSetupException($"the state has no value for '{name}'");
            }
            var target = _current[name].GetTensorMutableDataAsSpan<byte>();
            if (tensor.RawBytes.Length != target.Length)
            {
                throw new TrainingSetupException($"'{name}' has {tensor.RawBytes.Length} bytes but the step model needs {target.Length}");
            }
            tensor.RawBytes.CopyTo(target);
        }
    }

    private static OrtValue ToOrtValue(Tensor tensor)
    {
        // ORT's TensorElementType numbers are TensorProto.DataType's.
        var value = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, (TensorElementType)(int)tensor.ElementType, tensor.Dims);
        tensor.RawBytes.CopyTo(value.GetTensorMutableDataAsSpan<byte>());
        return value;
    }

    public void Dispose()
    {
        foreach (var value in _current.Values.Concat(_next.Values).Concat(_scalars.Values).Concat(_batchBuffers.Values))
        {
            value.Dispose();
        }
        _learningRate.Dispose();
        _binding.Dispose();
        _runOptions.Dispose();
        _session.Dispose();
    }
}
