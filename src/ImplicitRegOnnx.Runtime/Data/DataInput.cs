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

    /// <summary>
    /// For the class-label target of a cross-entropy or nll loss: the number of classes C (the size of the
    /// scored output's dimension 1, when the model declares it). <see cref="Dataset.ForInputs"/> then
    /// requires every label to be in [0, C); null: not checked.
    /// </summary>
    public long? Classes { get; init; }

    /// <summary>
    /// The "target" input of a training or evaluation model, with <see cref="Classes"/> set from the
    /// declared shape of <paramref name="scored"/> (the output the loss scores) for class-label losses.
    /// </summary>
    /// <param name="model">The training-step or evaluation model.</param>
    /// <param name="scored">The output the loss is attached to (its dimension 1 counts the classes).</param>
    /// <param name="classLabels">Whether the loss takes class labels (cross-entropy, nll).</param>
    /// <returns>Null when the model has no required input called "target".</returns>
    public static DataInput? TargetOf(Model model, string scored, bool classLabels)
    {
        ArgumentNullException.ThrowIfNull(model);
        var target = model.Graph.RequiredInputs.Where(v => v.Name == Dataset.TargetName).Select(Of).FirstOrDefault();
        if (target is null || !classLabels)
        {
            return target;
        }
        var shape = model.Graph.FindValue(scored)?.TensorType?.Shape;
        return shape is { Rank: >= 2 } && shape[1].Value is > 0 and var classes ? target with { Classes = classes } : target;
    }

    /// <summary>One graph input as a data input.</summary>
    public static DataInput Of(Value input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var type = input.TensorType;
        return new DataInput(input.Name, type?.ElementType, type?.Shape?.Select(d => d.Value ?? -1).ToArray());
    }
}
