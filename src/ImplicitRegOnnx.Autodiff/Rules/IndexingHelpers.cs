using System.Text;
using ImplicitRegOnnx.Onnx;
using static ImplicitRegOnnx.Autodiff.Rules.ShapeHelpers;

namespace ImplicitRegOnnx.Autodiff.Rules;

/// <summary>
/// The gradient of Einsum (ONNX operator spec, Einsum: explicit "…->out" or implicit mode, where the
/// output is the labels that occur once, sorted, after the ellipsis dims). The result is multilinear,
/// so operand k's gradient is the Einsum of the other operands and the output gradient with operand k's
/// subscripts as the output. Two cases need more: a label repeated inside operand k (a diagonal, as
/// in "ii->i") is renamed and tied to the original by an identity matrix operand; a label that only
/// operand k has (summed away, as j in "ij->i") is absent from the result, which is then unsqueezed and
/// expanded along it.
/// </summary>
internal static class EinsumGradient
{
    public static void Apply(GradientContext c)
    {
        var count = c.Node.Inputs.Count;
        var (inputs, output) = Parse(c);
        for (var k = 0; k < count; k++)
        {
            if (!c.Needs(k))
            {
                continue;
            }
            var operands = new List<Value>();
            var subscripts = new List<string>();
            for (var i = 0; i < count; i++)
            {
                if (i != k)
                {
                    operands.Add(c.X(i));
                    subscripts.Add(inputs[i]);
                }
            }
            operands.Add(c.Dy);
            subscripts.Add(output);

            var x = c.X(k);
            var own = inputs[k];
            var used = new HashSet<char>(inputs.SelectMany(s => s).Concat(output));
            var target = new char[own.Length];
            var seen = new HashSet<char>();
            for (var p = 0; p < own.Length; p++)
            {
                if (seen.Add(own[p]))
                {
                    target[p] = own[p];
                    continue;
                }
                // A repeated label: a fresh label here, tied to the first one by eye(n).
                var fresh = FreshLabel(used);
                target[p] = fresh;
                operands.Add(Eye(c, x, p));
                subscripts.Add($"{own[p]}{fresh}");
            }
            var available = new HashSet<char>(subscripts.SelectMany(s => s));
            var kept = Enumerable.Range(0, own.Length).Where(p => available.Contains(target[p])).ToArray();
            var equation = $"{string.Join(',', subscripts)}->{new string([.. kept.Select(p => target[p])])}";
            var gradient = c.B.Op("Einsum", operands, Attribute.String("equation", equation));
            if (kept.Length == own.Length)
            {
                c.SetGradUnbroadcast(k, gradient);
                continue;
            }
            var missing = Enumerable.Range(0, own.Length).Except(kept).Select(p => (long)p).ToArray();
            c.SetGrad(k, c.B.Expand(c.B.Unsqueeze(gradient, missing), ShapeOf(c, x)));
        }
    }

    /// <summary>An n×n identity typed like the gradient, n = dim <paramref name="axis"/> of <paramref name="x"/>.</summary>
    private static Value Eye(GradientContext c, Value x, int axis)
    {
        var n = Dims(c, x, axis, axis + 1);
        var square = c.B.Op("ConstantOfShape", [ConcatShapes(c, n, n)]);
        return x.ElementType == ElementType.Undefined
            ? c.B.Op("CastLike", [c.B.Op("EyeLike", [square]), x])
            : c.B.Op("EyeLike", [square], Attribute.Int("dtype", (long)x.ElementType));
    }

    private static char FreshLabel(HashSet<char> used)
    {
        foreach (var ch in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
        {
            if (used.Add(ch))
            {
                return ch;
            }
        }
        throw new GradientException("Einsum: no free subscript label left for the gradient");
    }

    /// <summary>Input and output subscripts with the ellipsis replaced by explicit labels (ranks must be known).</summary>
    private static (string[] Inputs, string Output) Parse(GradientContext c)
    {
        var equation = c.String("equation", "").Replace(" ", "", StringComparison.Ordinal);
        var arrow = equation.IndexOf("->", StringComparison.Ordinal);
        var left = arrow >= 0 ? equation[..arrow] : equation;
        var inputs = left.Split(',');
        if (inputs.Length != c.Node.Inputs.Count)
        {
            throw new GradientException($"{c.Describe()}: the equation '{equation}' names {inputs.Length} operands, the node has {c.Node.Inputs.Count}");
        }
        var used = new HashSet<char>(equation.Where(char.IsLetter));
        var ellipsis = "";
        if (equation.Contains("...", StringComparison.Ordinal))
        {
            var lengths = inputs.Select((s, i) => s.Contains("...", StringComparison.Ordinal)
                ? c.Rank(c.X(i)) - s.Replace("...", "", StringComparison.Ordinal).Length
                : 0).ToArray();
            var longest = lengths.Max();
            var builder = new StringBuilder();
            for (var i = 0; i < longest; i++)
            {
                builder.Append(FreshLabel(used));
            }
            ellipsis = builder.ToString();
            for (var i = 0; i < inputs.Length; i++)
            {
                inputs[i] = inputs[i].Replace("...", ellipsis[(longest - lengths[i])..], StringComparison.Ordinal);
            }
        }
        string output;
        if (arrow >= 0)
        {
            output = equation[(arrow + 2)..].Replace("...", ellipsis, StringComparison.Ordinal);
        }
        else
        {
            var counts = inputs.SelectMany(s => s).GroupBy(ch => ch).Where(g => g.Count() == 1 && !ellipsis.Contains(g.Key, StringComparison.Ordinal)).Select(g => g.Key);
            output = ellipsis + new string([.. counts.Order()]);
        }
        return (inputs, output);
    }
}
