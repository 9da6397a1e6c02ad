using ImplicitRegOnnx.Onnx.Passes;

namespace ImplicitRegOnnx.Training;

/// <summary>
/// The copy of an inference model that training graphs start from: initializers of IR 3 models
/// leave the input list, and models older than opset 17 are upgraded to it.
/// </summary>
internal static class ModelPreparation
{
    public static Model Prepare(Model inference)
    {
        // A step model written by rewrite or convert would be differentiated as if it were an inference model,
        // which fails later with a message about parameters that says nothing of the cause.
        if (inference.MetadataProps.LastOrDefault(e => e.Key == StepModelBuilder.FormKey) is { } form)
        {
            throw ImplicitRegException.BadInput(
                $"this is a training-step model written by implicitreg ({StepModelBuilder.FormKey} = {form.Value}), not an inference model; give the inference model it was made from, train it as it is, or export its weights into an inference model first (implicitreg export, ModelExport.FromStepModel)");
        }
        var model = Model.Load(inference.ToBytes());
        if (model.IrVersion < 4)
        {
            // Before IR 4 every initializer had to be listed as an input too (ONNX IR spec); they are
            // the model's constants, not inputs a caller overrides.
            foreach (var value in model.Graph.Inputs.Where(v => v.IsInitializer).ToList())
            {
                model.Graph.RemoveInput(value);
            }
            model.IrVersion = 8;
        }
        var opset = model.OpsetVersion("") ?? throw ImplicitRegException.BadInput("the model imports no ai.onnx opset");
        if (opset < GradientModelBuilder.MinimumOpset)
        {
            try
            {
                OpsetUpgrade.Upgrade(model, GradientModelBuilder.MinimumOpset);
            }
            catch (OpsetUpgradeException e)
            {
                throw new ImplicitRegException(e.Kind, e.Message + "; re-export the model with opset 17 or newer", e);
            }
        }
        return model;
    }

    /// <summary>
    /// Models exported with a static batch size B often reshape with a constant shape that starts
    /// with B (e.g. [B, -1] to flatten). A microbatch of B/n rows cannot take that shape, so such
    /// Reshapes get 0 ("copy this dim from the input", ONNX operator spec) in place of B when their
    /// input's first dim is B too: the same result on the whole batch, and the right one on a slice.
    /// Returns how many Reshapes changed.
    /// </summary>
    public static int GeneralizeBatchReshapes(Model model)
    {
        var graph = model.Graph;
        var batchSizes = graph.RequiredInputs.Select(v => v.Shape is { Rank: > 0 } s ? s[0].Value : null).OfType<long>().ToHashSet();
        var changed = 0;
        foreach (var node in graph.Nodes.Where(n => n.IsStandard && n.OpType == "Reshape" && n.GetInt("allowzero", 0) == 0).ToList())
        {
            var target = Onnx.Inference.ConstantValue.TryGetInts(node.Input(1));
            var first = node.Input(0)?.Shape is { Rank: > 0 } shape ? shape[0].Value : null;
            if (target is not { Length: > 0 } || first is not { } batch || target[0] != batch || !batchSizes.Contains(batch))
            {
                continue;
            }
            long[] generalized = [0, .. target[1..]];
            var constant = graph.AddInitializer(Tensor.FromArray(generalized, [generalized.Length], FreshName(graph, node.Input(1)!.Name + ".batch_free")));
            node.SetInput(1, constant);
            changed++;
        }
        return changed;
    }

    /// <summary>
    /// Initializers that are also listed as graph inputs are, by the IR spec from IR 4 on, defaults a
    /// caller may override, so training leaves them alone. Exporters that follow the IR 3 habit of
    /// listing every weight as an input (PyTorch's keep_initializers_as_inputs, older tf2onnx and CNTK)
    /// mean weights; this takes them off the input list so that they are trained. Returns how many.
    /// </summary>
    public static int InitializerInputsAsWeights(Model model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var listed = model.Graph.Inputs.Where(v => v.IsInitializer).ToList();
        foreach (var value in listed)
        {
            model.Graph.RemoveInput(value);
        }
        return listed.Count;
    }

    /// <summary>
    /// Gives symbolic dimensions of the model's inputs the sizes named in <paramref name="sizes"/>
    /// (symbol → size), except on axis 0, the batch, which stays as it is. Gradients of ops such as Conv
    /// need static spatial sizes, which exporters often leave symbolic (paddle2onnx: every dim).
    /// Returns how many dimensions were fixed.
    /// </summary>
    public static int FixSymbolicDims(Model model, IReadOnlyDictionary<string, long> sizes)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(sizes);
        var fixedDims = 0;
        foreach (var input in model.Graph.RequiredInputs)
        {
            if (input.TensorType is not { Shape: { } shape } type)
            {
                continue;
            }
            var dims = shape.Select((d, i) => i > 0 && d.Symbol is { } symbol && sizes.TryGetValue(symbol, out var size) ? Dim.Of(size) : d).ToArray();
            var changed = dims.Where((d, i) => !d.Equals(shape[i])).Count();
            if (changed > 0)
            {
                input.Type = new TensorType(type.ElementType, new Shape(dims));
                fixedDims += changed;
            }
        }
        return fixedDims;
    }

    private static string FreshName(Graph graph, string name)
    {
        var names = graph.CollectNames();
        var candidate = name;
        for (var i = 1; names.Contains(candidate); i++)
        {
            candidate = $"{name}_{i}";
        }
        return candidate;
    }
}
