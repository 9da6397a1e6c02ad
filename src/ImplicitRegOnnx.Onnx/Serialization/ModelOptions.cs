namespace ImplicitRegOnnx.Onnx.Serialization;

/// <summary>Options for reading a model (<see cref="Model.Load(string, ModelLoadOptions?)"/>).</summary>
public sealed class ModelLoadOptions
{
    /// <summary>
    /// The folder that external-data locations are relative to and must stay inside. Null: the model file's folder when
    /// loading from a path; when loading from a stream or bytes, a model with external data then fails to load.
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

/// <summary>Options for writing a model to a path (<see cref="Model.Save(string, ModelSaveOptions?)"/>).</summary>
public sealed class ModelSaveOptions
{
    /// <summary>Where tensor payloads go; <see cref="ExternalDataPolicy.Preserve"/> by default.</summary>
    public ExternalDataPolicy ExternalData { get; init; } = ExternalDataPolicy.Preserve;

    /// <summary>The side file for <see cref="ExternalDataPolicy.AllExternal"/>, a name relative to the model's folder that must stay inside it; null for the model's file name plus ".data" (e.g. "model.onnx.data").</summary>
    public string? ExternalFileName { get; init; }

    /// <summary>Under <see cref="ExternalDataPolicy.AllExternal"/>, payloads of at least this many bytes go to the side file and smaller ones stay inline; 1024 by default.</summary>
    public long ExternalThresholdBytes { get; init; } = 1024;
}
