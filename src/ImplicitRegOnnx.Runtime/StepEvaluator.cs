using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Runtime.Verification;
using ImplicitRegOnnx.Training;

namespace ImplicitRegOnnx.Runtime;

/// <summary>Runs a <see cref="StepModel"/> with ONNX Runtime CPU, one step at a time, carrying parameters and states over.</summary>
internal sealed class StepEvaluator : IDisposable
{
    private readonly ModelRunner _runner;
    private readonly StepModel _step;
    private readonly Dictionary<string, Tensor> _state;

    /// <summary>Creates a CPU session for <paramref name="step"/>, starting from its <see cref="StepModel.InitialState"/>.</summary>
    public StepEvaluator(StepModel step)
    {
        _step = step;
        _runner = ModelRunner.FromBytes(step.Model.ToBytes());
        _state = new Dictionary<string, Tensor>(step.InitialState, StringComparer.Ordinal);
    }

    /// <summary>Current parameters and optimizer states (as the next step will read them).</summary>
    public IReadOnlyDictionary<string, Tensor> State => _state;

    /// <summary>Runs one step on a batch; returns all outputs and moves every "X.next" into "X".</summary>
    public IReadOnlyDictionary<string, Tensor> Run(IReadOnlyDictionary<string, Tensor> batch, float learningRate)
    {
        var feeds = new List<Tensor>();
        foreach (var input in _step.Model.Graph.RequiredInputs)
        {
            var tensor = input.Name == StepModelBuilder.LearningRate ? Tensor.Scalar(learningRate)
                : _state.TryGetValue(input.Name, out var s) ? s
                : batch.TryGetValue(input.Name, out var x) ? x
                : throw ImplicitRegException.BadInput($"no value for step-model input '{input.Name}'");
            feeds.Add(tensor.WithName(input.Name));
        }
        var outputs = _runner.Run(feeds).ToDictionary(o => o.Name, o => o.Tensor!, StringComparer.Ordinal);
        foreach (var name in _state.Keys.ToList())
        {
            _state[name] = outputs[name + ".next"].WithName(name);
        }
        return outputs;
    }

    /// <summary>Disposes the session.</summary>
    public void Dispose() => _runner.Dispose();
}
