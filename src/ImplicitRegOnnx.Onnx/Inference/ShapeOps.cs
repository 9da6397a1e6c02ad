namespace ImplicitRegOnnx.Onnx.Inference;

/// <summary>Operators that rearrange dimensions: Reshape, Flatten, Transpose, Squeeze, Unsqueeze, Concat, Split, Expand, Tile, Pad, Shape, Size, Identity, Cast.</summary>
internal static class ShapeOpRules
{
    public static void Register(Dictionary<string, ShapeRule> rules)
    {
        rules["Reshape"] = Reshape;
        rules["Flatten"] = Flatten;
        rules["Transpose"] = Transpose;
        rules["Squeeze"] = Squeeze;
        rules["Unsqueeze"] = Unsqueeze;
        rules["Concat"] = Concat;
        rules["Split"] = Split;
        rules["Expand"] = Expand;
        rules["Tile"] = Tile;
        rules["Pad"] = Pad;
        rules["Shape"] = ShapeOf;
        rules["Size"] = ctx => ctx.SetOutput(0, ElementType.Int64, Shape.Scalar);
        rules["Identity"] = ctx => ctx.PassThrough();
        rules["Cast"] = ctx => ctx.SetOutput(0, (ElementType)ctx.Int("to", 0), ctx.InputShape(0));
        rules["CastLike"] = ctx => ctx.SetOutput(0, ctx.InputElementType(1), ctx.InputShape(0));
        rules["DepthToSpace"] = ctx => BlockRearrange(ctx, toSpace: true);
        rules["SpaceToDepth"] = ctx => BlockRearrange(ctx, toSpace: false);
    }

    /// <summary>
    /// Reshape (ONNX operator spec): the shape input gives the output dims; 0 copies the input dim at the
    /// same index (unless allowzero, opset 14+), one -1 takes whatever size remains.
    /// </summary>
    private static void Reshape(InferenceContext ctx)
    {
        var elementType = ctx.InputElementType(0);
        var constant = ctx.Opset >= 5 ? ctx.ConstantInts(1) : ctx.Ints("shape");
        // A shape computed at run time from other shapes still has known entries (ShapeValue).
        var target = constant?.Select(v => new ShapeValue.Entry(Dim.Of(v), true)).ToArray()
            ?? (ctx.Opset >= 5 ? ShapeValue.TryGet(ctx.Node.Input(1)) : null);
        if (target is null)
        {
            ctx.SetOutput(0, elementType, RankFromShapeInput(ctx, 1));
            return;
        }
        var x = ctx.InputShape(0);
        var allowZero = ctx.Opset >= 14 && ctx.Int("allowzero", 0) != 0;
        var dims = new Dim[target.Length];
        var inferred = -1;
        for (var i = 0; i < dims.Length; i++)
        {
            if (!target[i].IsLiteral)
            {
                // The dim of another tensor: a size, never Reshape's special 0 or -1 (0 only with
                // allowzero, and then it is a size too); unknown when it could be either.
                var dim = target[i].Dim;
                if (dim.Value is 0 && !allowZero)
                {
                    dims[i] = x is not null && i < x.Rank ? x[i] : Dim.Unknown;
                }
                else
                {
                    dims[i] = dim.Value is null || dim.Value > 0 ? dim : Dim.Unknown;
                }
                continue;
            }
            var size = target[i].Dim.Value!.Value;
            if (size == 0 && !allowZero)
            {
                if (x is not null && i >= x.Rank)
                {
                    return;
                }
                dims[i] = x is null ? Dim.Unknown : x[i];
            }
            else if (size == -1 && inferred < 0)
            {
                inferred = i;
            }
            else if (size < 0)
            {
                return;
            }
            else
            {
                dims[i] = size;
            }
        }
        if (inferred >= 0)
        {
            dims[inferred] = x is null ? Dim.Unknown : RemainingSize(x, dims.Where((_, i) => i != inferred));
        }
        ctx.SetOutput(0, elementType, dims);
    }

    /// <summary>The size left for a -1 of Reshape: elements of the input over the product of the other output dims.</summary>
    private static Dim RemainingSize(Shape input, IEnumerable<Dim> others)
    {
        var numerator = input.ToList();
        var denominator = new List<Dim>();
        foreach (var d in others)
        {
            // A symbol on both sides cancels out (e.g. a batch dim copied with 0).
            var match = d.IsSymbolic ? numerator.FindIndex(n => n.SameAs(d)) : -1;
            if (match >= 0)
            {
                numerator.RemoveAt(match);
            }
            else
            {
                denominator.Add(d);
            }
        }
        if (denominator.Any(d => !d.IsKnown))
        {
            return Dim.Unknown;
        }
        var divisor = denominator.Aggregate(1L, (p, d) => checked(p * d.Value!.Value));
        var unknown = numerator.Where(d => !d.IsKnown).ToList();
        var known = numerator.Where(d => d.IsKnown).Aggregate(1L, (p, d) => checked(p * d.Value!.Value));
        if (divisor == 0)
        {
            return Dim.Unknown;
        }
        if (unknown.Count == 0)
        {
            return known % divisor == 0 ? Dim.Of(known / divisor) : Dim.Unknown;
        }
        return unknown.Count == 1 && unknown[0].IsSymbolic && known == divisor ? unknown[0] : Dim.Unknown;
    }

    /// <summary>A rank-only shape when a 1-D shape-like input has a known length.</summary>
    internal static Shape? RankFromShapeInput(InferenceContext ctx, int index) =>
        ctx.InputShape(index) is { Rank: 1 } s && s[0].Value is { } rank ? DimMath.UnknownDims((int)rank) : null;

    /// <summary>Flatten (ONNX operator spec): [d0 * ... * d(axis-1), d(axis) * ... * d(n-1)].</summary>
    private static void Flatten(InferenceContext ctx)
    {
        var elementType = ctx.InputElementType(0);
        if (ctx.InputShape(0) is not { } x)
        {
            ctx.SetOutput(0, elementType, DimMath.UnknownDims(2));
            return;
        }
        var axis = ctx.Int("axis", 1);
        axis = axis < 0 ? axis + x.Rank : axis;
        if (axis < 0 || axis > x.Rank)
        {
            return;
        }
        ctx.SetOutput(0, elementType, [DimMath.Product(x.Take((int)axis)), DimMath.Product(x.Skip((int)axis))]);
    }

    /// <summary>Transpose (ONNX operator spec): output dim i is input dim perm[i]; perm defaults to reversed axes.</summary>
    private static void Transpose(InferenceContext ctx)
    {
        var elementType = ctx.InputElementType(0);
        var perm = ctx.Ints("perm");
        if (ctx.InputShape(0) is not { } x)
        {
            ctx.SetOutput(0, elementType, perm is null ? null : DimMath.UnknownDims(perm.Count));
            return;
        }
        var axes = perm is null ? Enumerable.Range(0, x.Rank).Reverse().ToArray() : DimMath.Axes(perm, x.Rank);
        if (axes is null || axes.Length != x.Rank)
        {
            return;
        }
        ctx.SetOutput(0, elementType, axes.Select(a => x[a]));
    }

    /// <summary>Axes given as an attribute before <paramref name="inputSince"/>, as input 1 from then on.</summary>
    internal static OptionalInts AxesArgument(InferenceContext ctx, long inputSince, int inputIndex = 1, string attribute = "axes")
    {
        if (ctx.Opset < inputSince)
        {
            return ctx.Ints(attribute) is { } values ? OptionalInts.Constant(values) : OptionalInts.Absent;
        }
        if (!ctx.HasInput(inputIndex))
        {
            return OptionalInts.Absent;
        }
        return ctx.ConstantInts(inputIndex) is { } constant ? OptionalInts.Constant(constant) : OptionalInts.NotConstant;
    }

    /// <summary>Squeeze (ONNX operator spec): removes the given axes (each of size 1), or else every dim of size 1.</summary>
    private static void Squeeze(InferenceContext ctx)
    {
        var elementType = ctx.InputElementType(0);
        var axes = AxesArgument(ctx, 13);
        var x = ctx.InputShape(0);
        if (x is null || axes.IsNotConstant)
        {
            ctx.SetOutput(0, elementType, (Shape?)null);
            return;
        }
        if (axes.Values is not { Count: > 0 })
        {
            // Which dims are 1 decides the rank: unknown unless every dim is known.
            ctx.SetOutput(0, elementType, x.IsStatic ? new Shape(x.Where(d => d.Value != 1)) : null);
            return;
        }
        var removed = DimMath.Axes(axes.Values, x.Rank);
        if (removed is null || removed.Any(a => x[a].IsKnown && x[a].Value != 1))
        {
            return;
        }
        ctx.SetOutput(0, elementType, x.Where((_, i) => !removed.Contains(i)));
    }

    /// <summary>Unsqueeze (ONNX operator spec): inserts dims of size 1 at the given axes of the output.</summary>
    private static void Unsqueeze(InferenceContext ctx)
    {
        var elementType = ctx.InputElementType(0);
        var axes = AxesArgument(ctx, 13);
        if (ctx.InputShape(0) is not { } x || axes.Values is null)
        {
            ctx.SetOutput(0, elementType, (Shape?)null);
            return;
        }
        var rank = x.Rank + axes.Values.Count;
        var inserted = DimMath.Axes(axes.Values, rank);
        if (inserted is null)
        {
            return;
        }
        var dims = new List<Dim>();
        var next = 0;
        for (var i = 0; i < rank; i++)
        {
            dims.Add(inserted.Contains(i) ? Dim.Of(1) : x[next++]);
        }
        ctx.SetOutput(0, elementType, dims);
    }

    /// <summary>Concat (ONNX operator spec): same rank, equal dims except along axis, where sizes add up.</summary>
    private static void Concat(InferenceContext ctx)
    {
        var elementType = Enumerable.Range(0, ctx.InputCount).Select(ctx.InputElementType).FirstOrDefault(t => t != ElementType.Undefined);
        var shapes = Enumerable.Range(0, ctx.InputCount).Select(ctx.InputShape).ToList();
        var known = shapes.OfType<Shape>().ToList();
        if (known.Count == 0 || known.Any(s => s.Rank != known[0].Rank))
        {
            ctx.SetOutput(0, elementType, (Shape?)null);
            return;
        }
        var rank = known[0].Rank;
        if (DimMath.Axis(ctx.Int("axis", 0), rank) is not { } axis)
        {
            return;
        }
        var dims = new Dim[rank];
        for (var i = 0; i < rank; i++)
        {
            dims[i] = i == axis
                ? (known.Count == shapes.Count ? DimMath.Sum(known.Select(s => s[i])) : Dim.Unknown)
                : known.Select(s => s[i]).Aggregate(DimMath.Unify);
        }
        ctx.SetOutput(0, elementType, dims);
    }

    /// <summary>
    /// Split (ONNX operator spec): split sizes from the attribute (before opset 13) or input (13+); else
    /// equal parts, with num_outputs (18+) a smaller last part when the size does not divide.
    /// </summary>
    private static void Split(InferenceContext ctx)
    {
        var elementType = ctx.InputElementType(0);
        var count = ctx.OutputCount;
        if (ctx.InputShape(0) is not { } x)
        {
            for (var i = 0; i < count; i++)
            {
                ctx.SetOutput(i, elementType, (Shape?)null);
            }
            return;
        }
        if (DimMath.Axis(ctx.Int("axis", 0), x.Rank) is not { } axis)
        {
            return;
        }
        var split = AxesArgument(ctx, 13, 1, "split");
        var dim = x[axis];
        var sizes = new Dim[count];
        if (split.Values is { } given)
        {
            if (given.Count != count || (dim.IsKnown && given.Sum() != dim.Value))
            {
                return;
            }
            sizes = given.Select(s => Dim.Of(s)).ToArray();
        }
        else if (split.IsNotConstant || !dim.IsKnown)
        {
            sizes = Enumerable.Repeat(count == 1 && !split.IsNotConstant ? dim : Dim.Unknown, count).ToArray();
        }
        else
        {
            var total = dim.Value!.Value;
            var chunk = DimMath.CeilDiv(total, count);
            if (total % count != 0 && !(ctx.Opset >= 18 && ctx.HasAttribute("num_outputs")))
            {
                return;
            }
            for (var i = 0; i < count; i++)
            {
                sizes[i] = i < count - 1 ? chunk : total - (chunk * (count - 1));
            }
        }
        for (var i = 0; i < count; i++)
        {
            ctx.SetOutput(i, elementType, x.Select((d, k) => k == axis ? sizes[i] : d));
        }
    }

    /// <summary>
    /// Expand (ONNX operator spec): broadcasts the input with the shape input; a known input size other
    /// than 1 survives even when the shape input is not constant.
    /// </summary>
    private static void Expand(InferenceContext ctx)
    {
        var elementType = ctx.InputElementType(0);
        var x = ctx.InputShape(0);
        if (ctx.ConstantInts(1) is { } target)
        {
            ctx.SetOutput(0, elementType, x is null ? null : DimMath.Broadcast([x, new Shape(target.ToArray())]));
            return;
        }
        // A shape computed at run time from other shapes (e.g. Shape(y), as the gradient rules
        // broadcast a reduction's gradient back) still has known and symbolic entries.
        if (x is not null && ShapeValue.TryGet(ctx.Node.Input(1)) is { } entries)
        {
            ctx.SetOutput(0, elementType, DimMath.Broadcast([x, new Shape(entries.Select(e => e.Dim))]));
            return;
        }
        if (x is null || RankFromShapeInput(ctx, 1) is not { } targetRank)
        {
            ctx.SetOutput(0, elementType, (Shape?)null);
            return;
        }
        var rank = Math.Max(x.Rank, targetRank.Rank);
        ctx.SetOutput(0, elementType, Enumerable.Range(0, rank).Select(i =>
        {
            var k = i - (rank - x.Rank);
            return k >= 0 && x[k].IsKnown && x[k].Value != 1 ? x[k] : Dim.Unknown;
        }));
    }

    /// <summary>Tile (ONNX operator spec): output dim i is input dim i times repeats[i].</summary>
    private static void Tile(InferenceContext ctx)
    {
        var elementType = ctx.InputElementType(0);
        if (ctx.InputShape(0) is not { } x)
        {
            ctx.SetOutput(0, elementType, (Shape?)null);
            return;
        }
        if (ctx.ConstantInts(1) is not { } repeats)
        {
            ctx.SetOutput(0, elementType, DimMath.UnknownDims(x.Rank));
            return;
        }
        if (repeats.Length != x.Rank)
        {
            return;
        }
        ctx.SetOutput(0, elementType, x.Select((d, i) => repeats[i] == 1 ? d : DimMath.Map(d, n => n * repeats[i])));
    }

    /// <summary>
    /// Pad (ONNX operator spec): out = pad_begin + in + pad_end per padded axis; pads from the attribute
    /// before opset 11 ("paddings" in opset 1), from input 1 since, with optional axes (input 3, opset 18+).
    /// </summary>
    private static void Pad(InferenceContext ctx)
    {
        var elementType = ctx.InputElementType(0);
        if (ctx.InputShape(0) is not { } x)
        {
            ctx.SetOutput(0, elementType, (Shape?)null);
            return;
        }
        IReadOnlyList<long>? pads = ctx.Opset >= 11 ? ctx.ConstantInts(1) : ctx.Ints("pads") ?? ctx.Ints("paddings");
        var axes = ctx.Opset >= 18 ? AxesArgument(ctx, 18, 3) : OptionalInts.Absent;
        if (pads is null || axes.IsNotConstant)
        {
            ctx.SetOutput(0, elementType, DimMath.UnknownDims(x.Rank));
            return;
        }
        var padded = axes.Values is null ? Enumerable.Range(0, x.Rank).ToArray() : DimMath.Axes(axes.Values, x.Rank);
        if (padded is null || pads.Count != 2 * padded.Length)
        {
            return;
        }
        Dim[] dims = [.. x];
        for (var i = 0; i < padded.Length; i++)
        {
            var (begin, end) = (pads[i], pads[i + padded.Length]);
            var a = padded[i];
            dims[a] = begin == 0 && end == 0 ? dims[a] : DimMath.Map(dims[a], n => n + begin + end);
        }
        ctx.SetOutput(0, elementType, dims);
    }

    /// <summary>Shape (ONNX operator spec): int64 [end - start], start/end (opset 15+) clamped to [0, rank].</summary>
    private static void ShapeOf(InferenceContext ctx)
    {
        if (ctx.InputShape(0) is not { } x)
        {
            ctx.SetOutput(0, ElementType.Int64, [Dim.Unknown]);
            return;
        }
        var rank = x.Rank;
        var start = ctx.Opset >= 15 ? ctx.Int("start", 0) : 0;
        var end = ctx.Opset >= 15 ? ctx.Int("end", rank) : rank;
        start = Math.Clamp(start < 0 ? start + rank : start, 0, rank);
        end = Math.Clamp(end < 0 ? end + rank : end, 0, rank);
        ctx.SetOutput(0, ElementType.Int64, [Math.Max(0, end - start)]);
    }

    /// <summary>DepthToSpace/SpaceToDepth (ONNX operator spec): [N, C / b², H * b, W * b] and the inverse.</summary>
    private static void BlockRearrange(InferenceContext ctx, bool toSpace)
    {
        var elementType = ctx.InputElementType(0);
        var b = ctx.Int("blocksize", 0);
        if (ctx.InputShape(0) is not { Rank: 4 } x || b <= 0)
        {
            ctx.SetOutput(0, elementType, ctx.InputShape(0) is null ? null : DimMath.UnknownDims(4));
            return;
        }
        Dim Grow(Dim d, long f) => f == 1 ? d : DimMath.Map(d, n => n * f);
        Dim Shrink(Dim d, long f) => f == 1 ? d : DimMath.Map(d, n => n % f == 0 ? n / f : throw new ArgumentException("block size does not divide"));
        ctx.SetOutput(0, elementType, toSpace
            ? [x[0], Shrink(x[1], b * b), Grow(x[2], b), Grow(x[3], b)]
            : [x[0], Grow(x[1], b * b), Shrink(x[2], b), Shrink(x[3], b)]);
    }
}

/// <summary>An optional list of ints from an attribute or an input: absent, constant, or given but not constant.</summary>
internal readonly record struct OptionalInts(IReadOnlyList<long>? Values, bool IsNotConstant)
{
    public static OptionalInts Absent => default;

    public static OptionalInts NotConstant => new(null, true);

    public static OptionalInts Constant(IReadOnlyList<long> values) => new(values, false);
}
