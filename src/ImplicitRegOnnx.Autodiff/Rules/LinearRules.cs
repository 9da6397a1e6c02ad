using ImplicitRegOnnx.Onnx;

namespace ImplicitRegOnnx.Autodiff.Rules;

/// <summary>
/// Matrix products (ONNX operator spec: MatMul behaves like numpy.matmul; Gemm computes
/// Y = alpha·A'·B' + beta·C with A' = transpose(A) if transA, B' likewise, C broadcast to [M, N]).
/// </summary>
internal static class LinearRules
{
    public static void Register(RuleRegistry r)
    {
        r.Add("MatMul", MatMul);
        r.Add("Gemm", Gemm);
    }

    /// <summary>
    /// Y = A·B over the last two axes with broadcast batch axes: dA = dY·Bᵀ, dB = Aᵀ·dY, each summed
    /// back over the batch axes it was broadcast along. numpy.matmul promotes a 1-D A to [1, K] and a
    /// 1-D B to [K, 1] and drops the added axis from Y, so the 1-D cases are outer or vector products.
    /// </summary>
    private static void MatMul(GradientContext c)
    {
        var (a, b, dy) = (c.X(0), c.X(1), c.Dy);
        var (rankA, rankB) = (c.Rank(a), c.Rank(b));
        if (rankA == 1 && rankB == 1)
        {
            // Y = Σ_k a_k b_k is a scalar.
            c.SetGrad(0, c.Needs(0) ? c.B.Mul(dy, b) : null);
            c.SetGrad(1, c.Needs(1) ? c.B.Mul(dy, a) : null);
            return;
        }
        if (rankA == 1)
        {
            // Y[..., n] = Σ_k a_k B[..., k, n].
            if (c.Needs(0))
            {
                var products = c.B.Mul(b, c.B.Unsqueeze(dy, -2));
                c.SetGradUnbroadcast(0, c.B.ReduceSum(products, [-1], keepDims: false));
            }
            if (c.Needs(1))
            {
                c.SetGradUnbroadcast(1, c.B.Mul(c.B.Unsqueeze(a, -1), c.B.Unsqueeze(dy, -2)));
            }
            return;
        }
        if (rankB == 1)
        {
            // Y[..., m] = Σ_k A[..., m, k] b_k.
            if (c.Needs(0))
            {
                c.SetGradUnbroadcast(0, c.B.Mul(c.B.Unsqueeze(dy, -1), b));
            }
            if (c.Needs(1))
            {
                var products = c.B.Mul(a, c.B.Unsqueeze(dy, -1));
                c.SetGradUnbroadcast(1, c.B.ReduceSum(products, [-2], keepDims: false));
            }
            return;
        }
        // An operand that is a tall transpose of X (last two axes swapped, rows ≥ 8× columns, no batch
        // broadcasting) gets its gradient as the transpose of X's, dA = (B·dYᵀ)ᵀ or dB = (dYᵀ·A)ᵀ,
        // which the Transpose rule's own transpose cancels: X's gradient comes out in X's wide layout,
        // with no transpose of it. MLAS runs a product with few output columns slowly: in the exact
        // penalty's second backward through the kernel-gradient GEMMs, [P, C·K]·[C·K, M] with
        // P = 784, M = 16 took ~1.6× as long as [M, C·K]·[C·K, P] (docs/performance.md).
        var sameBatch = rankA == rankB && SameBatch(a, b, rankA);
        if (c.Needs(0))
        {
            c.SetGradUnbroadcast(0, sameBatch && IsTallSwapOfLastTwo(a, rankA)
                ? SwapLastTwo(c, c.B.MatMul(b, SwapLastTwo(c, dy, rankA)), rankA)
                : c.B.MatMul(dy, SwapLastTwo(c, b, rankB)));
        }
        if (c.Needs(1))
        {
            c.SetGradUnbroadcast(1, sameBatch && IsTallSwapOfLastTwo(b, rankB)
                ? SwapLastTwo(c, c.B.MatMul(SwapLastTwo(c, dy, rankB), a), rankB)
                : c.B.MatMul(SwapLastTwo(c, a, rankA), dy));
        }
    }

    /// <summary>Whether <paramref name="x"/> is a Transpose swapping its last two axes whose static rows are at least 8× its columns.</summary>
    private static bool IsTallSwapOfLastTwo(Value x, int rank) =>
        IsSwapOfLastTwo(x, rank) && x.Shape is { } s && s[rank - 2].Value is { } rows && s[rank - 1].Value is { } columns && rows >= 8 * columns;

    private static Value SwapLastTwo(GradientContext c, Value x, int rank) => ShapeHelpers.Transpose(c, x, SwapPerm(rank));

    private static long[] SwapPerm(int rank)
    {
        var perm = Enumerable.Range(0, rank).Select(i => (long)i).ToArray();
        (perm[rank - 2], perm[rank - 1]) = (perm[rank - 1], perm[rank - 2]);
        return perm;
    }

    /// <summary>Whether <paramref name="x"/> is a Transpose that swaps exactly its last two axes.</summary>
    private static bool IsSwapOfLastTwo(Value x, int rank) =>
        x.Producer is { IsStandard: true, OpType: "Transpose" } node && node.Outputs[0] == x
        && (node.GetInts("perm")?.ToArray() ?? (rank == 2 ? [1, 0] : null)) is { } perm && perm.SequenceEqual(SwapPerm(rank));

    /// <summary>Whether the batch axes (all but the last two) of both operands are the same dims, so that neither is broadcast.</summary>
    private static bool SameBatch(Value a, Value b, int rank) =>
        a.Shape is { } sa && b.Shape is { } sb && Enumerable.Range(0, rank - 2).All(i => sa[i].SameAs(sb[i]));

    /// <summary>
    /// Y = alpha·A'·B' + beta·C. With dA' = alpha·dY·B'ᵀ and dB' = alpha·A'ᵀ·dY, each case is one Gemm
    /// again (so its own gradient is this rule): e.g. transA=1 gives dA = dA'ᵀ = alpha·B'·dYᵀ.
    /// dC = beta·dY summed back over the axes C was broadcast along.
    /// </summary>
    private static void Gemm(GradientContext c)
    {
        var (a, b, dy) = (c.X(0), c.X(1), c.Dy);
        var transA = c.Int("transA", 0) != 0;
        var transB = c.Int("transB", 0) != 0;
        var alpha = c.Float("alpha", 1f);
        var beta = c.Float("beta", 1f);
        if (c.Needs(0))
        {
            c.SetGrad(0, transA
                ? Product(c, b, dy, alpha, transB, true)   // dA = alpha·B'·dYᵀ
                : Product(c, dy, b, alpha, false, !transB)); // dA = alpha·dY·B'ᵀ
        }
        if (c.Needs(1))
        {
            c.SetGrad(1, transB
                ? Product(c, dy, a, alpha, true, transA)   // dB = alpha·dYᵀ·A'
                : Product(c, a, dy, alpha, !transA, false)); // dB = alpha·A'ᵀ·dY
        }
        if (c.Node.Inputs.Count > 2 && c.HasInput(2) && c.Needs(2))
        {
            var dc = beta == 1f ? dy : c.B.Mul(dy, c.Scalar(beta, dy));
            c.SetGradUnbroadcast(2, dc);
        }
    }

    /// <summary>alpha·op(x)·op(y) as a Gemm without C (C is optional from opset 11).</summary>
    private static Value Product(GradientContext c, Value x, Value y, float alpha, bool transX, bool transY)
    {
        var attributes = new List<Attribute>();
        if (alpha != 1f)
        {
            attributes.Add(Attribute.Float("alpha", alpha));
        }
        if (transX)
        {
            attributes.Add(Attribute.Int("transA", 1));
        }
        if (transY)
        {
            attributes.Add(Attribute.Int("transB", 1));
        }
        return c.B.Op("Gemm", [x, y], [.. attributes]);
    }
}
