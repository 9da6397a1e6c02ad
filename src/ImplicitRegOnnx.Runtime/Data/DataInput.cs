using ImplicitRegOnnx.Onnx;

namespace ImplicitRegOnnx.Runtime.Data;

/// <summary>
/// A model input that a data set feeds: its name, its element type (null: not declared) and its dims
/// (-1 for a symbolic or unknown dimension; null: unknown rank). <see cref="Dataset.ForInputs"/> binds
/// a data set's arrays to a list of them.
/// </summary>
public sealed record DataInput(string Name, ElementType? ElementType, IReadOnlyList<long>? Dims)
{
    /// <summary>The inputs of <paramref name="model"/> that are not initializers, in the graph's order.</summary>
    public static IReadOnlyList<DataInput> Of(Model model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return [.. model.Graph.RequiredInputs.Select(Of)];
    }

    /// <summary>One graph input as a data input.</summary>
    public static DataInput Of(Value input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var type = input.TensorType;
        return new DataInput(input.Name, type?.ElementType, type?.Shape?.Select(d => d.Value ?? -1).ToArray());
    }
}
