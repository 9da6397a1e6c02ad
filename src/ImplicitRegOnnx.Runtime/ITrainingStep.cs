using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Runtime.Training;

namespace ImplicitRegOnnx.Runtime;

/// <summary>
/// One training step as the trainer sees it: a batch, the learning rate and the penalty coefficient go
/// in, the step's scalars come out, and parameters and optimizer states stay inside until asked for.
/// <see cref="StepSession"/> runs a fused step model (<see cref="ImplicitRegOnnx.Training.StepModelForm.Fused"/>);
/// the gradients-out form (a gradients model and an apply-update model, with clipping or an all-reduce
/// between them) implements the same interface, so <c>Trainer</c>, checkpoints and resume work over either.
/// </summary>
public interface ITrainingStep : IDisposable
{
    /// <summary>Trainable parameter names, in the step model's input order.</summary>
    IReadOnlyList<string> Parameters { get; }

    /// <summary>The inputs a batch must provide (model inputs and, unless the model computes its loss, "target").</summary>
    IReadOnlyCollection<string> BatchInputs { get; }

    /// <summary>Runs one step on a batch and keeps the updated parameters and states.</summary>
    /// <param name="batch">One tensor per name of <see cref="BatchInputs"/>.</param>
    /// <param name="learningRate">ε of this step.</param>
    /// <param name="penaltyCoefficient">c of objective = C + c·R for this step; null: the coefficient the step model was built with.</param>
    StepMetrics Step(IReadOnlyDictionary<string, Tensor> batch, float learningRate, float? penaltyCoefficient = null);

    /// <summary>A host copy of every parameter and optimizer state, by step-model input name.</summary>
    IReadOnlyDictionary<string, Tensor> State();

    /// <summary>Overwrites every parameter and optimizer state (resume); names, types and shapes must match.</summary>
    void LoadState(IReadOnlyDictionary<string, Tensor> state);
}
