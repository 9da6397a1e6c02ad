// QuickStart: the library's path from an inference model to a trained one, as an app outside this
// repository takes it with the ImplicitRegOnnx package as its only reference.
//
//   dotnet run --project samples/QuickStart -- [MODEL.onnx] [DIGITS.csv.gz] [OUT_DIR]
//
// MODEL defaults to models/mlp_tanh.onnx (64-32-10, tanh) and DIGITS to models/data/digits.csv.gz, both
// looked up from the current folder upwards; OUT_DIR defaults to a new temporary folder.
// Exit code 0: trained and exported, and the exported model's test loss is lower than the original's;
// 1: training did not improve the model or failed; 2: bad arguments or input files.
using ImplicitRegOnnx;
using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Onnx.Passes;
using ImplicitRegOnnx.Runtime;
using ImplicitRegOnnx.Runtime.Data;
using ImplicitRegOnnx.Training;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Tensor = ImplicitRegOnnx.Onnx.Tensor;

try
{
    return QuickStart.Run(args);
}
catch (ImplicitRegException e)
{
    Console.Error.WriteLine($"quickstart: {e.Message}");
    return e.Kind == ErrorKind.BadInput ? 2 : 1;
}
catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
{
    Console.Error.WriteLine($"quickstart: {e.Message}");
    return 2;
}
catch (Exception e)
{
    Console.Error.WriteLine($"quickstart: {e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")}");
    return 1;
}

internal static class QuickStart
{
    private const float LearningRate = 0.05f;
    private const int BatchSize = 32;
    private const int Steps = 100;

    public static int Run(string[] args)
    {
        if (args.Length > 3 || args.Any(a => a is "-h" or "--help"))
        {
            Console.Error.WriteLine("usage: QuickStart [MODEL.onnx] [DIGITS.csv.gz] [OUT_DIR]");
            return 2;
        }
        var modelPath = args.Length > 0 ? args[0] : FindUpwards(Path.Combine("models", "mlp_tanh.onnx"));
        var dataPath = args.Length > 1 ? args[1] : FindUpwards(Path.Combine("models", "data", "digits.csv.gz"));
        var outDir = args.Length > 2 ? Directory.CreateDirectory(args[2]).FullName
            : Directory.CreateTempSubdirectory("implicitreg-quickstart-").FullName;

        // 1. Load any ONNX model: the library's IR, independent of the exporter.
        var inference = Model.Load(modelPath);
        var input = inference.Graph.RequiredInputs.Single();
        var output = inference.Graph.Outputs[0];
        Console.WriteLine($"model       {modelPath}: {inference.Graph.Nodes.Count} nodes, input '{input.Name}', output '{output.Name}'");

        // 2. Data: the scikit-learn digits (8x8 images, 10 classes), split 1438 / 359.
        var (train, test) = DigitsData.Load(dataPath);
        Console.WriteLine($"data        {train.Count} training and {test.Count} test examples");

        // 3. Rewrite into one ONNX model that performs a whole training step: loss, the minibatch-gradient
        //    penalty by exact double backward (λ = learning rate, c = λ/4, 2 microbatches) and momentum SGD.
        var step = StepModelBuilder.Build(inference, new StepModelOptions
        {
            Gradient = new GradientModelOptions
            {
                Loss = LossKind.CrossEntropy,
                Penalty = new PenaltyOptions
                {
                    Mode = PenaltyMode.Exact,
                    Coefficient = PenaltyOptions.CoefficientFromLambda(LearningRate),
                    Microbatches = 2,
                },
            },
            Optimizer = new OptimizerOptions { Kind = OptimizerKind.Momentum },
        });
        var stepPath = Path.Combine(outDir, "mlp.train.onnx");
        step.Model.Save(stepPath);
        Console.WriteLine($"step model  {stepPath}: {step.Model.Graph.Nodes.Count} nodes, parameters {string.Join(", ", step.Parameters)}");

        // 4. Train: ONNX Runtime runs the step model; parameters and momenta stay in its buffers.
        using var session = new StepSession(step);
        StepMetrics first = default, last = default;
        for (var i = 0; i < Steps; i++)
        {
            var start = i * BatchSize % (train.Count - BatchSize + 1);
            var (features, labels) = train.GetRange(start, BatchSize);
            var metrics = session.Step(new Dictionary<string, Tensor>
            {
                [input.Name] = features,
                [GradientModelBuilder.Target] = labels,
            }, LearningRate);
            if (!float.IsFinite(metrics.Objective))
            {
                Console.Error.WriteLine($"quickstart: step {i + 1}: the objective is {metrics.Objective}; training diverged");
                return 1;
            }
            if (i == 0)
            {
                first = metrics;
            }
            last = metrics;
        }
        Console.WriteLine($"step 1      loss {first.Loss:F4}  penalty {first.Penalty:F4}");
        Console.WriteLine($"step {Steps,-6} loss {last.Loss:F4}  penalty {last.Penalty:F4}");

        // 5. Export: the original model with the trained weights (optimizer states are dropped), folded and
        //    cleaned by the optimization passes, saved atomically.
        var trained = ModelExport.WithWeights(inference, session.State(), "QuickStart");
        ModelOptimizer.Optimize(trained);
        var trainedPath = Path.Combine(outDir, "mlp.trained.onnx");
        trained.Save(trainedPath);

        // 6. Check with plain ONNX Runtime on the files: the exported model is an ordinary ONNX model.
        var before = Evaluate(modelPath, input.Name, test);
        var after = Evaluate(trainedPath, input.Name, test);
        Console.WriteLine($"test        loss {before.Loss:F4} -> {after.Loss:F4}, accuracy {before.Accuracy:P1} -> {after.Accuracy:P1}");
        Console.WriteLine($"exported    {trainedPath} ({new FileInfo(trainedPath).Length:N0} bytes)");
        if (!(after.Loss < before.Loss) || !(last.Loss < first.Loss))
        {
            Console.Error.WriteLine("quickstart: training did not lower the loss");
            return 1;
        }
        return 0;
    }

    /// <summary>Mean cross-entropy and accuracy of a saved classifier on a data set.</summary>
    private static (double Loss, double Accuracy) Evaluate(string path, string inputName, Dataset data)
    {
        using var session = new InferenceSession(path);
        var features = new DenseTensor<float>(data.Features.ToArray<float>(), [data.Count, data.FeaturesPerExample]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(inputName, features)]);
        var logits = results[0].AsTensor<float>();
        var labels = data.Labels.ToInt64s();
        var classes = (int)logits.Dimensions[1];
        double loss = 0;
        var correct = 0;
        for (var i = 0; i < data.Count; i++)
        {
            var row = Enumerable.Range(0, classes).Select(k => (double)logits[i, k]).ToArray();
            var max = row.Max();
            var logSumExp = max + Math.Log(row.Sum(v => Math.Exp(v - max)));
            loss += logSumExp - row[labels[i]];
            correct += Array.IndexOf(row, max) == labels[i] ? 1 : 0;
        }
        return (loss / data.Count, (double)correct / data.Count);
    }

    /// <summary>A file of this repository, found from the current folder upwards.</summary>
    private static string FindUpwards(string relative)
    {
        for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, relative);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        throw new FileNotFoundException($"{relative} not found in {Environment.CurrentDirectory} or a folder above it; pass its path as an argument");
    }
}
