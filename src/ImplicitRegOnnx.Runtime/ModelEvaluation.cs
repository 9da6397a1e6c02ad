using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Runtime.Data;
using ImplicitRegOnnx.Runtime.Verification;
using ImplicitRegOnnx.Training;

namespace ImplicitRegOnnx.Runtime;

/// <summary>Loss and accuracy of a model on a data set, through its evaluation model (loss and original outputs).</summary>
public static class ModelEvaluation
{
    /// <summary>Evaluates an inference model as it is (its own weights).</summary>
    public static Evaluation Run(Model inference, Dataset data, GradientModelOptions options, int batchSize = 256)
    {
        var eval = EvalModelBuilder.Build(inference, options, OrtConstantEvaluator.Instance);
        var parameters = eval.Graph.RequiredInputs
            .Select(v => inference.Graph.Initializers.FirstOrDefault(i => i.Name == v.Name)?.Initializer?.WithName(v.Name))
            .OfType<Tensor>().ToList();
        var input = inference.Graph.RequiredInputs.Single();
        var dims = input.Shape?.Select(d => d.Value ?? -1).ToArray() ?? [];
        return Run(eval, input.Name, dims, options.Output ?? inference.Graph.Outputs[0].Name, data, parameters, batchSize);
    }

    /// <summary>Runs an evaluation model batch by batch with the given parameter values.</summary>
    public static Evaluation Run(Model eval, string input, IReadOnlyList<long> inputDims, string output, Dataset data,
        IReadOnlyList<Tensor> parameters, int batchSize = 256)
    {
        data = data.ReshapeForInput(inputDims);
        using var runner = ModelRunner.FromBytes(eval.ToBytes());
        double lossSum = 0;
        long correct = 0;
        for (var start = 0; start < data.Count; start += batchSize)
        {
            var n = Math.Min(batchSize, data.Count - start);
            var (features, labels) = data.GetRange(start, n);
            var outputs = runner.Run([features.WithName(input), labels.WithName(GradientModelBuilder.Target), .. parameters])
                .ToDictionary(o => o.Name, o => o.Tensor!, StringComparer.Ordinal);
            lossSum += outputs["loss"].ToDoubles()[0] * n;
            if (data.HasClassLabels && outputs.TryGetValue(output, out var scores) && scores.Dims.Length == 2)
            {
                correct += CountCorrect(scores, labels.ToInt64s());
            }
        }
        return new Evaluation(lossSum / data.Count, data.HasClassLabels ? (double)correct / data.Count : null, data.Count);
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
