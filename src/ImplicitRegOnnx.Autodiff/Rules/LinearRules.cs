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
        if (c.Needs(0))
        {
            c.SetGradUnbroadcast(0, c.B.MatMul(dy, SwapLastTwo(c, b, rankB)));
        }
        if (c.Needs(1))
        {
            c.SetGradUnbroadcast(1, c.B.MatMul(SwapLastTwo(c, a, rankA), dy));
        }
    }

    private static Value SwapLastTwo(GradientContext c, Value x, int rank)
    {
        var perm = Enumerable.Range(0, rank).Select(i => (long)i).ToArray();
        (perm[rank - 2], perm[rank - 1]) = (perm[rank - 1], perm[rank - 2]);
        return c.B.Transpose(x, perm);
    }

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
