using System.Text.RegularExpressions;

namespace ImplicitRegOnnx.Training;

/// <summary>
/// Chooses the parameters to train: by default every floating-point initializer (not overridable as a
/// graph input) that reaches the output through inputs that carry gradients, except the running
/// statistics of BatchNormalization (inputs 3 and 4: mean and variance are updated, not trained).
/// <see cref="GradientModelOptions.Trainable"/> globs restrict the set; <see cref="GradientModelOptions.Freeze"/> globs remove from it.
/// </summary>
internal static class TrainableParameters
{
    /// <summary>Op inputs that never carry a gradient to parameters (indices, shapes, running statistics).</summary>
    internal static bool IsDifferentiableInput(Node node, int index) => (node.OpType, index) switch
    {
        ("BatchNormalization", 3 or 4) => false,
        ("Reshape" or "Expand" or "Tile" or "ConstantOfShape" or "Range" or "OneHot", >= 1) => false,
        ("Slice", >= 1) or ("Pad", >= 1 and not 2) or ("Squeeze" or "Unsqueeze" or "Split", >= 1) => false,
        ("Gather" or "GatherElements" or "GatherND", 1) => false,
        ("ScatterElements" or "ScatterND", 1) => false,
        ("ReduceSum" or "ReduceMean" or "ReduceMax" or "ReduceMin" or "ReduceProd" or "ReduceL2" or "ReduceSumSquare" or "ReduceLogSumExp" or "ReduceL1", 1) => false,
        ("Resize", 1 or 2 or 3) or ("Clip", >= 1) or ("Dropout", >= 1) or ("CumSum", 1) or ("TopK", 1) => false,
        ("Shape" or "Size" or "Equal" or "Greater" or "Less" or "GreaterOrEqual" or "LessOrEqual" or "ArgMax" or "ArgMin" or "NonZero", _) => false,
        ("Where", 0) or ("SoftmaxCrossEntropyLoss" or "NegativeLogLikelihoodLoss", 1) => false,
        _ => true,
    };

    /// <summary>Initializers that influence <paramref name="output"/> through differentiable inputs, in graph order.</summary>
    public static IReadOnlyList<Value> Candidates(Graph graph, Value output)
    {
        var reaching = new HashSet<Value> { output };
        foreach (var node in graph.Nodes.Reverse())
        {
            if (!node.Outputs.Any(o => o is not null && reaching.Contains(o)))
            {
                continue;
            }
            for (var i = 0; i < node.Inputs.Count; i++)
            {
                if (node.Inputs[i] is { } input && IsDifferentiableInput(node, i))
                {
                    reaching.Add(input);
                }
            }
        }
        return [.. graph.Initializers.Where(v =>
            reaching.Contains(v) && !v.IsGraphInput && v.Initializer is { } t && t.ElementType.IsFloatingPoint())];
    }

    /// <summary>The default set, narrowed by <paramref name="trainable"/> globs and reduced by <paramref name="freeze"/> globs.</summary>
    public static IReadOnlyList<Value> Select(Graph graph, Value output, IReadOnlyList<string>? trainable = null, IReadOnlyList<string>? freeze = null)
    {
        var candidates = Candidates(graph, output);
        if (candidates.Count == 0)
        {
            throw ImplicitRegException.BadInput($"no floating-point initializer reaches output '{output.Name}', so there is nothing to train (weights stored in Constant nodes are not parameters; make them parameters with ConstantPromotion.Promote)");
        }
        var selected = candidates.AsEnumerable();
        if (trainable is { Count: > 0 })
        {
            var unmatched = trainable.Where(g => !candidates.Any(v => Glob.Matches(g, v.Name))).ToList();
            if (unmatched.Count > 0)
            {
                throw ImplicitRegException.BadParameter("GradientModelOptions.Trainable", $"{string.Join(", ", unmatched)}: matches no trainable parameter; candidates are {Preview(candidates)}");
            }
            selected = selected.Where(v => trainable.Any(g => Glob.Matches(g, v.Name)));
        }
        if (freeze is { Count: > 0 })
        {
            var unmatched = freeze.Where(g => !candidates.Any(v => Glob.Matches(g, v.Name))).ToList();
            if (unmatched.Count > 0)
            {
                throw ImplicitRegException.BadParameter("GradientModelOptions.Freeze", $"{string.Join(", ", unmatched)}: matches no trainable parameter; candidates are {Preview(candidates)}");
            }
            selected = selected.Where(v => !freeze.Any(g => Glob.Matches(g, v.Name)));
        }
        var result = selected.ToList();
        if (result.Count == 0)
        {
            throw new ImplicitRegException(ErrorKind.BadInput, "no parameter is left to train; check GradientModelOptions.Trainable and GradientModelOptions.Freeze", null, "GradientModelOptions.Freeze");
        }
        return result;
    }

    private static string Preview(IReadOnlyList<Value> values) =>
        string.Join(", ", values.Take(8).Select(v => v.Name)) + (values.Count > 8 ? $", ... ({values.Count} in all)" : "");
}

/// <summary>Shell-style globs over parameter names: * (any run), ? (one character), [abc] classes.</summary>
internal static class Glob
{
    public static bool Matches(string pattern, string name) =>
        Regex.IsMatch(name, "^" + Regex.Escape(pattern).Replace(@"\*", ".*", StringComparison.Ordinal).Replace(@"\?", ".", StringComparison.Ordinal).Replace(@"\[", "[", StringComparison.Ordinal) + "$", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
}
