namespace ImplicitRegOnnx.Training;

/// <summary>
/// Checks that a batch fits a gradient model before anything runs: one array per model input and
/// "target", with the declared element types and shapes (symbolic dims consistent across arrays),
/// and a batch size divisible by the number of microbatches.
/// </summary>
internal static class BatchCheck
{
    public static void Validate(Model gradientModel, IReadOnlyDictionary<string, Tensor> batch, int microbatches, string source)
    {
        var inputs = gradientModel.Graph.RequiredInputs.ToList();
        var missing = inputs.Where(v => !batch.ContainsKey(v.Name)).Select(v => v.Name).ToList();
        if (missing.Count > 0)
        {
            throw ImplicitRegException.BadInput($"{source}: no array named {string.Join(", ", missing.Select(m => $"'{m}'"))}; it holds {Names(batch.Keys)} and needs {Names(inputs.Select(v => v.Name))}");
        }
        var symbols = new Dictionary<string, (long Size, string Input)>(StringComparer.Ordinal);
        long? batchSize = null;
        foreach (var input in inputs)
        {
            var array = batch[input.Name];
            var declared = input.TensorType;
            if (declared is null)
            {
                continue;
            }
            if (array.ElementType != declared.ElementType)
            {
                throw ImplicitRegException.BadInput($"{source}: '{input.Name}' is {array.ElementType.Name()} but the model needs {declared.ElementType.Name()}");
            }
            if (declared.Shape is not { } shape)
            {
                continue;
            }
            if (shape.Rank != array.Dims.Length)
            {
                throw ImplicitRegException.BadInput($"{source}: '{input.Name}' has shape [{string.Join(",", array.Dims)}] but the model needs rank {shape.Rank} {shape}");
            }
            for (var d = 0; d < shape.Rank; d++)
            {
                var size = array.Dims[d];
                if (shape[d].Value is { } fixedSize && fixedSize != size)
                {
                    throw ImplicitRegException.BadInput($"{source}: '{input.Name}' has shape [{string.Join(",", array.Dims)}] but the model needs {shape}");
                }
                if (shape[d].Symbol is { } symbol)
                {
                    if (symbols.TryGetValue(symbol, out var seen) && seen.Size != size)
                    {
                        throw ImplicitRegException.BadInput($"{source}: dimension '{symbol}' is {seen.Size} in '{seen.Input}' but {size} in '{input.Name}' (shape [{string.Join(",", array.Dims)}])");
                    }
                    symbols[symbol] = (size, input.Name);
                }
            }
            if (array.Dims.Length > 0)
            {
                if (batchSize is { } b && b != array.Dims[0])
                {
                    throw ImplicitRegException.BadInput($"{source}: '{input.Name}' has {array.Dims[0]} examples along axis 0 but other arrays have {b}");
                }
                batchSize = array.Dims[0];
            }
        }
        if (batchSize is { } n && n % microbatches != 0)
        {
            throw ImplicitRegException.BadInput($"{source}: the batch of {n} examples cannot be split into {microbatches} equal microbatches; use a batch size divisible by {microbatches}");
        }
        if (batchSize == 0)
        {
            throw ImplicitRegException.BadInput($"{source}: the batch is empty");
        }
    }

    private static string Names(IEnumerable<string> names) => string.Join(", ", names.Order(StringComparer.Ordinal).Select(n => $"'{n}'"));
}
