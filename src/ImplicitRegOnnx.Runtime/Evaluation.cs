namespace ImplicitRegOnnx.Runtime;

/// <summary>Loss (and accuracy, for class labels) of a model on a data set.</summary>
public sealed record Evaluation(double Loss, double? Accuracy, int Examples)
{
    /// <summary>Mean squared error of the output against the target, per element (regression losses: mse, l1).</summary>
    public double? MeanSquaredError { get; init; }

    /// <summary>Mean absolute error of the output against the target, per element (regression losses: mse, l1).</summary>
    public double? MeanAbsoluteError { get; init; }
}
