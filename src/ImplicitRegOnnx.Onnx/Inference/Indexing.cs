namespace ImplicitRegOnnx.Onnx.Inference;

/// <summary>Slice, Gather and friends, OneHot, TopK, NonZero, Scatter.</summary>
internal static class IndexingRules
{
    /// <summary>Slice ends at or beyond this cover a whole dimension (exporters write INT32_MAX or INT64_MAX).</summary>
    private const long WholeDimension = int.MaxValue;

    public static void Register(Dictionary<string, ShapeRule> rules)
    {
        rules["Slice"] = Slice;
        rules["Gather"] = Gather;
        rules["GatherElements"] = ctx => ctx.SetOutput(0, ctx.InputElementType(0), ctx.InputShape(1));
        rules["GatherND"] = GatherND;
        rules["OneHot"] = OneHot;
        rules["TopK"] = TopK;
        rules["NonZero"] = ctx => ctx.SetOutput(0, ElementType.Int64, [ctx.InputShape(0) is { } x ? x.Rank : Dim.Unknown, Dim.Unknown]);
        foreach (var op in new[] { "Scatter", "ScatterElements", "ScatterND" })
        {
            rules[op] = ctx => ctx.PassThrough();
        }
    }

    /// <summary>
    /// Slice (ONNX operator spec): per sliced axis, negative starts/ends count from the end, then clamp to
    /// [0, dim] (step &gt; 0) or [0, dim - 1] / [-1, dim - 1] (step &lt; 0); out = max(0, ceil((end - start) / step)).
    /// Parameters are attributes before opset 10 and inputs (starts, ends, axes, steps) since.
    /// </summary>
    private static void Slice(InferenceContext ctx)
    {
        var elementType = ctx.InputElementType(0);
        if (ctx.InputShape(0) is not { } x)
        {
            ctx.SetOutput(0, elementType, (Shape?)null);
            return;
        }
        IReadOnlyList<long>? starts, ends;
        OptionalInts axes, steps;
        if (ctx.Opset < 10)
        {
            (starts, ends) = (ctx.Ints("starts"), ctx.Ints("ends"));
            axes = ctx.Ints("axes") is { } a ? OptionalInts.Constant(a) : OptionalInts.Absent;
            steps = OptionalInts.Absent;
        }
        else
        {
            (starts, ends) = (ctx.ConstantInts(1), ctx.ConstantInts(2));
            axes = ShapeOpRules.AxesArgument(ctx, 10, 3);
            steps = ShapeOpRules.AxesArgument(ctx, 10, 4);
        }
        if (starts is null || ends is null || axes.IsNotConstant || steps.IsNotConstant)
        {
            SliceUnknownParameters(ctx, x, axes);
            return;
        }
        var sliced = axes.Values is null ? Enumerable.Range(0, starts.Count).ToArray() : DimMath.Axes(axes.Values, x.Rank);
        if (sliced is null || sliced.Length != starts.Count || ends.Count != starts.Count
            || (steps.Values is { } s && s.Count != starts.Count) || sliced.Any(a => a >= x.Rank))
        {
            return;
        }
        Dim[] dims = [.. x];
        for (var i = 0; i < sliced.Length; i++)
        {
            var step = steps.Values?[i] ?? 1;
            if (step == 0)
            {
                return;
            }
            dims[sliced[i]] = SliceSize(x[sliced[i]], starts[i], ends[i], step);
        }
        ctx.SetOutput(0, elementType, dims);
    }

    /// <summary>Slice with parameters that are not constant: the rank stays; only axes known to be untouched keep their size.</summary>
    private static void SliceUnknownParameters(InferenceContext ctx, Shape x, OptionalInts axes)
    {
        var sliced = axes.Values is null ? null : DimMath.Axes(axes.Values, x.Rank);
        ctx.SetOutput(0, ctx.InputElementType(0), x.Select((d, i) => sliced is not null && !sliced.Contains(i) ? d : Dim.Unknown));
    }

    private static Dim SliceSize(Dim dim, long start, long end, long step)
    {
        if (dim.Value is not { } n)
        {
            // Only the whole dimension, forwards or backwards, is known without its size.
            var whole = (step == 1 && start == 0 && end >= WholeDimension)
                || (step == -1 && (start == -1 || start >= WholeDimension) && end <= -WholeDimension);
            return whole ? dim : Dim.Unknown;
        }
        start = start < 0 ? start + n : start;
        end = end < 0 ? end + n : end;
        if (step > 0)
        {
            start = Math.Clamp(start, 0, n);
            end = Math.Clamp(end, 0, n);
            return Math.Max(0, DimMath.CeilDiv(end - start, step));
        }
        start = Math.Clamp(start, 0, n - 1);
        end = Math.Clamp(end, -1, n - 1);
        return Math.Max(0, DimMath.CeilDiv(start - end, -step));
    }

    /// <summary>Gather (ONNX operator spec): data[:axis] + indices.shape + data[axis + 1:].</summary>
    private static void Gather(InferenceContext ctx)
    {
        var elementType = ctx.InputElementType(0);
        if (ctx.InputShape(0) is not { } data || ctx.InputShape(1) is not { } indices)
        {
            ctx.SetOutput(0, elementType, (Shape?)null);
            return;
        }
        if (DimMath.Axis(ctx.Int("axis", 0), data.Rank) is not { } axis)
        {
            return;
        }
        ctx.SetOutput(0, elementType, data.Take(axis).Concat(indices).Concat(data.Skip(axis + 1)));
    }

    /// <summary>GatherND (ONNX operator spec): indices.shape[:-1] + data.shape[batch_dims + indices.shape[-1]:].</summary>
    private static void GatherND(InferenceContext ctx)
    {
        var elementType = ctx.InputElementType(0);
        var batchDims = ctx.Int("batch_dims", 0);
        if (ctx.InputShape(0) is not { } data || ctx.InputShape(1) is not { Rank: > 0 } indices
            || indices[^1].Value is not { } last || batchDims + last > data.Rank)
        {
            ctx.SetOutput(0, elementType, (Shape?)null);
            return;
        }
        ctx.SetOutput(0, elementType, indices.Take(indices.Rank - 1).Concat(data.Skip((int)(batchDims + last))));
    }

    /// <summary>OneHot (ONNX operator spec): indices' shape with a dim of size depth inserted at axis; values' type.</summary>
    private static void OneHot(InferenceContext ctx)
    {
        var elementType = ctx.InputElementType(2);
        if (ctx.InputShape(0) is not { } indices)
        {
            ctx.SetOutput(0, elementType, (Shape?)null);
            return;
        }
        if (DimMath.Axis(ctx.Int("axis", -1), indices.Rank + 1) is not { } axis)
        {
            return;
        }
        var depth = ctx.ConstantInput(1) is { ElementCount: 1 } t && (t.ElementType.IsInteger() || t.ElementType.IsFloatingPoint())
            ? Dim.Of((long)t.ToDoubles()[0])
            : Dim.Unknown;
        var dims = indices.ToList();
        dims.Insert(axis, depth);
        ctx.SetOutput(0, elementType, dims);
    }

    /// <summary>TopK (ONNX operator spec): values and int64 indices shaped like X with K along axis (K: attribute in opset 1, input since 10).</summary>
    private static void TopK(InferenceContext ctx)
    {
        var elementType = ctx.InputElementType(0);
        if (ctx.InputShape(0) is not { } x)
        {
            ctx.SetOutput(0, elementType, (Shape?)null);
            ctx.SetOutput(1, ElementType.Int64, (Shape?)null);
            return;
        }
        if (DimMath.Axis(ctx.Int("axis", -1), x.Rank) is not { } axis)
        {
            return;
        }
        var k = ctx.Opset >= 10
            ? (ctx.ConstantInts(1) is [var kValue] ? Dim.Of(kValue) : Dim.Unknown)
            : Dim.Of(ctx.Int("k", 0));
        var dims = x.Select((d, i) => i == axis ? k : d).ToArray();
        ctx.SetOutput(0, elementType, dims);
        ctx.SetOutput(1, ElementType.Int64, dims);
    }
}
