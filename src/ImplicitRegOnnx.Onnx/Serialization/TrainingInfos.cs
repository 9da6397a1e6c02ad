using Google.Protobuf;
using ImplicitRegOnnx.Onnx.Serialization.Proto;

namespace ImplicitRegOnnx.Onnx.Serialization;

/// <summary>
/// The training algorithm of one TrainingInfoProto as an ordinary model. The ONNX IR spec (onnx.proto,
/// TrainingInfoProto.algorithm) defines a training step as the graph obtained by concatenating the
/// inputs, initializers, outputs, nodes and value_info of ModelProto.graph and of the algorithm graph,
/// in that order; after a step, each initializer named by a key of <see cref="UpdateBinding"/> takes
/// the value of the output named by its value.
/// </summary>
/// <param name="Model">The combined graph as a model (opsets, metadata and functions of the original; no training_info).</param>
/// <param name="UpdateBinding">(initializer, output) pairs: the mutable variables and their next values.</param>
/// <param name="InitializationBinding">(initializer, output of the initialization graph) pairs.</param>
/// <param name="HasInitialization">The TrainingInfoProto holds an initialization graph with nodes.</param>
internal sealed record TrainingAlgorithm(
    Model Model,
    IReadOnlyList<KeyValuePair<string, string>> UpdateBinding,
    IReadOnlyList<KeyValuePair<string, string>> InitializationBinding,
    bool HasInitialization);

/// <summary>
/// Access to ModelProto.training_info, which the IR keeps as preserved bytes (it does not model it):
/// how many there are, each algorithm joined to the main graph, and removing them.
/// </summary>
internal static class TrainingInfos
{
    /// <summary>How many TrainingInfoProtos the model carries.</summary>
    public static int Count(Model model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Preserved(model)?.TrainingInfo.Count ?? 0;
    }

    /// <summary>The training step of training_info[<paramref name="index"/>] as one model (see <see cref="TrainingAlgorithm"/>).</summary>
    public static TrainingAlgorithm Algorithm(Model model, int index)
    {
        ArgumentNullException.ThrowIfNull(model);
        var proto = ProtoWriter.Inline.WriteModel(model);
        if (index < 0 || index >= proto.TrainingInfo.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(index), $"the model carries {proto.TrainingInfo.Count} training_info entries");
        }
        var info = proto.TrainingInfo[index];
        if (info.Algorithm is { } algorithm)
        {
            var graph = proto.Graph;
            graph.Input.Add(algorithm.Input);
            graph.Initializer.Add(algorithm.Initializer);
            graph.SparseInitializer.Add(algorithm.SparseInitializer);
            graph.Output.Add(algorithm.Output);
            graph.Node.Add(algorithm.Node);
            graph.ValueInfo.Add(algorithm.ValueInfo);
        }
        proto.TrainingInfo.Clear();
        Model combined;
        try
        {
            combined = new ProtoReader(null).ReadModel(proto);
        }
        catch (ImplicitRegException e)
        {
            throw ImplicitRegException.BadInput($"training_info[{index}]: the algorithm joined to the main graph is not a valid graph: {e.Message}", e);
        }
        return new TrainingAlgorithm(
            combined,
            [.. info.UpdateBinding.Select(e => new KeyValuePair<string, string>(e.Key, e.Value))],
            [.. info.InitializationBinding.Select(e => new KeyValuePair<string, string>(e.Key, e.Value))],
            info.Initialization is { Node.Count: > 0 });
    }

    /// <summary>Drops every TrainingInfoProto from the model; returns how many there were.</summary>
    public static int Remove(Model model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var rest = Preserved(model);
        if (rest is null || rest.TrainingInfo.Count == 0)
        {
            return 0;
        }
        var count = rest.TrainingInfo.Count;
        rest.TrainingInfo.Clear();
        model.PreservedFields = rest.CalculateSize() == 0 ? null : rest.ToByteArray();
        return count;
    }

    private static ModelProto? Preserved(Model model) =>
        model.PreservedFields is null ? null : ModelProto.Parser.WithDiscardUnknownFields(false).ParseFrom(model.PreservedFields);
}
