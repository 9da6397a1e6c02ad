namespace ImplicitRegOnnx.Autodiff;

/// <summary>
/// The vector-Jacobian product of one operator: given the gradients of the node's outputs (through
/// <see cref="GradientContext.OutputGrad"/>), it emits ai.onnx nodes that compute the gradients of
/// the inputs it is asked for and records them with <see cref="GradientContext.SetGrad"/>.
/// Rules may emit only operators that have rules themselves, so that a backward graph can be
/// differentiated again (the exact penalty needs the gradient of a gradient).
/// </summary>
public delegate void GradientRule(GradientContext context);
