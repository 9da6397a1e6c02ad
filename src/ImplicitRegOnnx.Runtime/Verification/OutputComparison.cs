using System.Globalization;
using ImplicitRegOnnx.Onnx;

namespace ImplicitRegOnnx.Runtime.Verification;

/// <summary>Tolerances for comparing floating-point outputs: |a − b| ≤ Absolute + Relative·|expected|.</summary>
public sealed record Tolerance(double Relative = 1e-5, double Absolute = 1e-6)
{
    /// <summary>
    /// Tolerances that fit the least precise floating-point type a model computes in. A rewrite may
    /// round an intermediate once more or once less than the original (constant folding stores a
    /// result in the declared type where ONNX Runtime may have kept a float32 chain), so outputs may
    /// move by a few units in the last place of that type: four machine epsilons relative
    /// (float16: 2^-10, bfloat16: 2^-7), one epsilon absolute. float32 and wider keep the defaults.
    /// </summary>
    public static Tolerance ForModel(Model model)
    {
        var epsilon = LowPrecisionTypes(model).Select(Epsilon).DefaultIfEmpty(0).Max();
        return epsilon == 0 ? new Tolerance() : new Tolerance(4 * epsilon, epsilon);
    }

    private static double Epsilon(ElementType type) => type switch
    {
        ElementType.Float16 => Math.Pow(2, -10),
        ElementType.BFloat16 => Math.Pow(2, -7),
        _ => 0,
    };

    private static IEnumerable<ElementType> LowPrecisionTypes(Model model)
    {
        foreach (var graph in model.Graph.SelfAndSubgraphs())
        {
            foreach (var value in graph.Inputs.Concat(graph.Initializers).Concat(graph.Outputs).Concat(graph.ValueInfos))
            {
                yield return value.ElementType;
            }
            foreach (var node in graph.Nodes)
            {
                foreach (var output in node.Outputs)
                {
                    if (output is not null)
                    {
                        yield return output.ElementType;
                    }
                }
                if (node.OpType == "Cast" && node.GetAttribute("to") is { Kind: AttributeKind.Int } to)
                {
                    yield return (ElementType)to.AsInt();
                }
                if (node.OpType == "Constant" && node.GetAttribute("value") is { Kind: AttributeKind.Tensor } value)
                {
                    yield return value.AsTensor().ElementType;
                }
            }
        }
    }
}

/// <summary>Compares the outputs of two runs: same names, kinds, types and shapes; floats within a tolerance, the rest exactly.</summary>
public static class OutputComparison
{
    /// <summary>One line per output that differs; empty when all agree.</summary>
    public static IReadOnlyList<string> Differences(IReadOnlyList<RunOutput> expected, IReadOnlyList<RunOutput> actual, Tolerance? tolerance = null)
    {
        tolerance ??= new Tolerance();
        var problems = new List<string>();
        var byName = actual.ToDictionary(o => o.Name, StringComparer.Ordinal);
        foreach (var e in expected)
        {
            if (!byName.TryGetValue(e.Name, out var a))
            {
                problems.Add($"output '{e.Name}' is missing");
                continue;
            }
            Compare(e, a, tolerance, problems);
        }
        foreach (var a in actual)
        {
            if (!expected.Any(e => e.Name == a.Name))
            {
                problems.Add($"output '{a.Name}' is new");
            }
        }
        return problems;
    }

    private static void Compare(RunOutput expected, RunOutput actual, Tolerance tolerance, List<string> problems)
    {
        if (expected.Unsupported is not null || actual.Unsupported is not null)
        {
            problems.Add($"output '{expected.Name}' is a {expected.Unsupported ?? actual.Unsupported}, which cannot be compared");
            return;
        }
        if (expected.Sequence is { } es)
        {
            if (actual.Sequence is not { } acs || acs.Count != es.Count)
            {
                problems.Add($"output '{expected.Name}': sequence of {es.Count} items became {(actual.Sequence is null ? "a tensor" : $"{actual.Sequence.Count} items")}");
                return;
            }
            for (var i = 0; i < es.Count; i++)
            {
                Compare(es[i], acs[i], tolerance, problems);
            }
            return;
        }
        var et = expected.Tensor!;
        if (actual.Tensor is not { } at)
        {
            problems.Add($"output '{expected.Name}': tensor became a sequence");
            return;
        }
        if (et.ElementType != at.ElementType || !et.Dims.AsSpan().SequenceEqual(at.Dims))
        {
            problems.Add($"output '{expected.Name}': {et.ElementType.Name()}[{string.Join(",", et.Dims)}] became {at.ElementType.Name()}[{string.Join(",", at.Dims)}]");
            return;
        }
        if (et.ElementType == ElementType.String)
        {
            var same = et.Strings.Zip(at.Strings).All(p => p.First.AsSpan().SequenceEqual(p.Second));
            if (!same)
            {
                problems.Add($"output '{expected.Name}': strings differ");
            }
            return;
        }
        if (!et.ElementType.IsFloatingPoint())
        {
            if (!et.RawBytes.SequenceEqual(at.RawBytes))
            {
                problems.Add($"output '{expected.Name}': {et.ElementType.Name()} values differ");
            }
            return;
        }
        double[] ev, av;
        try
        {
            ev = et.ToDoubles();
            av = at.ToDoubles();
        }
        catch (NotSupportedException)
        {
            if (!et.RawBytes.SequenceEqual(at.RawBytes))
            {
                problems.Add($"output '{expected.Name}': {et.ElementType.Name()} values differ");
            }
            return;
        }
        var bad = 0;
        var worst = -1;
        var worstExcess = 0.0;
        for (var i = 0; i < ev.Length; i++)
        {
            var x = ev[i];
            var y = av[i];
            if (double.IsNaN(x) && double.IsNaN(y))
            {
                continue;
            }
            if (x.Equals(y))
            {
                continue; // also equal infinities
            }
            var diff = Math.Abs(x - y);
            var allowed = tolerance.Absolute + tolerance.Relative * Math.Abs(x);
            if (!(diff <= allowed) || double.IsInfinity(x) || double.IsInfinity(y))
            {
                bad++;
                var excess = double.IsNaN(diff) ? double.PositiveInfinity : diff / allowed;
                if (worst < 0 || excess > worstExcess)
                {
                    worst = i;
                    worstExcess = excess;
                }
            }
        }
        if (bad > 0)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture,
                $"output '{expected.Name}': {bad} of {ev.Length} values differ beyond rtol {tolerance.Relative:g3} + atol {tolerance.Absolute:g3}; worst at flat index {worst}: {ev[worst]:g9} vs {av[worst]:g9}"));
        }
    }
}
