namespace ImplicitRegOnnx.Training;

/// <summary>
/// Writes trained weights back into an inference model: each initializer named in the weights takes
/// the new value (same element type and shape required). Names that match no initializer are errors,
/// except optimizer states and the step counter of a step model ("P.momentum", "step", ...), which are skipped.
/// </summary>
public static class ModelExport
{
    /// <summary>A copy of <paramref name="inference"/> with <paramref name="weights"/> in place; <paramref name="source"/> names them in errors (<see cref="ErrorKind.BadInput"/>: mismatched type or shape, unknown names, nothing replaced).</summary>
    public static Model WithWeights(Model inference, IReadOnlyDictionary<string, Tensor> weights, string source)
    {
        var model = Model.Load(inference.ToBytes());
        var graph = model.Graph;
        var byName = graph.Initializers.Where(v => v.Initializer is not null).ToDictionary(v => v.Name, StringComparer.Ordinal);
        var replaced = 0;
        var unknown = new List<string>();
        foreach (var (name, tensor) in weights)
        {
            if (!byName.TryGetValue(name, out var value))
            {
                if (!IsOptimizerState(name, byName.Keys))
                {
                    unknown.Add(name);
                }
                continue;
            }
            var old = value.Initializer!;
            if (old.ElementType != tensor.ElementType || !old.Dims.AsSpan().SequenceEqual(tensor.Dims))
            {
                throw ImplicitRegException.BadInput($"{source}: '{name}' is {tensor.ElementType.Name()}[{string.Join(",", tensor.Dims)}] but the model's initializer is {old.ElementType.Name()}[{string.Join(",", old.Dims)}]");
            }
            graph.AttachInitializer(value, tensor.WithName(name));
            replaced++;
        }
        if (unknown.Count > 0)
        {
            throw ImplicitRegException.BadInput($"{source}: {string.Join(", ", unknown.Select(n => $"'{n}'"))} match no initializer of the model; is this the right model?");
        }
        if (replaced == 0)
        {
            throw ImplicitRegException.BadInput($"{source}: holds no weight of this model");
        }
        model.MetadataProps.RemoveAll(e => e.Key.StartsWith("implicitreg.", StringComparison.Ordinal));
        return model;
    }

    /// <summary>Whether a model is a step model written by this toolkit (it records the original interface).</summary>
    public static bool IsStepModel(Model model) => model.MetadataProps.Any(e => e.Key == StepModelBuilder.OriginalOutputsKey);

    /// <summary>
    /// The inference model inside a step model: the original inputs and outputs (recorded in its
    /// metadata), with the trained weights as initializers; the loss, backward and update are dropped.
    /// </summary>
    public static Model FromStepModel(Model stepModel, IReadOnlyDictionary<string, Tensor> weights, string source)
    {
        var model = Model.Load(stepModel.ToBytes());
        var graph = model.Graph;
        string[] Read(string key) =>
            model.MetadataProps.LastOrDefault(e => e.Key == key)?.Value.Split('\n', StringSplitOptions.RemoveEmptyEntries) ?? [];
        var inputNames = Read(StepModelBuilder.OriginalInputsKey).ToHashSet(StringComparer.Ordinal);
        var outputNames = Read(StepModelBuilder.OriginalOutputsKey);
        var parameterNames = Read(StepModelBuilder.ParametersKey);
        var outputs = new List<Value>();
        foreach (var name in outputNames)
        {
            outputs.Add(FindValue(graph, name)
                ?? throw ImplicitRegException.BadInput($"{source}: the step model no longer computes the original output '{name}'; export from the original model instead"));
        }
        foreach (var name in parameterNames)
        {
            if (!weights.TryGetValue(name, out var tensor))
            {
                throw ImplicitRegException.BadInput($"{source}: no weights for parameter '{name}'");
            }
            var value = graph.Inputs.Single(v => v.Name == name);
            graph.RemoveInput(value);
            graph.AttachInitializer(value, tensor.WithName(name));
        }
        // Training inputs go; so does penalty_coefficient, an input with a default that only the loss uses
        // (dead-code removal then drops its initializer). Other defaults are the original model's own.
        foreach (var input in graph.Inputs.Where(v => !inputNames.Contains(v.Name) && (!v.IsInitializer || v.Name == StepModelBuilder.PenaltyCoefficient)).ToList())
        {
            graph.RemoveInput(input);
        }
        graph.Outputs.Clear();
        graph.Outputs.AddRange(outputs);
        new Onnx.Passes.DeadCodeElimination().Run(model);
        var dangling = graph.Nodes.SelectMany(n => n.Inputs).OfType<Value>()
            .Where(v => v.Producer is null && !v.IsInitializer && !graph.Inputs.Contains(v)).Select(v => v.Name).Distinct().ToList();
        if (dangling.Count > 0)
        {
            throw ImplicitRegException.BadInput($"{source}: the original outputs depend on {string.Join(", ", dangling)}, which the exported model cannot feed; export from the original model instead");
        }
        model.MetadataProps.RemoveAll(e => e.Key.StartsWith("implicitreg.", StringComparison.Ordinal));
        return model;
    }

    private static Value? FindValue(Graph graph, string name) =>
        graph.Nodes.SelectMany(n => n.Outputs).OfType<Value>().FirstOrDefault(v => v.Name == name)
        ?? graph.Inputs.FirstOrDefault(v => v.Name == name);

    private static bool IsOptimizerState(string name, IEnumerable<string> parameters) =>
        name == StepModelBuilder.Step || parameters.Any(p => name.StartsWith(p + ".", StringComparison.Ordinal));

    /// <summary>
    /// A model with no inputs whose outputs are the step model's initial parameters and states, named as
    /// the step model's inputs: any ONNX Runtime client can run it to get the values for the first step.
    /// </summary>
    public static Model InitialStateModel(StepModel step)
    {
        var graph = new Graph("initial_state");
        var model = new Model(graph) { IrVersion = step.Model.IrVersion, ProducerName = "implicitreg", ProducerVersion = StepModelBuilder.ToolkitVersion };
        model.Opsets.Add(new OpsetId("", step.Model.OpsetVersion("") ?? 17));
        foreach (var (name, tensor) in step.InitialState)
        {
            var constant = graph.AddInitializer(tensor.WithName(name + ".initial"));
            var node = graph.Append(new Node("", "Identity", [constant], [name], name: "initial_" + name));
            node.Output.Type = constant.Type;
            graph.Outputs.Add(node.Output);
        }
        return model;
    }
}
