namespace ImplicitRegOnnx.Autodiff.Tests.GradCheck;

public static partial class GradCheckTable
{
    private static GradCheckCase Einsum(string equation, params InputSpec[] inputs) =>
        GradCheckCase.Op($"Einsum {equation}", "Einsum", inputs, Attribute.String("equation", equation));

    // ONNX Runtime's CPU Resize has no double kernel: the Resize rows check in float.

    /// <summary>Resize with constant scales (or sizes when <paramref name="sizes"/>), roi absent (opset 11+ input order).</summary>
    private static GradCheckCase Resize(string name, InputSpec x, double[] scalesOrSizes, bool sizes, params Attribute[] attributes) =>
        new($"Resize {name}", "Resize", [x], (b, v) =>
        {
            var parameter = sizes
                ? b.Ints([.. scalesOrSizes.Select(d => (long)d)])
                : b.Constant(Tensor.FromArray(Array.ConvertAll(scalesOrSizes, d => (float)d), [scalesOrSizes.Length]));
            return [b.Op("Resize", sizes ? [v[0], null, null, parameter] : [v[0], null, parameter], attributes)];
        });

    private static Attribute Mode(string mode) => Attribute.String("mode", mode);

    private static Attribute Transform(string transform) => Attribute.String("coordinate_transformation_mode", transform);

    public static IEnumerable<GradCheckCase> Indexing() =>
    [
        // The embedding case: Gather(weight[vocab, d], ids[batch, seq]) with repeated ids, which must accumulate.
        GradCheckCase.Op("Gather embedding repeated ids", "Gather", [InputSpec.Of(5, 3), Ints([2, 3], 0, 2, 0, 4, 2, 2)]),
        GradCheckCase.Op("Gather axis 1 negative indices", "Gather", [InputSpec.Of(2, 4, 3), Ints([3], -1, 0, -1)], Attribute.Int("axis", 1)),
        GradCheckCase.Op("Gather scalar index negative axis", "Gather", [InputSpec.Of(3, 5), Ints([], 2)], Attribute.Int("axis", -1)),
        GradCheckCase.Op("Gather embedding (opset 13: one-hot product)", "Gather", [InputSpec.Of(5, 3), Ints([2, 3], 0, 2, 0, 4, -1, 2)]) with { Opset = 13 },
        GradCheckCase.Op("Gather axis 1 (opset 13)", "Gather", [InputSpec.Of(2, 4, 3), Ints([3], 3, 0, 3)], Attribute.Int("axis", 1)) with { Opset = 13 },
        GradCheckCase.Op("GatherElements (opset 13)", "GatherElements", [InputSpec.Of(3, 4), Ints([3, 2], 0, 3, 1, 1, -1, 0)], Attribute.Int("axis", 1)) with { Opset = 13 },
        GradCheckCase.Op("GatherND (opset 13)", "GatherND", [InputSpec.Of(3, 4, 2), Ints([3, 2], 0, 1, 2, 3, 0, 1)]) with { Opset = 13 },
        GradCheckCase.Op("GatherND batch_dims 1", "GatherND", [InputSpec.Of(2, 3, 4), Ints([2, 2, 1], 2, 0, 1, 1)], Attribute.Int("batch_dims", 1)),
        GradCheckCase.Op("GatherElements repeats", "GatherElements", [InputSpec.Of(3, 4), Ints([3, 2], 0, 3, 1, 1, -1, 0)], Attribute.Int("axis", 1)),
        GradCheckCase.Op("GatherND", "GatherND", [InputSpec.Of(3, 4, 2), Ints([3, 2], 0, 1, 2, 3, 0, 1)]),
        GradCheckCase.Op("GatherND full index", "GatherND", [InputSpec.Of(3, 4), Ints([2, 2], 0, 1, 2, 3)]),

        GradCheckCase.Op("ScatterElements", "ScatterElements", [InputSpec.Of(3, 4), Ints([2, 3], 1, 0, 2, 0, 2, 1), InputSpec.Of(2, 3)], Attribute.Int("axis", 0)),
        GradCheckCase.Op("ScatterElements add repeats", "ScatterElements", [InputSpec.Of(3, 4), Ints([2, 3], 1, 0, 3, 1, 0, 3), InputSpec.Of(2, 3)],
            Attribute.Int("axis", 1), Attribute.String("reduction", "add")),
        GradCheckCase.Op("ScatterND", "ScatterND", [InputSpec.Of(3, 4, 2), Ints([2, 2], 0, 1, 2, 3), InputSpec.Of(2, 2)]),
        GradCheckCase.Op("ScatterND add repeats", "ScatterND", [InputSpec.Of(3, 4), Ints([3, 1], 1, 2, 1), InputSpec.Of(3, 4)], Attribute.String("reduction", "add")),

        new GradCheckCase("TopK largest", "TopK", [InputSpec.Of(3, 5)], (b, x) => [b.Op("TopK", 2, [x[0], b.Ints(2)])[0]]),
        new GradCheckCase("TopK smallest axis 0", "TopK", [InputSpec.Of(4, 3)],
            (b, x) => [b.Op("TopK", 2, [x[0], b.Ints(3)], Attribute.Int("axis", 0), Attribute.Int("largest", 0))[0]]),
        GradCheckCase.Op("CumSum", "CumSum", [InputSpec.Of(3, 5), Ints([], 1)]),
        GradCheckCase.Op("CumSum exclusive reverse", "CumSum", [InputSpec.Of(3, 5), Ints([], 0)], Attribute.Int("exclusive", 1), Attribute.Int("reverse", 1)),

        Resize("nearest upsample", InputSpec.Float(1, 2, 3, 4), [1, 1, 2, 2], false),
        Resize("nearest downsample sizes asymmetric floor", InputSpec.Float(1, 1, 5, 7), [1, 1, 3, 4], true, Transform("asymmetric"), Attribute.String("nearest_mode", "floor")),
        Resize("nearest round_prefer_ceil tf_half_pixel_for_nn", InputSpec.Float(1, 1, 4, 3), [1, 1, 1.5, 2.5], false, Transform("tf_half_pixel_for_nn"), Attribute.String("nearest_mode", "round_prefer_ceil")),
        Resize("nearest middle axis (Einsum path)", InputSpec.Float(2, 3, 2), [1, 2, 1], false),
        Resize("linear half_pixel", InputSpec.Float(1, 2, 3, 4), [1, 1, 1.5, 2], false, Mode("linear")),
        Resize("linear align_corners sizes", InputSpec.Float(1, 1, 3, 4), [1, 1, 5, 7], true, Mode("linear"), Transform("align_corners")),
        Resize("linear asymmetric", InputSpec.Float(2, 1, 3, 3), [1, 1, 2, 3], false, Mode("linear"), Transform("asymmetric")),
        Resize("linear pytorch_half_pixel downsample", InputSpec.Float(1, 1, 6, 5), [1, 1, 0.5, 0.6], false, Mode("linear"), Transform("pytorch_half_pixel")),
        Resize("linear half_pixel_symmetric (opset 19)", InputSpec.Float(1, 1, 3, 4), [1, 1, 1.7, 2.5], false, Mode("linear"), Transform("half_pixel_symmetric")) with { Opset = 19 },
        Resize("cubic", InputSpec.Float(1, 1, 4, 5), [1, 1, 2, 1.5], false, Mode("cubic")),
        Resize("cubic exclude_outside", InputSpec.Float(1, 1, 4, 5), [1, 1, 1.5, 2], false, Mode("cubic"), Attribute.Int("exclude_outside", 1), Attribute.Float("cubic_coeff_a", -0.5f)),
        Resize("axes attribute (opset 18)", InputSpec.Float(1, 2, 3, 4), [2, 1.5], false, Mode("linear"), Attribute.Ints("axes", [2, -1])) with { Opset = 18 },
        new GradCheckCase("Resize nearest (opset 10)", "Resize", [InputSpec.Float(1, 1, 3, 4)],
            (b, v) => [b.Op("Resize", [v[0], b.Constant(Tensor.FromArray(new[] { 1f, 1f, 2f, 1.5f }, [4]))])]) with { Opset = 10 },
        new GradCheckCase("Resize linear downsample (opset 10)", "Resize", [InputSpec.Float(1, 1, 4, 6)],
            (b, v) => [b.Op("Resize", [v[0], b.Constant(Tensor.FromArray(new[] { 1f, 1f, 0.5f, 0.5f }, [4]))], Mode("linear"))]) with { Opset = 10 },
        // Sizes and scales known only at run time (graph inputs, or computed from Shape()), input sizes symbolic.
        new GradCheckCase("Resize linear run-time sizes input", "Resize",
            [InputSpec.Float(1, 2, 3, 4).Symbolic(2, 3), InputSpec.Constant(Tensor.FromArray(new long[] { 1, 2, 5, 7 }, [4]))],
            (b, v) => [b.Op("Resize", [v[0], null, null, v[1]], Mode("linear"))]),
        new GradCheckCase("Resize linear static input run-time sizes input", "Resize",
            [InputSpec.Float(1, 2, 3, 4), InputSpec.Constant(Tensor.FromArray(new long[] { 1, 2, 5, 7 }, [4]))],
            (b, v) => [b.Op("Resize", [v[0], null, null, v[1]], Mode("linear"))]),
        new GradCheckCase("Resize nearest run-time scales input", "Resize",
            [InputSpec.Float(1, 1, 3, 4).Symbolic(2, 3), InputSpec.Constant(Tensor.FromArray(new[] { 1f, 1f, 2f, 1.5f }, [4]))],
            (b, v) => [b.Op("Resize", [v[0], null, v[1]])]),
        new GradCheckCase("Resize cubic sizes from Shape (PyTorch interpolate)", "Resize", [InputSpec.Float(2, 1, 4, 3).Symbolic(0, 2, 3)],
            (b, v) =>
            {
                var batchAndChannels = b.Op("Slice", [b.Shape(v[0]), b.Ints(0), b.Ints(2)]);
                var sizes = b.Op("Concat", [batchAndChannels, b.Ints(6, 5)], Attribute.Int("axis", 0));
                return [b.Op("Resize", [v[0], null, null, sizes], Mode("cubic"))];
            }),
        new GradCheckCase("Resize linear align_corners run-time sizes innermost axes", "Resize", [InputSpec.Float(1, 2, 3, 4).Symbolic(2, 3)],
            (b, v) =>
            {
                var sizes = b.Op("Concat", [b.Op("Slice", [b.Shape(v[0]), b.Ints(0), b.Ints(2)]), b.Ints(4, 3)], Attribute.Int("axis", 0));
                return [b.Op("Resize", [v[0], null, null, sizes], Mode("linear"), Transform("align_corners"))];
            }),

        Einsum("ij,jk->ik", InputSpec.Of(2, 3), InputSpec.Of(3, 4)),
        Einsum("bhqd,bhkd->bhqk", InputSpec.Of(2, 1, 3, 4), InputSpec.Of(2, 1, 5, 4)),
        Einsum("ij->i", InputSpec.Of(3, 4)),
        Einsum("ii->i", InputSpec.Of(3, 3)),
        Einsum("ii", InputSpec.Of(3, 3)),
        Einsum("i,i", InputSpec.Of(4), InputSpec.Of(4)),
        Einsum("ij,ij,j->i", InputSpec.Of(2, 3), InputSpec.Of(2, 3), InputSpec.Of(3)),
        Einsum("cb,ba", InputSpec.Of(2, 3), InputSpec.Of(3, 4)), // implicit output "ac": sorted, not in order of appearance
        Einsum("b i j, b j -> b i", InputSpec.Of(2, 3, 4), InputSpec.Of(2, 4)),
        Einsum("...ij,...jk->...ik", InputSpec.Of(2, 3, 4), InputSpec.Of(2, 4, 2)),
    ];
}
