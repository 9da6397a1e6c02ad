using ImplicitRegOnnx.Onnx;

namespace ImplicitRegOnnx.Autodiff.Rules;

/// <summary>
/// NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (ONNX operator spec, opset 13+): input or
/// scores [N, C, d...], int labels [N, d...], optional class weights [C], ignore_index, reduction
/// none/sum/mean (mean divides by the sum of the applied weights). With M the one-hot of the
/// labels (zero where the label is ignore_index) times the class weights, the per-element loss is
/// −Σ_c M·logp, so ∂/∂logp = −M·G with G the output gradient (divided by Σ M for mean). The
/// one-hot is Equal(labels, class ids), non-differentiable like the labels themselves; the rest
/// are ops with rules, so the backward graph can be differentiated again.
/// </summary>
internal static class LossRules
{
    public static void Register(RuleRegistry r)
    {
        r.Add("NegativeLogLikelihoodLoss", c =>
        {
            var dy = c.OutputGrad(0);
            if (dy is null)
            {
                return;
            }
            var logProbabilities = c.X(0);
            var loss = new LossTerms(c, logProbabilities, dy);
            c.SetGrad(0, loss.InputGradient);
            if (c.Needs(2))
            {
                c.SetGrad(2, loss.WeightGradient(logProbabilities));
            }
        });
        r.Add("SoftmaxCrossEntropyLoss", c =>
        {
            // log_prob = LogSoftmax(scores) along the class axis; the loss is NLL of log_prob.
            var b = c.B;
            var scores = c.X(0);
            var hasLogProbabilities = c.Node.Outputs.Count > 1 && c.Node.Outputs[1] is not null;
            if (c.Opset < 13 && c.Rank(scores) > 2)
            {
                throw ImplicitRegException.Unsupported($"{c.Describe()}: before opset 13 only [N, C] scores are supported; re-export with opset 13 or newer");
            }
            var logProbabilities = hasLogProbabilities ? c.Y(1) : b.Op("LogSoftmax", [scores], Attribute.Int("axis", 1));
            Value? logProbabilityGrad = c.OutputGrad(1);
            LossTerms? loss = null;
            if (c.OutputGrad(0) is { } dy)
            {
                loss = new LossTerms(c, logProbabilities, dy);
                logProbabilityGrad = logProbabilityGrad is null ? loss.InputGradient : b.Add(logProbabilityGrad, loss.InputGradient);
            }
            if (logProbabilityGrad is not null && c.Needs(0))
            {
                // Through LogSoftmax: d − softmax·Σ_c d.
                var total = b.ReduceSum(logProbabilityGrad, [1], keepDims: true);
                c.SetGrad(0, b.Sub(logProbabilityGrad, b.Mul(b.Op("Exp", [logProbabilities]), total)));
            }
            if (loss is not null && c.Needs(2))
            {
                c.SetGrad(2, loss.WeightGradient(logProbabilities));
            }
        });
    }

    /// <summary>The pieces both losses share, for one node and its output gradient.</summary>
    private sealed class LossTerms
    {
        private readonly GradientContext _c;
        private readonly long[] _allButClassAxis;
        private readonly Value _oneHot;
        private readonly Value _outputGradient;

        public LossTerms(GradientContext c, Value logProbabilities, Value dy)
        {
            _c = c;
            var b = c.B;
            var rank = c.Rank(logProbabilities);
            _allButClassAxis = [0, .. Enumerable.Range(2, rank - 2).Select(a => (long)a)];
            var labels = b.Unsqueeze(b.Cast(c.X(1), ElementType.Int64), 1);
            var hit = b.Op("Equal", [labels, ClassIds(c, logProbabilities, rank)]);
            if (c.Node.GetAttribute("ignore_index") is not null)
            {
                var ignored = b.Op("Equal", [labels, b.Scalar(c.Int("ignore_index", 0))]);
                hit = b.Op("And", [hit, b.Op("Not", [ignored])]);
            }
            _oneHot = c.CastLike(hit, logProbabilities);
            WeightedOneHot = c.HasInput(2) ? b.Mul(_oneHot, c.ChannelView(c.X(2), rank)) : _oneHot;
            Reduction = c.String("reduction", "mean");
            _outputGradient = Reduction switch
            {
                "none" => b.Unsqueeze(dy, 1),
                "sum" => dy,
                "mean" => b.Div(dy, b.ReduceSum(WeightedOneHot, [], keepDims: false)),
                _ => throw ImplicitRegException.BadInput($"{c.Describe()}: unknown reduction '{Reduction}'"),
            };
            InputGradient = b.Neg(b.Mul(WeightedOneHot, _outputGradient));
        }

        public string Reduction { get; }

        /// <summary>One-hot of the labels (ignored ones zero) times the class weights, [N, C, d...].</summary>
        public Value WeightedOneHot { get; }

        /// <summary>∂L/∂logp = −M·G.</summary>
        public Value InputGradient { get; }

        /// <summary>
        /// ∂L/∂w_c = −Σ onehot_c·logp·G for none and sum; for mean the normalizer Σ M depends on w too,
        /// giving −Σ onehot_c·(logp + y)·G with y the (mean) loss.
        /// </summary>
        public Value WeightGradient(Value logProbabilities)
        {
            var b = _c.B;
            var values = Reduction == "mean" ? b.Add(logProbabilities, _c.Y(0)) : logProbabilities;
            return b.Neg(b.ReduceSum(b.Mul(b.Mul(_oneHot, values), _outputGradient), _allButClassAxis, keepDims: false));
        }
    }

    /// <summary>The class ids 0..C−1 as int64 shaped [1, C, 1, ...] to compare with labels [N, 1, d...].</summary>
    private static Value ClassIds(GradientContext c, Value scores, int rank)
    {
        var b = c.B;
        long[] dims = [1, -1, .. Enumerable.Repeat(1L, rank - 2)];
        if (scores.Shape is { } shape && shape[1].Value is { } classes)
        {
            dims[1] = classes;
            return b.Constant(Tensor.FromArray(Enumerable.Range(0, (int)classes).Select(i => (long)i).ToArray(), dims));
        }
        var count = b.Op("Gather", [b.Shape(scores), b.Scalar(1L)], Attribute.Int("axis", 0));
        return b.Reshape(b.Op("Range", [b.Scalar(0L), count, b.Scalar(1L)]), dims);
    }

}
