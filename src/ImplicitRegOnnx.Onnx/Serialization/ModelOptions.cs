namespace ImplicitRegOnnx.Onnx.Serialization;

/// <summary>Options for reading a model.</summary>
public sealed class ModelLoadOptions
{
    /// <summary>
    /// Folder that external-data locations are relative to. Defaults to the model file's folder when
    /// loading from a path; must be given to load a model with external data from a stream.
    /// </summary>
    public string? BaseDirectory { get; init; }
}

/// <summary>Where tensor payloads go when a model is saved to a path.</summary>
public enum ExternalDataPolicy
{
    /// <summary>Tensors that came from side files go back to side files (same relative names); others inline.</summary>
    Preserve,

    /// <summary>Every payload inline in the model file (fails past protobuf's 2 GiB limit).</summary>
    Inline,

    /// <summary>Every payload of at least <see cref="ModelSaveOptions.ExternalThresholdBytes"/> into one side file.</summary>
    AllExternal,
}

/// <summary>Options for writing a model to a path.</summary>
public sealed class ModelSaveOptions
{
    public ExternalDataPolicy ExternalData { get; init; } = ExternalDataPolicy.Preserve;

    /// <summary>Side file name for <see cref="ExternalDataPolicy.AllExternal"/>; defaults to "MODEL.onnx.data".</summary>
    public string? ExternalFileName { get; init; }

    /// <summary>Smallest payload moved to the side file under <see cref="ExternalDataPolicy.AllExternal"/>.</summary>
    public long ExternalThresholdBytes { get; init; } = 1024;
}
