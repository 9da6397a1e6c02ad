using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Onnx.Numpy;
using ImplicitRegOnnx.TestSupport;

namespace ImplicitRegOnnx.Cli.Tests;

/// <summary>
/// The commands on the BERT-like reference of issue 12 (tests/BertLike, tools/make_bert_like.py): two
/// int64 inputs, input_ids and attention_mask, data in .npz files named as the inputs plus 'target'.
/// </summary>
public sealed class BertLikeCommandTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private static readonly JsonNode Reference = JsonNode.Parse(File.ReadAllText(TestPaths.BertLike("reference.json")))!;

    private static string ModelPath => TestPaths.BertLike("bert_like.onnx");

    private static string Setting(string name) => Reference[name]!.ToJsonString();

    private static double Accuracy(string text) =>
        double.Parse(Regex.Match(text, @"accuracy ([0-9.]+)%").Groups[1].Value, CultureInfo.InvariantCulture) / 100;

    private static double Loss(string text) =>
        double.Parse(Regex.Match(text, @"loss ([0-9.]+)").Groups[1].Value, CultureInfo.InvariantCulture);

    [Fact]
    public void Train_reaches_the_pytorch_accuracy_and_eval_of_the_export_agrees()
    {
        var summaryPath = _temp.File("summary.json");
        var exported = _temp.File("trained.onnx");
        // PyTorch's setup (reference.json): no penalty, SGD with momentum, its batch size, rate, epochs and seed.
        var run = CliRunner.Run("train", ModelPath, "--data", TestPaths.BertLike("train.npz"), "--test-data", TestPaths.BertLike("test.npz"),
            "--loss", "cross-entropy", "--penalty", "none", "--optimizer", "momentum", "--lr", Setting("learning_rate"),
            "--batch-size", Setting("batch_size"), "--epochs", Setting("epochs"), "--seed", Setting("seed"), "--device", "cpu",
            "--summary-json", summaryPath, "--export", exported);

        Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
        // train has no momentum flag: PyTorch's SGD with momentum is the momentum optimizer at its default momentum.
        Assert.Equal("sgd", (string)Reference["optimizer"]!);
        Assert.Equal((double)Reference["momentum"]!, new Training.OptimizerOptions().Momentum, 1e-7);
        Assert.Equal("none", (string)Reference["penalty"]!);
        var summary = JsonNode.Parse(File.ReadAllText(summaryPath))!;
        var accuracy = (double)summary["test_accuracy"]!;
        Assert.True(accuracy >= (double)Reference["final_test_accuracy"]!, $"test accuracy {accuracy}, PyTorch {Reference["final_test_accuracy"]}");

        var eval = CliRunner.Run("eval", exported, "--data", TestPaths.BertLike("test.npz"));
        Assert.True(eval.ExitCode == 0, eval.Stderr);
        Assert.Contains($"{(int)Reference["test_examples"]!} examples", eval.Stdout, StringComparison.Ordinal);
        Assert.Equal(accuracy, Accuracy(eval.Stdout), 1e-9);
        Assert.Equal((double)summary["test_loss"]!, Loss(eval.Stdout), 1e-4);
    }

    [Fact]
    public void The_converted_step_model_trains_to_the_pytorch_accuracy_as_it_is()
    {
        // convert writes the step, initial-state and evaluation models; train opens them without rebuilding.
        var outDir = _temp.File("converted");
        var convert = CliRunner.Run("convert", ModelPath, "--out-dir", outDir, "--loss", "cross-entropy", "--penalty", "none", "--optimizer", "momentum");
        Assert.True(convert.ExitCode == 0, convert.Stdout + convert.Stderr);
        var stepPath = Path.Combine(outDir, "bert_like.train.onnx");
        var summaryPath = _temp.File("step-summary.json");
        var exported = _temp.File("step-trained.onnx");
        var run = CliRunner.Run("train", stepPath, "--data", TestPaths.BertLike("train.npz"), "--test-data", TestPaths.BertLike("test.npz"),
            "--lr", Setting("learning_rate"), "--batch-size", Setting("batch_size"), "--epochs", Setting("epochs"), "--seed", Setting("seed"),
            "--device", "cpu", "--summary-json", summaryPath, "--export", exported);

        Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
        var summary = JsonNode.Parse(File.ReadAllText(summaryPath))!;
        var accuracy = (double)summary["test_accuracy"]!;
        Assert.True(accuracy >= (double)Reference["final_test_accuracy"]!, $"test accuracy {accuracy}, PyTorch {Reference["final_test_accuracy"]}");
        var eval = CliRunner.Run("eval", exported, "--data", TestPaths.BertLike("test.npz"));
        Assert.True(eval.ExitCode == 0, eval.Stderr);
        Assert.Equal(accuracy, Accuracy(eval.Stdout), 1e-9);
    }

    [Fact]
    public void Eval_of_the_untrained_model_matches_pytorch()
    {
        var run = CliRunner.Run("eval", ModelPath, "--data", TestPaths.BertLike("test.npz"));
        Assert.True(run.ExitCode == 0, run.Stderr);
        // eval prints 4 decimals of the loss and 2 of the accuracy in percent.
        Assert.Equal((double)Reference["initial"]!["test_loss"]!, Loss(run.Stdout), 5e-5);
        Assert.Equal((double)Reference["initial"]!["test_accuracy"]!, Accuracy(run.Stdout), 5e-5);
    }

    [Fact]
    public void Inspect_grad_gradcheck_convert_and_export_accept_the_model()
    {
        var inspect = CliRunner.Run("inspect", ModelPath, "--json");
        Assert.True(inspect.ExitCode == 0, inspect.Stderr);
        var inputs = JsonNode.Parse(inspect.Stdout)!["inputs"]!.AsArray();
        Assert.Equal(["input_ids", "attention_mask"], inputs.Select(i => (string)i!["name"]!));
        Assert.All(inputs, i => Assert.Equal("int64", (string?)i!["type"]));

        var all = NpzArchive.Read(TestPaths.BertLike("train.npz"));
        var batchPath = _temp.File("batch.npz");
        NpzArchive.Write(batchPath, all.Select(p => new KeyValuePair<string, Tensor>(p.Key, Slice(p.Value, 8))));
        var grad = CliRunner.Run("grad", ModelPath, "--data", batchPath, "--loss", "cross-entropy", "--coefficient", "0.01", "--microbatches", "2",
            "--out", _temp.File("grad.npz"));
        Assert.True(grad.ExitCode == 0, grad.Stderr);
        var result = NpzArchive.Read(_temp.File("grad.npz"));
        Assert.True(result["penalty"].ToDoubles()[0] > 0);
        Assert.Contains("grad/tokens.weight", result.Keys);

        var check = CliRunner.Run("gradcheck", ModelPath, "--loss", "cross-entropy", "--coefficient", "0.01", "--microbatches", "2");
        Assert.True(check.ExitCode == 0, check.Stdout + check.Stderr);
        Assert.Contains("passed", check.Stdout, StringComparison.Ordinal);

        var report = _temp.File("report.json");
        var convert = CliRunner.Run("convert", ModelPath, "--out-dir", _temp.File("out"), "--loss", "cross-entropy", "--lambda", "0.1",
            "--microbatches", "2", "--optimizer", "momentum", "--report", report);
        Assert.True(convert.ExitCode == 0, convert.Stdout + convert.Stderr);
        var entry = JsonNode.Parse(File.ReadAllText(report))!["models"]![0]!;
        Assert.Equal("ok", (string?)entry["status"]);

        // The step model exports back to an inference model with both inputs; with the original weights it evaluates as the original.
        var model = Model.Load(ModelPath);
        var weightsPath = _temp.File("weights.npz");
        NpzArchive.Write(weightsPath, model.Graph.Initializers
            .Where(v => v.Initializer!.ElementType == ElementType.Float)
            .Select(v => new KeyValuePair<string, Tensor>(v.Name, v.Initializer!)));
        var exported = _temp.File("exported.onnx");
        var export = CliRunner.Run("export", (string)entry["output"]!, "--weights", weightsPath, "-o", exported);
        Assert.True(export.ExitCode == 0, export.Stderr);
        Assert.Equal(["input_ids", "attention_mask"], Model.Load(exported).Graph.RequiredInputs.Select(v => v.Name));
        var original = CliRunner.Run("eval", ModelPath, "--data", TestPaths.BertLike("test.npz"));
        var again = CliRunner.Run("eval", exported, "--data", TestPaths.BertLike("test.npz"));
        Assert.True(again.ExitCode == 0, again.Stderr);
        Assert.Equal(original.Stdout, again.Stdout);
    }

    [Fact]
    public void Sweep_runs_the_two_input_model_from_npz_files()
    {
        var outDir = _temp.File("sweep");
        var run = CliRunner.Run("sweep", ModelPath, "--data", TestPaths.BertLike("train.npz"), "--test-data", TestPaths.BertLike("test.npz"),
            "--out-dir", outDir, "--epochs", "1", "--batch-size", "16", "--lr", "0.05", "--lambda", "0.05", "--penalty", "none,exact", "--parallel", "1");
        Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
        var results = File.ReadAllLines(Path.Combine(outDir, "results.jsonl")).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Equal(2, results.Count);
        foreach (var result in results)
        {
            Assert.Equal("ok", (string?)result["status"]);
            Assert.Equal(800 / 16, (int)result["steps"]!);
            Assert.True((double)result["final_test_accuracy"]! > 0.5, result.ToJsonString());
            Assert.True((double)result["mean_minibatch_grad_norm_sq"]! > (double)result["full_batch_grad_norm_sq"]!);
        }
        Assert.True((double)results.Single(r => (string)r["parameters"]!["penalty"]! == "exact")["penalty"]! > 0);
    }

    [Fact]
    public void Data_errors_are_one_line_usage_errors_naming_the_file_and_the_array()
    {
        var all = NpzArchive.Read(TestPaths.BertLike("test.npz"));
        var noMask = _temp.File("no-mask.npz");
        NpzArchive.Write(noMask, all.Where(p => p.Key != "attention_mask"));
        var run = CliRunner.Run("train", ModelPath, "--data", noMask, "--epochs", "1", "--penalty", "none");
        Assert.Equal(2, run.ExitCode);
        var line = Assert.Single(run.StderrLines);
        Assert.Contains(noMask, line, StringComparison.Ordinal);
        Assert.Contains("'attention_mask'", line, StringComparison.Ordinal);

        var int32Ids = _temp.File("int32.npz");
        NpzArchive.Write(int32Ids, all.Select(p => p.Key == "input_ids"
            ? new KeyValuePair<string, Tensor>(p.Key, Tensor.FromArray(p.Value.ToInt64s().Select(v => (int)v).ToArray(), p.Value.Dims))
            : p));
        run = CliRunner.Run("eval", ModelPath, "--data", int32Ids);
        Assert.Equal(2, run.ExitCode);
        line = Assert.Single(run.StderrLines);
        Assert.Contains($"'{int32Ids}': array 'input_ids' is int32 but model input 'input_ids' is int64", line, StringComparison.Ordinal);
    }

    private static Tensor Slice(Tensor tensor, int rows)
    {
        var rowBytes = tensor.RawBytes.Length / (int)tensor.Dims[0];
        return new Tensor(tensor.ElementType, [rows, .. tensor.Dims[1..]], tensor.RawBytes[..(rows * rowBytes)].ToArray(), tensor.Name);
    }
}
