namespace ImplicitRegOnnx.Autodiff.Tests.GradCheck;

public static partial class GradCheckTable
{
    private static GradCheckCase Einsum(string equation, params InputSpec[] inputs) =>
        GradCheckCase.Op($"Einsum {equation}", "Einsum", inputs, Attribute.String("equation", equation));

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

        GradCheckCase.Op("CumSum", "CumSum", [InputSpec.Of(3, 5), Ints([], 1)]),
        GradCheckCase.Op("CumSum exclusive reverse", "CumSum", [InputSpec.Of(3, 5), Ints([], 0)], Attribute.Int("exclusive", 1), Attribute.Int("reverse", 1)),

        Einsum("ij,jk->ik", InputSpec.Of(2, 3), InputSpec.Of(3, 4)),
        Einsum("bhqd,bhkd->bhqk", InputSpec.Of(2, 1, 3, 4), InputSpec.Of(2, 1, 5, 4)),
        Einsum("ij->i", InputSpec.Of(3, 4)),
        Einsum("ii->i", InputSpec.Of(3, 3)),
        Einsum("ii", InputSpec.Of(3, 3)),
        Einsum("i,i", InputSpec.Of(4), InputSpec.Of(4)),
        Einsum("ij,ij,j->i", InputSpec.Of(2, 3), InputSpec.Of(2, 3), InputSpec.Of(3)),
        Einsum("...ij,...jk->...ik", InputSpec.Of(2, 3, 4), InputSpec.Of(2, 4, 2)),
    ];
}
