namespace ImplicitRegOnnx.Autodiff.Tests.GradCheck;

public static partial class GradCheckTable
{
    public static IEnumerable<GradCheckCase> Linear() =>
    [
        GradCheckCase.Op("MatMul 2-D", "MatMul", [InputSpec.Of(3, 4), InputSpec.Of(4, 5)]),
        GradCheckCase.Op("MatMul batched broadcast", "MatMul", [InputSpec.Of(2, 1, 3, 4), InputSpec.Of(3, 4, 2)]),
        GradCheckCase.Op("MatMul N-D x 2-D", "MatMul", [InputSpec.Of(2, 3, 4), InputSpec.Of(4, 5)]),
        GradCheckCase.Op("MatMul 2-D x N-D", "MatMul", [InputSpec.Of(3, 4), InputSpec.Of(2, 4, 5)]),
        GradCheckCase.Op("MatMul 1-D x 1-D", "MatMul", [InputSpec.Of(5), InputSpec.Of(5)]),
        GradCheckCase.Op("MatMul 1-D x N-D", "MatMul", [InputSpec.Of(4), InputSpec.Of(2, 4, 3)]),
        GradCheckCase.Op("MatMul N-D x 1-D", "MatMul", [InputSpec.Of(2, 3, 4), InputSpec.Of(4)]),
        GradCheckCase.Op("MatMul 1-D x 2-D", "MatMul", [InputSpec.Of(4), InputSpec.Of(4, 3)]),
        // A tall transposed operand (rows ≥ 8× columns) takes the rule's other product, whose result the
        // Transpose rule's transpose cancels (the kernel-gradient GEMMs of the Conv rule have this shape).
        new GradCheckCase("MatMul by a tall transposed B", "MatMul", [InputSpec.Of(2, 3, 16), InputSpec.Of(2, 2, 16)],
            (b, x) => [b.MatMul(x[0], b.Transpose(x[1], 0, 2, 1))]),
        new GradCheckCase("MatMul of a tall transposed A", "MatMul", [InputSpec.Of(2, 16), InputSpec.Of(2, 3)],
            (b, x) => [b.MatMul(b.Transpose(x[0], 1, 0), x[1])]),
        GradCheckCase.Op("Gemm without C", "Gemm", [InputSpec.Of(3, 4), InputSpec.Of(4, 5)]),
        GradCheckCase.Op("Gemm transA transB alpha beta C [N]", "Gemm", [InputSpec.Of(4, 3), InputSpec.Of(5, 4), InputSpec.Of(5)],
            Attribute.Int("transA", 1), Attribute.Int("transB", 1), Attribute.Float("alpha", 0.5f), Attribute.Float("beta", 2f)),
        GradCheckCase.Op("Gemm transA C [1,N]", "Gemm", [InputSpec.Of(4, 3), InputSpec.Of(4, 5), InputSpec.Of(1, 5)],
            Attribute.Int("transA", 1), Attribute.Float("alpha", -1.5f)),
        GradCheckCase.Op("Gemm transB C [M,1]", "Gemm", [InputSpec.Of(3, 4), InputSpec.Of(5, 4), InputSpec.Of(3, 1)],
            Attribute.Int("transB", 1), Attribute.Float("beta", 0.25f)),
        GradCheckCase.Op("Gemm C scalar", "Gemm", [InputSpec.Of(3, 4), InputSpec.Of(4, 5), InputSpec.Of()]),
        GradCheckCase.Op("Gemm C [M,N] opset 13", "Gemm", [InputSpec.Of(3, 4), InputSpec.Of(4, 5), InputSpec.Of(3, 5)]) with { Opset = 13 },
    ];
}
