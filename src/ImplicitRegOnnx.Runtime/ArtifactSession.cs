using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Runtime.Verification;
using ImplicitRegOnnx.Training;
using Microsoft.ML.OnnxRuntime;

namespace ImplicitRegOnnx.Runtime;

/// <summary>What an evaluation step gives: the mean loss of the batch and the model's original outputs.</summary>
/// <param name="Loss">Mean loss over the batch.</param>
/// <param name="Outputs">The inference model's outputs, by name.</param>
public sealed record EvalStepResult(float Loss, IReadOnlyDictionary<string, Tensor> Outputs);

/// <summary>
/// The step API over the files <c>rewrite</c>/<c>convert</c> wrote (<see cref="TrainingArtifacts"/>), in the
/// spirit of ONNX Runtime's on-device training: <see cref="TrainStep"/> runs the step model through a
/// <see cref="StepSession"/> (parameters and states in bound buffers), <see cref="EvalStep"/> runs the
/// evaluation model with the current parameters, <see cref="State"/>/<see cref="LoadState"/> move them in and
/// out, and <see cref="ExportInferenceModel"/> gives the inference model with the trained weights.
/// </summary>
public sealed class ArtifactSession : ITrainingStep
{
    private readonly StepSession _session;
    private ModelRunner? _eval;

    /// <param name="artifacts">The opened files.</param>
    /// <param name="options">Session options (device, threads); <see cref="StepSession.DefaultOptions"/> when null.</param>
    /// <param name="stateMemory">Where parameters and states live (<see cref="DeviceSetup.StateMemory"/>); null for host memory.</param>
    public ArtifactSession(TrainingArtifacts artifacts, SessionOptions? options = null, OrtMemoryInfo? stateMemory = null)
    {
        ArgumentNullException.ThrowIfNull(artifacts);
        Artifacts = artifacts;
        _session = new StepSession(artifacts.Step, options, stateMemory);
    }

    /// <summary>The files this session runs.</summary>
    public TrainingArtifacts Artifacts { get; }

    /// <inheritdoc/>
    public IReadOnlyList<string> Parameters => _session.Parameters;

    /// <inheritdoc/>
    public IReadOnlyCollection<string> BatchInputs => _session.BatchInputs;

    /// <summary>One training step: loss, penalty and objective of the batch before the update.</summary>
    /// <param name="batch">One tensor per name of <see cref="BatchInputs"/>.</param>
    /// <param name="learningRate">ε of this step.</param>
    /// <param name="penaltyCoefficient">c of objective = C + c·R; null: the coefficient the step model was built with.</param>
    public StepMetrics TrainStep(IReadOnlyDictionary<string, Tensor> batch, float learningRate, float? penaltyCoefficient = null) =>
        _session.Step(batch, learningRate, penaltyCoefficient);

    /// <inheritdoc/>
    StepMetrics ITrainingStep.Step(IReadOnlyDictionary<string, Tensor> batch, float learningRate, float? penaltyCoefficient) =>
        TrainStep(batch, learningRate, penaltyCoefficient);

    /// <summary>The loss and outputs of a batch with the current parameters (the evaluation model; nothing is updated).</summary>
    /// <param name="batch">The model inputs and "target", by name.</param>
    /// <exception cref="ImplicitRegException">BadInput when there is no evaluation model or the batch lacks an input.</exception>
    public EvalStepResult EvalStep(IReadOnlyDictionary<string, Tensor> batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var model = Artifacts.Eval
            ?? throw ImplicitRegException.BadInput($"{Artifacts.StepPath}: no evaluation model beside it; write one with rewrite --eval-out (convert writes it) to run evaluation steps");
        _eval ??= ModelRunner.FromBytes(model.ToBytes());
        var state = _session.State();
        var feeds = new List<Tensor>();
        foreach (var input in model.Graph.RequiredInputs)
        {
            var tensor = state.TryGetValue(input.Name, out var p) ? p
                : batch.TryGetValue(input.Name, out var x) ? x
                : throw ImplicitRegException.BadInput($"the batch has no array for evaluation-model input '{input.Name}'");
            feeds.Add(tensor.WithName(input.Name));
        }
        var outputs = _eval.Run(feeds).Where(o => o.Tensor is not null).ToDictionary(o => o.Name, o => o.Tensor!, StringComparer.Ordinal);
        // EvalModelBuilder puts the loss first (named "loss" unless the model already uses that name).
        var lossName = model.Graph.Outputs[0].Name;
        var loss = (float)outputs[lossName].ToDoubles()[0];
        outputs.Remove(lossName);
        return new EvalStepResult(loss, outputs);
    }

    /// <inheritdoc/>
    public IReadOnlyDictionary<string, Tensor> State() => _session.State();

    /// <inheritdoc/>
    public void LoadState(IReadOnlyDictionary<string, Tensor> state) => _session.LoadState(state);

    /// <summary>The inference model inside the step model (its original inputs and outputs) with the current weights.</summary>
    public Model ExportInferenceModel() => ModelExport.FromStepModel(Artifacts.Step.Model, _session.State(), Artifacts.StepPath);

    /// <summary>Releases the sessions.</summary>
    public void Dispose()
    {
        _eval?.Dispose();
        _session.Dispose();
    }
}
