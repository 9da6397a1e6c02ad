namespace ImplicitRegOnnx.Runtime.Data;

/// <summary>How the labels of loaded data are typed.</summary>
public enum LabelKind
{
    /// <summary>Integer data gives int64 class labels, anything else float32 targets.</summary>
    Auto,

    /// <summary>int64 class labels; non-integral values are an error.</summary>
    Class,

    /// <summary>float32 targets (regression, soft labels).</summary>
    Float,
}

/// <summary>Options of <see cref="DataLoader"/>; every one has a default that suits the common layouts.</summary>
public sealed record DataLoadOptions
{
    /// <summary>npz: the features array's name (default: x, X, input, inputs, features, data, images, or the only other array).</summary>
    public string? FeaturesName { get; init; }

    /// <summary>npz: the labels array's name (default: y, target, targets, labels, label).</summary>
    public string? LabelsName { get; init; }

    /// <summary>.npy and IDX: the labels file (default: found next to the features file, e.g. x.npy → y.npy, train-images-idx3-ubyte → train-labels-idx1-ubyte).</summary>
    public string? LabelsPath { get; init; }

    /// <summary>CSV: the label column, by header name or by 0-based index (negative counts from the end). Default: the last column.</summary>
    public string? LabelColumn { get; init; }

    /// <summary>CSV: whether the first row is a header; null detects it (a header row has a non-numeric field).</summary>
    public bool? HasHeader { get; init; }

    /// <summary>CSV: the delimiter; null detects ',', ';' or tab from the first row.</summary>
    public char? Delimiter { get; init; }

    /// <summary>How labels are typed.</summary>
    public LabelKind Labels { get; init; } = LabelKind.Auto;

    /// <summary>Reshape each example's features to this shape (one dimension may be -1), e.g. [1, 28, 28].</summary>
    public IReadOnlyList<long>? ExampleShape { get; init; }

    /// <summary>The defaults: every property at its initial value.</summary>
    public static DataLoadOptions Default { get; } = new();
}
