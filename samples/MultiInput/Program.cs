// MultiInput: trains a model with two int64 inputs from arrays in memory, with the exact penalty
// (double backward), as an app outside this repository does with the ImplicitRegOnnx package.
//
//   dotnet run --project samples/MultiInput -- [OUT_DIR]
//
// The model is bert_like.onnx (next to the program): a small BERT-like classifier exported by PyTorch,
// inputs input_ids and attention_mask (int64 [batch, 10]), output logits [batch, 2]. The data is made
// here: the masked counting task of tests/BertLike (label 1 when the real tokens hold token 1 more often
// than token 2; padded positions hold 1s and 2s that the model must ignore through the mask).
// Exit code 0: the trained model reaches the accuracy threshold on the held-out examples;
// 1: it does not, or training failed; 2: bad arguments or input files.
using ImplicitRegOnnx;
using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Runtime;
using ImplicitRegOnnx.Runtime.Data;
using ImplicitRegOnnx.Runtime.Training;
using ImplicitRegOnnx.Training;

const int Examples = 1000, Length = 10, MinLength = 3, Vocabulary = 12, Trigger = 1, Blocker = 2;
const float LearningRate = 0.05f;
const double RequiredAccuracy = 0.95;

try
{
    if (args.Length > 1 || args.Any(a => a is "-h" or "--help"))
    {
        Console.Error.WriteLine("usage: MultiInput [OUT_DIR]");
        return 2;
    }
    var outDir = args.Length > 0 ? Directory.CreateDirectory(args[0]).FullName
        : Directory.CreateTempSubdirectory("implicitreg-multiinput-").FullName;

    // 1. Data: three arrays in memory that share the first dimension, row i of each is example i.
    //    DataArray reads the caller's T[] (or Memory<T>) without copying it.
    var (ids, mask, labels) = CountingTask(Examples, seed: 7);
    var all = new Dataset([
        DataArray.FromArray("input_ids", ids, Examples, Length),       // named as the model's inputs
        DataArray.FromArray("attention_mask", mask, Examples, Length),
        DataArray.FromArray(Dataset.TargetName, labels, Examples),      // "target": what the loss reads
    ]);
    var (train, test) = all.Split(testFraction: 0.2, seed: 1);          // held out, both classes kept balanced
    Console.WriteLine($"data     {train.Count} training and {test.Count} test examples: {string.Join(", ", all.Arrays)}");

    // 2. Train: cross-entropy plus the minibatch-gradient penalty by double backward (c = λ/4 with
    //    λ = the learning rate, 2 microbatches per batch), momentum SGD; a fresh shuffle every epoch.
    var model = Model.Load(Path.Combine(AppContext.BaseDirectory, "bert_like.onnx"));
    var options = new TrainerOptions
    {
        Step = new StepModelOptions
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
            Optimizer = new OptimizerOptions { Kind = OptimizerKind.Momentum, Momentum = 0.9 },
        },
        LearningRate = LearningRate,
        BatchSize = 16,
        Epochs = 5,
    };
    using var trainer = new Trainer(model, options);
    var epochs = trainer.Fit(train, test, onEpoch: e => Console.WriteLine(
        $"epoch {e.Epoch + 1}  train loss {e.TrainLoss:F4}  penalty {e.Penalty:F4}  test loss {e.Test!.Loss:F4}  accuracy {e.Test.Accuracy:P1}"));

    // 3. Export the inference model with the trained weights (an ordinary ONNX model, same inputs),
    //    then load it back and evaluate it as it is.
    var exportedPath = Path.Combine(outDir, "bert_like.trained.onnx");
    trainer.ExportInferenceModel().Save(exportedPath);
    var exported = ModelEvaluation.Run(Model.Load(exportedPath), test, options.Step.Gradient);
    Console.WriteLine($"exported {exportedPath}: test loss {exported.Loss:F4}, accuracy {exported.Accuracy:P1}");

    var accuracy = epochs[^1].Test!.Accuracy ?? 0;
    if (!(accuracy >= RequiredAccuracy) || exported.Accuracy != accuracy)
    {
        Console.Error.WriteLine($"multiinput: test accuracy {accuracy:P1} (exported: {exported.Accuracy:P1}), expected at least {RequiredAccuracy:P0} from both");
        return 1;
    }
    return 0;
}
catch (ImplicitRegException e)
{
    Console.Error.WriteLine($"multiinput: {e.Message}");
    return e.Kind == ErrorKind.BadInput ? 2 : 1;
}
catch (Exception e) when (e is IOException or UnauthorizedAccessException)
{
    Console.Error.WriteLine($"multiinput: {e.Message}");
    return 2;
}

// The masked counting task, balanced between the two classes: a sequence of 3 to 10 real tokens, then
// padding (mask 0) that holds trigger and blocker tokens at random; the label counts the real tokens only.
static (long[] Ids, long[] Mask, long[] Labels) CountingTask(int count, int seed)
{
    var random = new Random(seed);
    var ids = new long[count * Length];
    var mask = new long[count * Length];
    var labels = new long[count];
    var made = new int[2];
    for (var i = 0; i < count;)
    {
        var length = random.Next(MinLength, Length + 1);
        var row = ids.AsSpan(i * Length, Length);
        var balance = 0; // triggers minus blockers among the real tokens
        for (var t = 0; t < Length; t++)
        {
            row[t] = t < length ? random.Next(Vocabulary) : random.Next(2) == 0 ? Trigger : Blocker;
            balance += t >= length ? 0 : row[t] == Trigger ? 1 : row[t] == Blocker ? -1 : 0;
        }
        var label = balance > 0 ? 1 : 0;
        if (made[label] == count / 2 + label * (count % 2))
        {
            continue; // that class is full: draw another sequence (row i is overwritten)
        }
        made[label]++;
        mask.AsSpan(i * Length, length).Fill(1);
        labels[i] = label;
        i++;
    }
    return (ids, mask, labels);
}
