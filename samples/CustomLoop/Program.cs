// CustomLoop: a training loop of your own over the files `implicitreg convert` (or the library's
// ModelConversion.Convert) writes: NAME.train.onnx, NAME.init.onnx, NAME.eval.onnx. Nothing is rebuilt:
// the step model is opened as it is and driven step by step, with a learning-rate schedule and a penalty
// coefficient chosen here (c(t) = ε(t)/4, Smith et al.'s coupling), an evaluation step each epoch, and an
// early exit when the test loss stops improving.
//
//   dotnet run --project samples/CustomLoop -- [MODEL.onnx] [DIGITS.csv.gz] [OUT_DIR]
//
// MODEL defaults to models/mlp_tanh.onnx and DIGITS to models/data/digits.csv.gz (looked up from the current
// folder upwards); OUT_DIR defaults to a new temporary folder.
// Exit code 0: trained and exported, and the exported model's test accuracy beats the untrained one's by
// 20 points; 1: it did not, or training failed; 2: bad arguments or input files.
using ImplicitRegOnnx;
using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Runtime;
using ImplicitRegOnnx.Runtime.Data;
using ImplicitRegOnnx.Runtime.Workflows;
using ImplicitRegOnnx.Training;

try
{
    return CustomLoop.Run(args);
}
catch (ImplicitRegException e)
{
    Console.Error.WriteLine($"customloop: {e.Message}");
    return e.Kind == ErrorKind.BadInput ? 2 : 1;
}
catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
{
    Console.Error.WriteLine($"customloop: {e.Message}");
    return 2;
}

internal static class CustomLoop
{
    private const float PeakLearningRate = 0.1f;
    private const int BatchSize = 32;
    private const int Epochs = 12;
    private const int Patience = 3;

    public static int Run(string[] args)
    {
        if (args.Length > 3 || args.Any(a => a is "-h" or "--help"))
        {
            Console.Error.WriteLine("usage: CustomLoop [MODEL.onnx] [DIGITS.csv.gz] [OUT_DIR]");
            return 2;
        }
        var modelPath = args.Length > 0 ? args[0] : FindUpwards(Path.Combine("models", "mlp_tanh.onnx"));
        var dataPath = args.Length > 1 ? args[1] : FindUpwards(Path.Combine("models", "data", "digits.csv.gz"));
        var outDir = args.Length > 2 ? Directory.CreateDirectory(args[2]).FullName
            : Directory.CreateTempSubdirectory("implicitreg-customloop-").FullName;

        // 1. Convert, as a CI step would: the step model (exact penalty, 2 microbatches, momentum SGD), its
        //    initial state and its evaluation model, written atomically into OUT_DIR.
        var report = ModelConversion.Convert(new ConvertOptions
        {
            Inputs = [modelPath],
            OutputDirectory = outDir,
            Step = new StepModelOptions
            {
                Gradient = new GradientModelOptions
                {
                    Loss = LossKind.CrossEntropy,
                    Penalty = new PenaltyOptions { Mode = PenaltyMode.Exact, Microbatches = 2 },
                },
                Optimizer = new OptimizerOptions { Kind = OptimizerKind.Momentum },
            },
        });
        var converted = report.Models.Single();
        if (converted.Status != ConversionStatus.Ok || converted.Output is null)
        {
            Console.Error.WriteLine($"customloop: {modelPath}: conversion {converted.Status}");
            return 1;
        }
        Console.WriteLine($"converted   {converted.Output}");

        // 2. Open the files as they are and bind the data to the model's inputs.
        var artifacts = TrainingArtifacts.Load(converted.Output);
        using var session = new ArtifactSession(artifacts);
        var inputs = DataInput.Of(Model.Load(modelPath));
        var (train, test) = DigitsData.Load(dataPath);
        train = train.ForInputs(inputs);
        test = test.ForInputs(inputs);
        var testBatch = test.Gather([.. Enumerable.Range(0, test.Count)]);
        var untrained = Accuracy(session.EvalStep(testBatch), artifacts.ModelOutputs[0], testBatch);
        Console.WriteLine($"untrained   test accuracy {untrained:P1}");

        // 3. The loop: linear warmup over the first epoch, then cosine decay; c(t) = ε(t)/4 fed every step.
        var stepsPerEpoch = train.Count / BatchSize;
        var totalSteps = stepsPerEpoch * Epochs;
        var order = Enumerable.Range(0, train.Count).ToArray();
        var random = new Random(1);
        var best = double.PositiveInfinity;
        IReadOnlyDictionary<string, Tensor>? bestState = null;
        var sinceBest = 0;
        for (var epoch = 0; epoch < Epochs && sinceBest < Patience; epoch++)
        {
            random.Shuffle(order);
            double lossSum = 0, penaltySum = 0;
            for (var b = 0; b < stepsPerEpoch; b++)
            {
                var t = (epoch * stepsPerEpoch) + b;
                var rate = t < stepsPerEpoch
                    ? PeakLearningRate * (t + 1) / stepsPerEpoch
                    : (float)(PeakLearningRate * 0.5 * (1 + Math.Cos(Math.PI * (t - stepsPerEpoch) / (totalSteps - stepsPerEpoch))));
                var metrics = session.TrainStep(train.Gather(order.AsSpan(b * BatchSize, BatchSize)), rate, penaltyCoefficient: rate / 4);
                if (!float.IsFinite(metrics.Objective))
                {
                    Console.Error.WriteLine($"customloop: step {t + 1}: the objective is {metrics.Objective}; lower the learning rate");
                    return 1;
                }
                lossSum += metrics.Loss;
                penaltySum += metrics.Penalty;
            }
            var eval = session.EvalStep(testBatch);
            Console.WriteLine($"epoch {epoch + 1,2}    loss {lossSum / stepsPerEpoch:F4}  penalty {penaltySum / stepsPerEpoch:F4}  test loss {eval.Loss:F4}  accuracy {Accuracy(eval, artifacts.ModelOutputs[0], testBatch):P1}");
            if (eval.Loss < best)
            {
                (best, bestState, sinceBest) = (eval.Loss, session.State(), 0);
            }
            else
            {
                sinceBest++;
            }
        }

        // 4. Keep the best epoch's state, export the inference model with its weights and check it.
        session.LoadState(bestState!);
        var trainedPath = Path.Combine(outDir, "trained.onnx");
        session.ExportInferenceModel().Save(trainedPath);
        var after = Accuracy(session.EvalStep(testBatch), artifacts.ModelOutputs[0], testBatch);
        Console.WriteLine($"exported    {trainedPath}: test loss {best:F4}, accuracy {untrained:P1} -> {after:P1}");
        // The export is an ordinary inference model: evaluated on its own it scores as the session did.
        var exported = ModelEvaluation.Run(Model.Load(trainedPath), test, new GradientModelOptions { Loss = LossKind.CrossEntropy });
        if (exported.Accuracy != after)
        {
            Console.Error.WriteLine($"customloop: the exported model scores {exported.Accuracy:P1}, the session {after:P1}");
            return 1;
        }
        return after >= untrained + 0.2 ? 0 : 1;
    }

    /// <summary>Argmax accuracy of an evaluation step's scores [B, classes] against the batch's int64 labels.</summary>
    private static double Accuracy(EvalStepResult eval, string output, IReadOnlyDictionary<string, Tensor> batch)
    {
        var scores = eval.Outputs[output].ToDoubles();
        var labels = batch[GradientModelBuilder.Target].ToDoubles();
        var classes = scores.Length / labels.Length;
        var correct = 0;
        for (var i = 0; i < labels.Length; i++)
        {
            var row = scores.AsSpan(i * classes, classes);
            correct += row.IndexOf(row.ToArray().Max()) == (int)labels[i] ? 1 : 0;
        }
        return (double)correct / labels.Length;
    }

    private static string FindUpwards(string relative)
    {
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, relative);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        throw new FileNotFoundException($"{relative} not found from {Directory.GetCurrentDirectory()} upwards; pass the path");
    }
}
