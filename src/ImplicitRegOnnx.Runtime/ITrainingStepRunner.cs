using ImplicitRegOnnx.Onnx;

namespace ImplicitRegOnnx.Runtime;

/// <summary>
/// What <see cref="Trainer"/> needs from whatever runs its steps: a step on a batch at a learning rate, and
/// the state as host tensors (checkpoints, export) and back (resume). <see cref="StepSession"/> (the fused step
/// of one process) and <see cref="Distributed.DataParallelStep"/> (the gradients-out step, averaged over the
/// processes of an MPI job) implement it.
/// </summary>
internal interface ITrainingStepRunner : IDisposable
{
    StepMetrics Step(IReadOnlyDictionary<string, Tensor> batch, float learningRate);

    IReadOnlyDictionary<string, Tensor> State();

    void LoadState(IReadOnlyDictionary<string, Tensor> state);
}
