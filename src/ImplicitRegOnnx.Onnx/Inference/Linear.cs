namespace ImplicitRegOnnx.Onnx.Inference;

/// <summary>MatMul, Gemm and Einsum.</summary>
internal static class LinearRules
{
    public static void Register(Dictionary<string, ShapeRule> rules)
    {
        rules["MatMul"] = MatMul;
        rules["Gemm"] = Gemm;
        rules["Einsum"] = Einsum;
    }

    /// <summary>
    /// MatMul (ONNX operator spec, numpy.matmul semantics): a 1-D A gets a leading 1 and a 1-D B a
    /// trailing 1, both removed afterwards; the batch dimensions broadcast; [.., M, K] x [.., K, N] = [.., M, N].
    /// </summary>
    private static void MatMul(InferenceContext ctx)
    {
        var elementType = ctx.InputElementType(0);
        if (ctx.InputShape(0) is not { Rank: > 0 } a || ctx.InputShape(1) is not { Rank: > 0 } b)
        {
            ctx.SetOutput(0, elementType, (Shape?)null);
            return;
        }
        Dim[] aDims = a.Rank == 1 ? [Dim.Of(1), a[0]] : [.. a];
        Dim[] bDims = b.Rank == 1 ? [b[0], Dim.Of(1)] : [.. b];
        var batch = DimMath.Broadcast([new Shape(aDims[..^2]), new Shape(bDims[..^2])]);
        if (batch is null || (aDims[^1].IsKnown && bDims[^2].IsKnown && aDims[^1].Value != bDims[^2].Value))
        {
            return;
        }
        var dims = batch.ToList();
        if (a.Rank > 1)
        {
            dims.Add(aDims[^2]);
        }
        if (b.Rank > 1)
        {
            dims.Add(bDims[^1]);
        }
        ctx.SetOutput(0, elementType, dims);
    }

    /// <summary>Gemm (ONNX operator spec): Y = alpha * A' * B' + beta * C with A' [M, K] and B' [K, N]; Y is [M, N].</summary>
    private static void Gemm(InferenceContext ctx)
    {
        var a = ctx.InputShape(0);
        var b = ctx.InputShape(1);
        if (a is { Rank: not 2 } || b is { Rank: not 2 })
        {
            return;
        }
        var m = a is null ? Dim.Unknown : a[ctx.Int("transA", 0) != 0 ? 1 : 0];
        var n = b is null ? Dim.Unknown : b[ctx.Int("transB", 0) != 0 ? 0 : 1];
        ctx.SetOutput(0, ctx.InputElementType(0), [m, n]);
    }

    /// <summary>
    /// Einsum (ONNX operator spec): each input term names its dimensions with letters ("..." for the
    /// broadcast rest); the output term (after "->", or else the letters used once, in alphabetical
    /// order, after the broadcast dimensions) picks the output's dimensions.
    /// </summary>
    private static void Einsum(InferenceContext ctx)
    {
        var equation = ctx.String("equation", "").Replace(" ", "", StringComparison.Ordinal);
        var arrow = equation.IndexOf("->", StringComparison.Ordinal);
        var terms = (arrow >= 0 ? equation[..arrow] : equation).Split(',');
        if (terms.Length != ctx.InputCount)
        {
            return;
        }
        var letters = new Dictionary<char, Dim>();
        var counts = new Dictionary<char, int>();
        var ellipsisShapes = new List<Shape?>();
        var anyUnknown = false;
        for (var i = 0; i < terms.Length; i++)
        {
            var term = terms[i];
            var hasEllipsis = term.Contains("...", StringComparison.Ordinal);
            var named = term.Replace("...", "", StringComparison.Ordinal);
            foreach (var c in named)
            {
                counts[c] = counts.GetValueOrDefault(c) + 1;
            }
            if (ctx.InputShape(i) is not { } shape || shape.Rank < named.Length || (!hasEllipsis && shape.Rank != named.Length))
            {
                anyUnknown = true;
                continue;
            }
            var ellipsisRank = shape.Rank - named.Length;
            var start = hasEllipsis ? term.IndexOf("...", StringComparison.Ordinal) : named.Length;
            for (var k = 0; k < named.Length; k++)
            {
                var dim = shape[k < start ? k : k + ellipsisRank];
                letters[named[k]] = letters.TryGetValue(named[k], out var seen) ? UnifyLetter(seen, dim) : dim;
            }
            if (hasEllipsis)
            {
                ellipsisShapes.Add(new Shape(Enumerable.Range(start, ellipsisRank).Select(k => shape[k])));
            }
        }
        var output = arrow >= 0
            ? equation[(arrow + 2)..]
            : "..." + string.Concat(counts.Where(p => p.Value == 1).Select(p => p.Key).Order());
        if (anyUnknown)
        {
            return;
        }
        var dims = new List<Dim>();
        var outputNamed = output.Replace("...", "", StringComparison.Ordinal);
        var outputStart = output.Contains("...", StringComparison.Ordinal) ? output.IndexOf("...", StringComparison.Ordinal) : -1;
        for (var k = 0; k <= outputNamed.Length; k++)
        {
            if (k == outputStart)
            {
                var broadcast = ellipsisShapes.Count == 0 ? Shape.Scalar : DimMath.Broadcast(ellipsisShapes);
                if (broadcast is null)
                {
                    return;
                }
                dims.AddRange(broadcast);
            }
            if (k < outputNamed.Length)
            {
                if (!letters.TryGetValue(outputNamed[k], out var dim))
                {
                    return;
                }
                dims.Add(dim);
            }
        }
        ctx.SetOutput(0, ctx.InputElementType(0), dims);
    }

    /// <summary>A letter's size across operands: equal sizes agree; a size 1 may broadcast against another.</summary>
    private static Dim UnifyLetter(Dim a, Dim b)
    {
        if (a.SameAs(b))
        {
            return a;
        }
        return DimMath.TryBroadcast(a, b, out var result) ? result : Dim.Unknown;
    }
}
