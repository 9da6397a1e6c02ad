using System.Text.RegularExpressions;
using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Runtime.Data;
using ImplicitRegOnnx.TestSupport;
using ImplicitRegOnnx.Training;
using ImplicitRegOnnx.Runtime.Training;

namespace ImplicitRegOnnx.Runtime.Tests.Readme;

/// <summary>
/// The README's C# training sample is this file's <see cref="TrainingSample"/>, word for word (the
/// test below compares them), so the sample compiles with the project and runs in the tests.
/// It changes the working folder and Console.Out, so it runs alone.
/// </summary>
[Collection(ProcessStateCollection.Name)]
public partial class ReadmeSampleTests
{
    [Fact]
    public void TheTrainingSampleRunsFromTheRepositoryRoot()
    {
        var previous = Directory.GetCurrentDirectory();
        Directory.SetCurrentDirectory(TestPaths.RepositoryRoot);
        using var temp = new TempDirectory();
        try
        {
            var output = new StringWriter();
            Console.SetOut(output);
            TrainingSample();
            Assert.Contains("epoch 9: test accuracy", output.ToString(), StringComparison.Ordinal);
            Assert.True(File.Exists("trained.onnx"));
            File.Move("trained.onnx", temp.File("trained.onnx"));
        }
        finally
        {
            Console.SetOut(new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = true });
            Directory.SetCurrentDirectory(previous);
        }
    }

    /// <summary>
    /// The multi-input sample trains the BERT-like model from the arrays of tests/BertLike/train.npz held as
    /// long[]s, with the setup of reference.json's exact-penalty run, to PyTorch's final test accuracy within 2%
    /// (the tolerance of BertLikeTrainingTests for that run).
    /// </summary>
    [Fact]
    public void TheMultiInputSampleTrainsFromArraysToThePyTorchAccuracy()
    {
        var reference = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(TestPaths.BertLike("reference.json")))!;
        var penalized = reference["exact_penalty"]!;
        var inputs = DataInput.Of(Model.Load(TestPaths.BertLike("bert_like.onnx")));
        var train = DataFiles.Load(TestPaths.BertLike("train.npz"), inputs);
        var test = DataFiles.Load(TestPaths.BertLike("test.npz"), inputs);
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
                        Coefficient = (double)penalized["coefficient"]!,
                        Microbatches = (int)penalized["microbatches"]!,
                    },
                },
                Optimizer = new OptimizerOptions { Kind = OptimizerKind.Momentum, Momentum = (double)reference["momentum"]! },
            },
            LearningRate = (float)(double)reference["learning_rate"]!,
            BatchSize = (int)reference["batch_size"]!,
            Epochs = (int)penalized["epochs"]!,
            Seed = (ulong)(int)reference["seed"]!,
        };
        var previous = Directory.GetCurrentDirectory();
        Directory.SetCurrentDirectory(TestPaths.RepositoryRoot);
        var output = new StringWriter();
        IReadOnlyList<EpochEvent> epochs;
        try
        {
            Console.SetOut(output);
            epochs = MultiInputSample(train["input_ids"].Values<long>().ToArray(), train["attention_mask"].Values<long>().ToArray(),
                train[Dataset.TargetName].Values<long>().ToArray(), train.Count, options, test);
        }
        finally
        {
            Console.SetOut(new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = true });
            Directory.SetCurrentDirectory(previous);
        }
        var expected = (double)penalized["epoch_results"]!.AsArray()[^1]!["test_accuracy"]!;
        Assert.Equal(options.Epochs, epochs.Count);
        Assert.InRange(epochs[^1].Test!.Accuracy!.Value, expected - 0.02, 1.0);
        Assert.Contains($"test accuracy {epochs[^1].Test!.Accuracy:P1}", output.ToString(), StringComparison.Ordinal);
    }

    /// <summary>The library sample folds a constant subgraph: the IR has no evaluator of its own, the sample passes ONNX Runtime's.</summary>
    [Fact]
    public void TheLibrarySampleOptimizesWithConstantFolding()
    {
        using var temp = new TempDirectory();
        var graph = new Graph("sample");
        var x = graph.AddInput("x", new TensorType(ElementType.Float, new Shape(2)));
        var w = graph.AddInitializer(Tensor.FromArray([1f, 2f], [2], "w"));
        var negated = graph.Append(new Node("", "Neg", [w], ["negated"])).Output;
        graph.Outputs.Add(graph.Append(new Node("", "Add", [x, negated], ["y"])).Output);
        var model = new Model(graph);
        model.SetOpsetVersion("", 17);
        model.Save(temp.File("model.onnx"));

        var previous = Directory.GetCurrentDirectory();
        Directory.SetCurrentDirectory(temp.Path);
        var output = new StringWriter();
        try
        {
            Console.SetOut(output);
            LibrarySample();
        }
        finally
        {
            Console.SetOut(new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = true });
            Directory.SetCurrentDirectory(previous);
        }
        Assert.Contains("Neg: w", output.ToString(), StringComparison.Ordinal);
        var optimized = Model.Load(temp.File("model.opt.onnx"));
        Assert.Equal(["Add"], optimized.Graph.Nodes.Select(n => n.OpType));
        Assert.Equal([-1f, -2f], optimized.Graph.Nodes[0].Inputs[1]!.Initializer!.ToArray<float>());
    }

    [Theory]
    [InlineData("TrainingSample.cs")]
    [InlineData("LibrarySample.cs")]
    [InlineData("MultiInputSample.cs")]
    public void TheReadmeShowsTheSampleAsWritten(string file)
    {
        var readme = File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "README.md"));
        var source = File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "tests", "ImplicitRegOnnx.Runtime.Tests", "Readme", file));
        var match = SampleRegion().Match(source);
        Assert.True(match.Success, $"{file} has no README begin/end markers");
        var body = match.Groups["body"].Value;
        var lines = body.Split('\n').Select(l => l.Length >= 8 ? l[8..] : l.TrimStart()).ToArray();
        var sample = string.Join('\n', lines).Trim();
        Assert.Contains(sample, readme.Replace("\r\n", "\n", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [GeneratedRegex(@"// README (?:library |multi-input )?begin\n(?<body>.*?)\n\s*// README (?:library |multi-input )?end", RegexOptions.Singleline)]
    private static partial Regex SampleRegion();
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessStateCollection
{
    public const string Name = "process state";
}
