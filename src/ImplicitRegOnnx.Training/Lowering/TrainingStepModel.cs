using System.Text.Json;
using ImplicitRegOnnx.Onnx.Serialization;

namespace ImplicitRegOnnx.Training.Lowering;

/// <summary>A training algorithm from ModelProto.training_info made into a standalone model of standard ops.</summary>
/// <param name="Model">The runnable step model.</param>
/// <param name="UpdateBinding">(variable, output) pairs: after a step, feed each output back as its variable.</param>
/// <param name="Lowering">What the lowering of its training ops did.</param>
/// <param name="InitializationIgnored">The TrainingInfoProto has an initialization graph, which the step model does not apply (the variables start from their initializers).</param>
internal sealed record TrainingStep(Model Model, IReadOnlyList<KeyValuePair<string, string>> UpdateBinding, LoweringReport Lowering, bool InitializationIgnored);

/// <summary>
/// Turns training_info[i] of a model into one ordinary model: the main graph and the algorithm graph
/// joined as the ONNX IR spec defines a training step (<see cref="TrainingInfos.Algorithm"/>), the
/// training ops lowered (<see cref="TrainingOpLowering"/>), and every mutable variable (a key of
/// update_binding) made a graph input that keeps its initializer as the default value. A caller runs the
/// model, then feeds each bound output back as its variable in the next run; the binding is also in the
/// metadata under <see cref="UpdateBindingKey"/> (a JSON object, variable → output).
/// </summary>
internal static class TrainingStepModel
{
    /// <summary>metadata_props key of the update binding.</summary>
    public const string UpdateBindingKey = "implicitreg.update_binding";

    public static TrainingStep Build(Model model, int index)
    {
        ArgumentNullException.ThrowIfNull(model);
        var count = TrainingInfos.Count(model);
        if (index < 0 || index >= count)
        {
            throw ImplicitRegException.BadInput($"training_info[{index}] does not exist; the model carries {count}");
        }
        var algorithm = TrainingInfos.Algorithm(model, index);
        if (algorithm.UpdateBinding.GroupBy(p => p.Key, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twice)
        {
            throw ImplicitRegException.BadInput($"training_info[{index}]: update_binding assigns '{twice.Key}' more than once (the IR spec allows one assignment per variable)");
        }
        var step = algorithm.Model;
        var graph = step.Graph;
        foreach (var (variable, output) in algorithm.UpdateBinding)
        {
            var value = graph.Initializers.FirstOrDefault(v => v.Name == variable)
                ?? throw ImplicitRegException.BadInput($"training_info[{index}]: update_binding key '{variable}' is not an initializer (the IR spec requires one)");
            if (!graph.Outputs.Any(o => o.Name == output))
            {
                throw ImplicitRegException.BadInput($"training_info[{index}]: update_binding value '{output}' is not an output of the algorithm or the main graph");
            }
            if (!value.IsGraphInput)
            {
                // An initializer that is also a graph input is a default the caller may override (IR version 4 and newer).
                graph.AddInput(value);
            }
        }
        var report = TrainingOpLowering.Lower(step);
        step.MetadataProps.RemoveAll(m => m.Key == UpdateBindingKey);
        step.MetadataProps.Add(new MetadataEntry(UpdateBindingKey,
            JsonSerializer.Serialize(algorithm.UpdateBinding.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal))));
        return new TrainingStep(step, algorithm.UpdateBinding, report, algorithm.HasInitialization);
    }
}
