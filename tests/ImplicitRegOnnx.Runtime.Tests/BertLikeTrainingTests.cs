using System.Text.Json.Nodes;
using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Runtime.Data;
using ImplicitRegOnnx.TestSupport;
using ImplicitRegOnnx.Training;
using ImplicitRegOnnx.Runtime.Training;

namespace ImplicitRegOnnx.Runtime.Tests;

/// <summary>
/// The BERT-like reference of issue 12 (tests/BertLike, tools/make_bert_like.py): a PyTorch-exported
/// classifier with two int64 inputs (input_ids, attention_mask) trained from .npz files with the
/// setup PyTorch used, compared with PyTorch's results recorded in reference.json.
/// </summary>
public class BertLikeTrainingTests
{
    private static readonly JsonNode Reference = JsonNode.Parse(File.ReadAllText(TestPaths.BertLike("reference.json")))!;

    private static Model Inference => Model.Load(TestPaths.BertLike((string)Reference["model"]!));

    private static (Dataset Train, Dataset Test) Data()
    {
        var inputs = DataInput.Of(Inference);
        return (DataFiles.Load(TestPaths.BertLike((string)Reference["train"]!), inputs),
                DataFiles.Load(TestPaths.BertLike((string)Reference["test"]!), inputs));
    }

    /// <summary>The reference's setup: softmax cross-entropy, no penalty, SGD with momentum (PyTorch's), its batch size, rate, epochs and seed.</summary>
    private static TrainerOptions ReferenceOptions()
    {
        Assert.Equal("none", (string)Reference["penalty"]!);
        Assert.Equal("cross-entropy", (string)Reference["loss"]!);
        Assert.True((bool)Reference["drop_last"]!);
        return new TrainerOptions
        {
            Step = new StepModelOptions
            {
                Gradient = new GradientModelOptions { Loss = LossKind.CrossEntropy, Penalty = new PenaltyOptions { Mode = PenaltyMode.None } },
                Optimizer = new OptimizerOptions { Kind = OptimizerKind.Momentum, Momentum = (float)(double)Reference["momentum"]! },
            },
            LearningRate = (float)(double)Reference["learning_rate"]!,
            BatchSize = (int)Reference["batch_size"]!,
            Epochs = (int)Reference["epochs"]!,
            Seed = (ulong)(int)Reference["seed"]!,
        };
    }

    [Fact]
    public void The_untrained_model_evaluates_as_in_pytorch()
    {
        var (_, test) = Data();
        var evaluation = ModelEvaluation.Run(Inference, test, new GradientModelOptions { Loss = LossKind.CrossEntropy, Penalty = new PenaltyOptions { Mode = PenaltyMode.None } });
        var initial = Reference["initial"]!;
        Assert.Equal((int)Reference["test_examples"]!, evaluation.Examples);
        // float32 forward passes of a 2.6k-parameter model: agreement to ~1e-6 relative; 1e-5 leaves room for summation order.
        Assert.Equal((double)initial["test_loss"]!, evaluation.Loss, 1e-5);
        Assert.Equal((double)initial["test_accuracy"]!, evaluation.Accuracy!.Value, 1e-12);
    }

    [Fact]
    public void Trains_from_npz_files_to_the_pytorch_reference_accuracy()
    {
        var (train, test) = Data();
        var options = ReferenceOptions();
        using var trainer = new Trainer(Inference, options);
        var epochs = trainer.Fit(train, test);

        var expected = Reference["epoch_results"]!.AsArray();
        Assert.Equal(expected.Count, epochs.Count);
        Assert.Equal(options.Epochs * (train.Count / options.BatchSize), trainer.Steps);
        var final = epochs[^1].Test!.Accuracy!.Value;
        Assert.True(final >= (double)Reference["final_test_accuracy"]!, $"test accuracy {final}, PyTorch {Reference["final_test_accuracy"]}");

        // Same initial weights, same batches (EpochSampler's permutations, which the script re-implements) and the
        // same update: the mean training loss of every epoch follows PyTorch's. float32 rounding differences grow
        // over 750 steps, so the bound is loose (5% + 2e-3) but far below what a wrong input, mask or update gives.
        for (var e = 0; e < epochs.Count; e++)
        {
            var reference = (double)expected[e]!["train_loss"]!;
            Assert.True(Math.Abs(epochs[e].TrainLoss - reference) <= (0.05 * reference) + 2e-3,
                $"epoch {e + 1}: train loss {epochs[e].TrainLoss}, PyTorch {reference}");
        }

        // The exported inference model keeps both inputs and evaluates as the trainer did.
        var exported = trainer.ExportInferenceModel();
        Assert.Equal(["input_ids", "attention_mask"], exported.Graph.RequiredInputs.Select(v => v.Name));
        var evaluation = ModelEvaluation.Run(exported, test, options.Step.Gradient);
        Assert.Equal(epochs[^1].Test!.Accuracy, evaluation.Accuracy);
        Assert.Equal(epochs[^1].Test!.Loss, evaluation.Loss, 1e-6);
    }

    [Fact]
    public void Arrays_in_memory_train_exactly_as_the_files_do()
    {
        var (train, _) = Data();
        var arrays = Onnx.Numpy.NpzArchive.Read(TestPaths.BertLike((string)Reference["train"]!));
        var n = (int)arrays["target"].Dims[0];
        var ids = arrays["input_ids"].ToArray<long>();
        var mask = arrays["attention_mask"].ToArray<long>();
        var labels = arrays["target"].ToArray<long>();
        // Given in another order than the model's inputs, and over caller memory (Memory<T>, T[]).
        var inMemory = new Dataset([
            DataArray.FromArray("target", labels, n),
            DataArray.FromMemory("attention_mask", mask.AsMemory(), n, 10),
            DataArray.FromArray("input_ids", ids, n, 10),
        ]);
        byte[][] Weights(Dataset data)
        {
            using var trainer = new Trainer(Inference, ReferenceOptions() with { Epochs = 2, Threads = 1 });
            trainer.Fit(data);
            return [.. trainer.ExportInferenceModel().Graph.Initializers.Select(v => v.Initializer!.RawBytes.ToArray())];
        }
        var fromFiles = Weights(train);
        var fromMemory = Weights(inMemory);
        Assert.Equal(fromFiles.Length, fromMemory.Length);
        Assert.All(fromFiles.Zip(fromMemory), p => Assert.Equal(p.First, p.Second));
        // And training changed the weights.
        var initial = Inference.Graph.Initializers.Select(v => v.Initializer!.RawBytes.ToArray()).ToArray();
        Assert.Contains(fromFiles.Zip(initial), p => !p.First.AsSpan().SequenceEqual(p.Second));
    }

    [Fact]
    public void Trains_with_the_exact_penalty_as_pytorch_does_with_double_backward()
    {
        // reference.json's second run: objective C + c·R, R over n consecutive microbatches of both inputs, by double backward.
        var penalized = Reference["exact_penalty"]!;
        Assert.Equal("exact", (string)penalized["penalty"]!);
        var (train, test) = Data();
        var options = ReferenceOptions();
        options = options with
        {
            Epochs = (int)penalized["epochs"]!,
            Step = options.Step with
            {
                Gradient = options.Step.Gradient with
                {
                    Penalty = new PenaltyOptions
                    {
                        Mode = PenaltyMode.Exact,
                        Coefficient = (double)penalized["coefficient"]!,
                        Microbatches = (int)penalized["microbatches"]!,
                    },
                },
            },
        };
        using var trainer = new Trainer(Inference, options);
        var epochs = trainer.Fit(train, test);

        var expected = penalized["epoch_results"]!.AsArray();
        Assert.Equal(expected.Count, epochs.Count);
        for (var e = 0; e < epochs.Count; e++)
        {
            // As above: float32 differences grow over the steps, so 5% + 2e-3; a penalty over wrong slices or inputs is far off.
            foreach (var (name, actual) in new[] { ("train_loss", epochs[e].TrainLoss), ("penalty", epochs[e].Penalty) })
            {
                var reference = (double)expected[e]![name]!;
                Assert.True(Math.Abs(actual - reference) <= (0.05 * reference) + 2e-3, $"epoch {e + 1}: {name} {actual}, PyTorch {reference}");
            }
        }
        // Test accuracy of the last epoch within 4 of the 200 test examples of PyTorch's.
        var final = epochs[^1].Test!.Accuracy!.Value;
        var pytorch = (double)expected[^1]!["test_accuracy"]!;
        Assert.True(Math.Abs(final - pytorch) <= 0.02, $"test accuracy {final}, PyTorch {pytorch}");
    }
}
