using ImplicitRegOnnx.Onnx.Building;

namespace ImplicitRegOnnx.Training;

/// <summary>Losses attached to a model output; all use mean reduction over the batch (and every other element).</summary>
public enum LossKind
{
    /// <summary>Logits [N, C] or [N, C, d...] and int64 class labels [N] or [N, d...] (softmax cross-entropy).</summary>
    CrossEntropy,

    /// <summary>Mean squared error against a float target of the output's shape.</summary>
    Mse,

    /// <summary>Binary cross-entropy on logits against float targets in [0, 1].</summary>
    BceWithLogits,

    /// <summary>Mean absolute error.</summary>
    L1,

    /// <summary>Negative log-likelihood of log-probabilities [N, C(, d...)] at int64 labels.</summary>
    Nll,
}

/// <summary>Builds loss subgraphs from standard ops that have gradient rules (so the penalty can differentiate them twice).</summary>
internal static class Losses
{
    public static readonly IReadOnlyList<string> Names = ["cross-entropy", "mse", "bce-with-logits", "l1", "nll"];

    public static bool TryParse(string name, out LossKind kind)
    {
        kind = name switch
        {
            "cross-entropy" or "ce" => LossKind.CrossEntropy,
            "mse" => LossKind.Mse,
            "bce-with-logits" or "bce" => LossKind.BceWithLogits,
            "l1" => LossKind.L1,
            "nll" => LossKind.Nll,
            _ => (LossKind)(-1),
        };
        return Enum.IsDefined(kind);
    }

    public static string Name(this LossKind kind) => kind switch
    {
        LossKind.CrossEntropy => "cross-entropy",
        LossKind.Mse => "mse",
        LossKind.BceWithLogits => "bce-with-logits",
        LossKind.L1 => "l1",
        _ => "nll",
    };

    /// <summary>The element type the target must have for this loss.</summary>
    public static bool TargetIsClassIndex(this LossKind kind) => kind is LossKind.CrossEntropy or LossKind.Nll;

    /// <summary>Appends the mean loss of <paramref name="prediction"/> against <paramref name="target"/>; returns a scalar.</summary>
    public static Value Build(GraphBuilder b, Value prediction, Value target, LossKind kind)
    {
        var mean = Attribute.String("reduction", "mean");
        switch (kind)
        {
            case LossKind.CrossEntropy:
                // ONNX SoftmaxCrossEntropyLoss: scores [N, C, d...], labels [N, d...], mean over all labels.
                return b.Op("SoftmaxCrossEntropyLoss", [prediction, target], mean);
            case LossKind.Nll:
                return b.Op("NegativeLogLikelihoodLoss", [prediction, target], mean);
            case LossKind.Mse:
                {
                    var diff = b.Sub(prediction, target);
                    return MeanAll(b, b.Mul(diff, diff));
                }
            case LossKind.L1:
                return MeanAll(b, b.Op("Abs", [b.Sub(prediction, target)]));
            case LossKind.BceWithLogits:
                {
                    // max(x, 0) − x·t + log(1 + e^(−|x|)): the stable form (no overflow for large |x|).
                    var x = prediction;
                    var softplus = b.Op("Softplus", [b.Neg(b.Op("Abs", [x]))]);
                    var loss = b.Add(b.Sub(b.Op("Relu", [x]), b.Mul(x, target)), softplus);
                    return MeanAll(b, loss);
                }
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, null);
        }
    }

    /// <summary>Mean over every element: ReduceMean without axes reduces all of them in every opset.</summary>
    private static Value MeanAll(GraphBuilder b, Value x) => b.Op("ReduceMean", [x], Attribute.Int("keepdims", 0));
}
