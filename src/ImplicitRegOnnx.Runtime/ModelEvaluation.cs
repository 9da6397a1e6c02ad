using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Runtime.Data;
using ImplicitRegOnnx.Runtime.Verification;
using ImplicitRegOnnx.Training;

namespace ImplicitRegOnnx.Runtime;

/// <summary>
/// Loss and accuracy of a model on a data set, through its evaluation model (loss and original outputs),
/// for any number of model inputs: every input is fed from the data set's array of its name
/// (<see cref="Dataset.ForInputs"/>), the loss reads "target".
/// </summary>
public static class ModelEvaluation
{
    /// <summary>Evaluates an inference model as it is (its own weights).</summary>
    public static Evaluation Run(Model inference, Dataset data, GradientModelOptions options, int batchSize = 256)
    {
        var eval = EvalModelBuilder.Build(inference, options, OrtConstantEvaluator.Instance);
        var parameters = eval.Graph.RequiredInputs
            .Select(v => inference.Graph.Initializers.FirstOrDefault(i => i.Name == v.Name)?.Initializer?.WithName(v.Name))
            .OfType<Tensor>().ToList();
        return Run(eval, DataInput.Of(inference), options.Output ?? inference.Graph.Outputs[0].Name, data, parameters, batchSize,
            options.LossOutput is null ? options.Loss : null);
    }

    /// <summary>
    /// Runs an evaluation model batch by batch with the given parameter values, feeding <paramref name="inputs"/>
    /// (the inference model's, <see cref="DataInput.Of(Model)"/>) and "target" from <paramref name="data"/>.
    /// Accuracy is the argmax of <paramref name="output"/> [B, classes] against int64 class labels; mean squared and
    /// mean absolute error of the output against the target for the regression losses (<paramref name="loss"/> mse or l1).
    /// </summary>
    public static Evaluation Run(Model eval, IReadOnlyList<DataInput> inputs, string output, Dataset data,
        IReadOnlyList<Tensor> parameters, int batchSize = 256, LossKind? loss = null)
    {
        ArgumentNullException.ThrowIfNull(eval);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        data = data.ForInputs(inputs, DataInput.TargetOf(eval, output, loss is { } kind && kind.TargetIsClassIndex()));
        if (data.Target is null && eval.Graph.RequiredInputs.Any(v => v.Name == GradientModelBuilder.Target))
        {
            throw ImplicitRegException.BadInput(
                $"{(data.Source is null ? "the data" : $"'{data.Source}'")} has no '{Dataset.TargetName}' array, which the loss needs; it holds {string.Join(", ", data.Arrays.Select(a => $"'{a.Name}'"))}");
        }
        var regression = loss is LossKind.Mse or LossKind.L1 && !data.HasClassLabels;
        double squaredSum = 0, absoluteSum = 0;
        long elements = 0;
        using var runner = ModelRunner.FromBytes(eval.ToBytes());
        double lossSum = 0;
        long correct = 0;
        for (var start = 0; start < data.Count; start += batchSize)
        {
            var n = Math.Min(batchSize, data.Count - start);
            var batch = data.Range(start, n);
            var outputs = runner.Run([.. batch.Values, .. parameters])
                .ToDictionary(o => o.Name, o => o.Tensor!, StringComparer.Ordinal);
            lossSum += outputs["loss"].ToDoubles()[0] * n;
            if (data.HasClassLabels && outputs.TryGetValue(output, out var scores) && scores.Dims.Length == 2)
            {
                correct += CountCorrect(scores, batch[Dataset.TargetName].ToInt64s());
            }
            if (regression && outputs.TryGetValue(output, out var predictions) && predictions.ElementCount == batch[Dataset.TargetName].ElementCount)
            {
                var p = predictions.ToDoubles();
                var t = batch[Dataset.TargetName].ToDoubles();
                for (var i = 0; i < p.Length; i++)
                {
                    var d = p[i] - t[i];
                    squaredSum += d * d;
                    absoluteSum += Math.Abs(d);
                }
                elements += p.Length;
            }
        }
        return new Evaluation(lossSum / data.Count, data.HasClassLabels ? (double)correct / data.Count : null, data.Count)
        {
            MeanSquaredError = elements > 0 ? squaredSum / elements : null,
            MeanAbsoluteError = elements > 0 ? absoluteSum / elements : null,
        };
    }

    private static long CountCorrect(Tensor scores, long[] labels)
    {
        var s = scores.ToDoubles();
        var classes = (int)scores.Dims[1];
        long correct = 0;
        for (var i = 0; i < labels.Length; i++)
        {
            var best = 0;
            for (var k = 1; k < classes; k++)
            {
                if (s[(i * classes) + k] > s[(i * classes) + best])
                {
                    best = k;
                }
            }
            correct += best == labels[i] ? 1 : 0;
        }
        return correct;
    }
}
