using ImplicitRegOnnx.Onnx;
using Microsoft.ML.OnnxRuntime;
using Tensor = ImplicitRegOnnx.Onnx.Tensor;

namespace ImplicitRegOnnx.Runtime;

/// <summary>
/// The parameters and optimizer states of a step model in ONNX Runtime buffers, shared by
/// <see cref="StepSession"/> (fused form) and <see cref="GradientStepSession"/> (gradients-out form): every
/// state value P has two buffers, <see cref="Current"/> (bound as the input P) and <see cref="Next"/> (bound
/// as the output P.next), which <see cref="Swap"/> exchanges after a step. With a device memory both buffers
/// live there; host copies are made only by <see cref="State"/> and <see cref="LoadState"/>.
/// </summary>
internal sealed class StateBuffers : IDisposable
{
    private readonly List<string> _names;
    private readonly Dictionary<string, OrtValue> _current = new(StringComparer.Ordinal);
    private readonly Dictionary<string, OrtValue> _next = new(StringComparer.Ordinal);
    private readonly IReadOnlyDictionary<string, Tensor> _initial;
    private readonly StateTransfer? _transfer;

    /// <param name="initial">The values before the first step (<see cref="ImplicitRegOnnx.Training.StepModel.InitialState"/>).</param>
    /// <param name="options">The step session's options (the transfer runs on the same provider).</param>
    /// <param name="stateMemory">Null for host memory, else the device memory the state lives in.</param>
    public StateBuffers(IReadOnlyDictionary<string, Tensor> initial, SessionOptions options, OrtMemoryInfo? stateMemory)
    {
        _names = [.. initial.Keys];
        _initial = initial;
        if (stateMemory is null)
        {
            foreach (var (name, tensor) in initial)
            {
                _current[name] = OrtTensors.ToOrtValue(tensor);
                _next[name] = OrtTensors.ToOrtValue(tensor);
            }
        }
        else
        {
            _transfer = new StateTransfer(initial, options, stateMemory);
            Upload(initial, _current);
            Upload(initial, _next);
        }
    }

    /// <summary>The state names (parameters, optimizer states, "step"), in the order of the initial state.</summary>
    public IReadOnlyList<string> Names => _names;

    public bool Contains(string name) => _current.ContainsKey(name);

    /// <summary>The buffer the next step reads as input <paramref name="name"/>.</summary>
    public OrtValue Current(string name) => _current[name];

    /// <summary>The buffer the next step writes as output <paramref name="name"/>.next.</summary>
    public OrtValue Next(string name) => _next[name];

    /// <summary>After a step: what was written becomes what the next step reads.</summary>
    public void Swap()
    {
        foreach (var name in _names)
        {
            (_current[name], _next[name]) = (_next[name], _current[name]);
        }
    }

    /// <summary>A host copy of every parameter and state (for checkpoints and export).</summary>
    public IReadOnlyDictionary<string, Tensor> State()
    {
        if (_transfer is null)
        {
            return _names.ToDictionary(n => n, n => OrtTensors.ToTensor(_current[n], n), StringComparer.Ordinal);
        }
        var host = _transfer.ToHost(_current);
        try
        {
            return _names.ToDictionary(n => n, n => OrtTensors.ToTensor(host[n], n), StringComparer.Ordinal);
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
        ArgumentNullException.ThrowIfNull(state);
        foreach (var name in _names)
        {
            if (!state.TryGetValue(name, out var tensor))
            {
                throw ImplicitRegException.BadInput($"the state has no value for '{name}'");
            }
            var expected = _initial[name];
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
        foreach (var name in _names)
        {
            OrtTensors.CopyInto(state[name], _current[name]);
        }
    }

    /// <summary>Copies host tensors into new device buffers that replace those in <paramref name="buffers"/>.</summary>
    private void Upload(IReadOnlyDictionary<string, Tensor> state, Dictionary<string, OrtValue> buffers)
    {
        var host = _names.ToDictionary(n => n, n => OrtTensors.ToOrtValue(state[n]), StringComparer.Ordinal);
        try
        {
            var device = _transfer!.ToDevice(host);
            foreach (var name in _names)
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

    public void Dispose()
    {
        foreach (var value in _current.Values.Concat(_next.Values))
        {
            value.Dispose();
        }
        _transfer?.Dispose();
    }
}

/// <summary>
/// The buffers a batch is copied into, one per batch input, reused from step to step while the type and
/// shape stay the same (every step but a smaller last batch), so a step allocates nothing and copies the
/// batch once.
/// </summary>
internal sealed class BatchBuffers(int microbatches = 1) : IDisposable
{
    private readonly Dictionary<string, OrtValue> _buffers = new(StringComparer.Ordinal);

    /// <summary>
    /// How many equal microbatches a step model splits every batch into for its penalty (its
    /// <c>implicitreg.penalty</c> and <c>implicitreg.microbatches</c> metadata; 1 without a penalty).
    /// </summary>
    public static int MicrobatchesOf(ImplicitRegOnnx.Training.StepModel step)
    {
        string? Meta(string key) => step.Model.MetadataProps.LastOrDefault(e => e.Key == "implicitreg." + key)?.Value;
        return Meta("penalty") is null or "none" ? 1
            : int.TryParse(Meta("microbatches"), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && n > 0 ? n : 1;
    }

    /// <summary>The buffer of input <paramref name="name"/>, filled with the batch's array of that name.</summary>
    public OrtValue For(string name, IReadOnlyDictionary<string, Tensor> batch)
    {
        if (!batch.TryGetValue(name, out var tensor))
        {
            throw ImplicitRegException.BadInput($"the batch has no array for step-model input '{name}'");
        }
        // The step graph slices the batch into n parts of B / n rows (design.md §1); rows past n·(B / n) would
        // be left out of the penalty without a word.
        if (microbatches > 1 && tensor.Dims.Length > 0 && tensor.Dims[0] % microbatches != 0)
        {
            throw ImplicitRegException.BadInput(FormattableString.Invariant(
                $"the batch's '{name}' has {tensor.Dims[0]} rows, which do not split into the step model's {microbatches} equal microbatches; give a batch of a multiple of {microbatches} rows"));
        }
        if (_buffers.TryGetValue(name, out var buffer))
        {
            var info = buffer.GetTensorTypeAndShape();
            if ((int)info.ElementDataType == (int)tensor.ElementType && info.Shape.AsSpan().SequenceEqual(tensor.Dims))
            {
                OrtTensors.CopyInto(tensor, buffer);
                return buffer;
            }
            buffer.Dispose();
        }
        return _buffers[name] = OrtTensors.ToOrtValue(tensor);
    }

    public void Dispose()
    {
        foreach (var value in _buffers.Values)
        {
            value.Dispose();
        }
    }
}

/// <summary>Loading and running step models in ONNX Runtime with the toolkit's errors.</summary>
internal static class OrtSteps
{
    /// <summary>An inference session of <paramref name="model"/>; <paramref name="what"/> names it in errors ("the step model").</summary>
    public static InferenceSession Load(Model model, SessionOptions options, string what)
    {
        try
        {
            return new InferenceSession(model.ToBytes(), options);
        }
        catch (OnnxRuntimeException e)
        {
            throw ImplicitRegException.Failed($"ONNX Runtime cannot load {what}: " + e.Message.ReplaceLineEndings(" "), e);
        }
    }

    /// <summary>Runs a bound session; <paramref name="what"/> names the run in errors ("the step").</summary>
    public static void Run(InferenceSession session, RunOptions runOptions, OrtIoBinding binding, string what)
    {
        try
        {
            session.RunWithBinding(runOptions, binding);
        }
        catch (OnnxRuntimeException e)
        {
            throw ImplicitRegException.Failed($"ONNX Runtime failed to run {what}: " + e.Message.ReplaceLineEndings(" "), e);
        }
    }
}
