namespace ImplicitRegOnnx.Onnx.Passes;

/// <summary>
/// Computes the value of constant subgraphs for <see cref="ConstantFolding"/>. The IR cannot run
/// operators itself; an evaluator above it can (<c>ImplicitRegOnnx.Runtime.OrtConstantEvaluator</c>
/// runs them in ONNX Runtime). Without one, constant folding still turns Constant nodes into
/// initializers and folds Shape and Size of statically shaped inputs.
/// </summary>
public interface IConstantEvaluator
{
    /// <summary>
    /// Evaluates a small model made by <see cref="ConstantFolding"/>: a main graph with no inputs whose
    /// initializers are the constants, whose nodes (standard ai.onnx ops, deterministic, no subgraphs) are the
    /// computation and whose graph outputs are the values wanted. Initializers have element types that
    /// hold numbers (<see cref="ElementTypes.HoldsNumbers"/>).
    /// </summary>
    /// <param name="model">The model to run; the evaluator must not change it.</param>
    /// <returns>
    /// One entry per graph output, in order: its value, or null where the evaluator cannot give that output
    /// (an element type it does not return); that node then stays. Null for the whole call when the model
    /// cannot be evaluated (an operator or type the evaluator lacks, a failure while running): the pass then
    /// evaluates its nodes one at a time and leaves each node that fails alone. Failures of that kind are
    /// reported by returning null, not by throwing.
    /// </returns>
    IReadOnlyList<Tensor?>? Evaluate(Model model);
}
