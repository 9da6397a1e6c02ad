namespace ImplicitRegOnnx.Onnx.Inference;

/// <summary>Operators that make tensors: Constant, ConstantOfShape, Range, EyeLike and the random generators.</summary>
internal static class GeneratorRules
{
    public static void Register(Dictionary<string, ShapeRule> rules)
    {
        rules["Constant"] = Constant;
        rules["ConstantOfShape"] = ConstantOfShape;
        rules["Range"] = Range;
        rules["EyeLike"] = LikeInput;
        rules["RandomNormalLike"] = LikeInput;
        rules["RandomUniformLike"] = LikeInput;
        rules["Bernoulli"] = LikeInput;
        rules["RandomNormal"] = FromShapeAttribute;
        rules["RandomUniform"] = FromShapeAttribute;
    }

    /// <summary>Constant (ONNX operator spec): the type and shape of whichever value attribute is set.</summary>
    private static void Constant(InferenceContext ctx)
    {
        if (ConstantValue.FromConstantNode(ctx.Node) is { } tensor)
        {
            ctx.SetOutput(0, tensor.ElementType, new Shape(tensor.Dims));
        }
        else if (ctx.Node.GetAttribute("sparse_value")?.Payload is SparseTensor sparse)
        {
            ctx.SetOutput(0, sparse.Values.ElementType, new Shape(sparse.Dims));
        }
    }

    /// <summary>ConstantOfShape (ONNX operator spec): shape from the input, element type from value (default float 0).</summary>
    private static void ConstantOfShape(InferenceContext ctx)
    {
        var elementType = ctx.Node.GetAttribute("value")?.Payload is Tensor value ? value.ElementType : ElementType.Float;
        var shape = ctx.ConstantInts(0) is { } dims ? new Shape(dims) : ShapeOpRules.RankFromShapeInput(ctx, 0);
        ctx.SetOutput(0, elementType, shape);
    }

    /// <summary>Range (ONNX operator spec): 1-D with max(ceil((limit - start) / delta), 0) elements.</summary>
    private static void Range(InferenceContext ctx)
    {
        var elementType = ctx.InputElementType(0);
        var (start, limit, delta) = (ctx.ConstantInput(0), ctx.ConstantInput(1), ctx.ConstantInput(2));
        if (start is not { ElementCount: 1 } || limit is not { ElementCount: 1 } || delta is not { ElementCount: 1 })
        {
            ctx.SetOutput(0, elementType, [Dim.Unknown]);
            return;
        }
        long count;
        if (start.ElementType.IsInteger())
        {
            var (s, l, d) = (start.ToInt64s()[0], limit.ToInt64s()[0], delta.ToInt64s()[0]);
            count = DimMath.CeilDiv(l - s, d);
        }
        else
        {
            var (s, l, d) = (start.ToDoubles()[0], limit.ToDoubles()[0], delta.ToDoubles()[0]);
            // Runtimes subtract in the element type, then divide in double.
            var difference = start.ElementType == ElementType.Float ? (double)((float)l - (float)s) : l - s;
            count = (long)Math.Ceiling(difference / d);
        }
        ctx.SetOutput(0, elementType, [Math.Max(count, 0)]);
    }

    /// <summary>EyeLike, Random*Like, Bernoulli (ONNX operator spec): the input's shape, dtype attribute or else the input's type.</summary>
    private static void LikeInput(InferenceContext ctx)
    {
        var elementType = ctx.HasAttribute("dtype") ? (ElementType)ctx.Int("dtype", 0) : ctx.InputElementType(0);
        ctx.SetOutput(0, elementType, ctx.InputShape(0));
    }

    /// <summary>RandomNormal, RandomUniform (ONNX operator spec): shape attribute, dtype (default float).</summary>
    private static void FromShapeAttribute(InferenceContext ctx)
    {
        if (ctx.Ints("shape") is { } shape)
        {
            ctx.SetOutput(0, (ElementType)ctx.Int("dtype", (long)ElementType.Float), new Shape(shape.ToArray()));
        }
    }
}
