using System.Text.Json.Nodes;
using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Runtime.Verification;
using ImplicitRegOnnx.TestSupport;

namespace ImplicitRegOnnx.Cli.Tests;

public sealed class ConvertCommandTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private static string Real(string name) => TestPaths.RealModel(name);

    private static readonly string[] PaddleDims = ["--dim", "p2o.DynamicDimension.1=48", "--dim", "p2o.DynamicDimension.2=192"];

    private static JsonArray Models(string reportPath) => JsonNode.Parse(File.ReadAllText(reportPath))!["models"]!.AsArray();

    [Fact]
    public void RealModelsFromFourExportersConvertWithPassingGradientChecksAndTheMlNetClassifierIsUnsupported()
    {
        var report = _temp.File("report.json");
        var run = CliRunner.Run(["convert", Real("torch_cnn_opset9.onnx"), Real("oww-embedding.onnx"), Real("ppocr-mobile-cls.onnx"),
            Real("mlnet-resnet-preprocess.onnx"), Real("mlnet_linear_classifier.onnx"), "--out-dir", _temp.File("out"),
            "--loss", "mse", "--lambda", "0.1", "--promote-constants", "--gradcheck", "--batch", "1", "--directions", "2",
            .. PaddleDims, "--report", report]);

        Assert.True(run.ExitCode == 1, run.Stdout + run.Stderr);   // one model is unsupported
        var models = Models(report);
        Assert.Equal(5, models.Count);
        foreach (var entry in models.Take(4))
        {
            Assert.True((string?)entry!["status"] == "ok", entry.ToJsonString());
            Assert.True((bool)entry["gradcheck"]!["passed"]!, entry.ToJsonString());
            Assert.True((double)entry["gradcheck"]!["max_error"]! <= 1e-2);
            Assert.True((long)entry["parameters"]! > 0 && (int)entry["nodes"]! > 0);
            Assert.True(File.Exists((string)entry["output"]!) && File.Exists((string)entry["eval"]!) && File.Exists((string)entry["init"]!));
        }
        var classifier = models[4]!;
        Assert.Equal("unsupported", (string?)classifier["status"]);
        Assert.Equal(["ai.onnx.ml.LabelEncoder", "ai.onnx.ml.LinearClassifier", "ai.onnx.ml.Scaler"],
            classifier["unsupported_ops"]!.AsArray().Select(o => (string)o!));
        Assert.Contains("ai.onnx.ml.LinearClassifier", (string?)classifier["message"], StringComparison.Ordinal);
        Assert.True(classifier["output"] is null);
        Assert.False(File.Exists(_temp.File(Path.Combine("out", "mlnet_linear_classifier.train.onnx"))));
        Assert.Contains("4 ok, 1 unsupported, 0 failed", run.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void AllOkExitsZeroAndTheStepModelTrains()
    {
        var report = _temp.File("report.json");
        var run = CliRunner.Run("convert", Real("torch_cnn_opset9.onnx"), TestPaths.Model("mlp_tanh.onnx"), "--out-dir", _temp.File("out"),
            "--loss", "cross-entropy", "--lambda", "0.1", "--microbatches", "2", "--optimizer", "momentum", "--report", report);

        Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
        var entry = Models(report)[0]!;
        Assert.Equal("ok", (string?)entry["status"]);
        Assert.Empty(entry["unsupported_ops"]!.AsArray());
        Assert.Null(entry["gradcheck"]);
        Assert.Equal(9802, (long)entry["parameters"]!);

        // One step of the converted PyTorch opset-9 model on a random batch lowers the loss on that batch.
        var train = (string)entry["output"]!;
        using var init = ModelRunner.FromFile((string)entry["init"]!);
        var state = init.Run([]).ToDictionary(o => o.Name, o => o.Tensor!, StringComparer.Ordinal);
        var step = Model.Load(train);
        var image = RandomFeeds.Create(step, new FeedOptions { Shapes = new Dictionary<string, long[]> { ["image"] = [4, 1, 16, 16], ["target"] = [4] }, MaxInteger = 9 })
            .Where(f => f.Name is "image" or "target").ToList();
        using var runner = ModelRunner.FromFile(train);
        double Loss(Dictionary<string, Tensor> s, out Dictionary<string, Tensor> next)
        {
            var outputs = runner.Run([.. image, Tensor.Scalar(0.05f, "learning_rate"), .. s.Select(p => p.Value.WithName(p.Key))])
                .ToDictionary(o => o.Name, o => o.Tensor!, StringComparer.Ordinal);
            next = s.Keys.ToDictionary(k => k, k => outputs[k + ".next"], StringComparer.Ordinal);
            return outputs["loss"].ToDoubles()[0];
        }
        var first = Loss(state, out var after);
        var second = Loss(after, out _);
        Assert.True(second < first, $"loss {first} -> {second}");
    }

    [Fact]
    public void TheSameInputGivesByteIdenticalModels()
    {
        string[] Args(string dir) => ["convert", Real("ppocr-mobile-cls.onnx"), Real("torch_cnn_opset9.onnx"), Real("oww-embedding.onnx"), "--out-dir", dir,
            "--loss", "mse", "--lambda", "0.1", "--optimizer", "adam", "--promote-constants", .. PaddleDims];
        Assert.Equal(0, CliRunner.Run(Args(_temp.File("a"))).ExitCode);
        Assert.Equal(0, CliRunner.Run(Args(_temp.File("b"))).ExitCode);

        var files = Directory.GetFiles(_temp.File("a")).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(9, files.Count);
        Assert.Equal(files, Directory.GetFiles(_temp.File("b")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        foreach (var file in files)
        {
            Assert.True(File.ReadAllBytes(Path.Combine(_temp.File("a"), file!)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(_temp.File("b"), file!))), file);
        }
    }

    /// <summary>
    /// Without --dim the classifier's image sizes stay symbolic in the step model, so its Conv and pool
    /// gradients (and, with the exact penalty, their gradients) compute sizes at run time; '*=40' only sizes
    /// the random inputs of the check.
    /// </summary>
    [Fact]
    public void PaddleClassifierConvertsWithRunTimeImageSizes()
    {
        var report = _temp.File("r.json");
        var run = CliRunner.Run(["convert", Real("ppocr-mobile-cls.onnx"), "--out-dir", _temp.File("out"), "--loss", "mse", "--lambda", "0.1",
            "--promote-constants", "--gradcheck", "--batch", "2", "--directions", "2", "--dim", "*=40", "--report", report]);

        Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
        var entry = Models(report)[0]!;
        Assert.True((string?)entry["status"] == "ok", entry.ToJsonString());
        Assert.True((bool)entry["gradcheck"]!["passed"]!, entry.ToJsonString());
        var image = Model.Load((string)entry["output"]!).Graph.Inputs.First(i => i.Shape?.Rank == 4);
        Assert.True(image.Shape![2].IsSymbolic && image.Shape[3].IsSymbolic, image.Shape.ToString());
    }

    [Fact]
    public void WeightsInConstantNodesWithoutPromotionFailWithAHint()
    {
        var report = _temp.File("r.json");
        var run = CliRunner.Run(["convert", Real("ppocr-mobile-cls.onnx"), "--out-dir", _temp.File("out"), "--loss", "mse", "--penalty", "none", .. PaddleDims, "--report", report]);

        Assert.Equal(1, run.ExitCode);
        var entry = Models(report)[0]!;
        Assert.Equal("failed", (string?)entry["status"]);
        Assert.Contains("--promote-constants", (string?)entry["message"], StringComparison.Ordinal);
    }

    [Fact]
    public void ModelsThatAreNotOnnxOrUseControlFlowAreReportedAndTheOthersStillConverted()
    {
        File.WriteAllText(_temp.File("broken.onnx"), "not a model");
        var report = _temp.File("r.json");
        var run = CliRunner.Run("convert", _temp.File("broken.onnx"), Real("silero-vad-op15.onnx"), TestPaths.Model("mlp_tanh.onnx"),
            "--out-dir", _temp.File("out"), "--loss", "mse", "--penalty", "none", "--report", report);

        Assert.Equal(1, run.ExitCode);
        var models = Models(report);
        Assert.Equal(["failed", "unsupported", "ok"], models.Select(m => (string)m!["status"]!));
        Assert.Contains("broken.onnx", (string?)models[0]!["message"], StringComparison.Ordinal);
        Assert.Equal(["If"], models[1]!["unsupported_ops"]!.AsArray().Select(o => (string)o!));
        Assert.True(File.Exists(_temp.File("out/mlp_tanh.train.onnx")));
    }

    [Fact]
    public void NodesOutOfOrderAreSortedFirst()
    {
        var model = Model.Load(TestPaths.Model("cnn_avgpool.onnx"));
        model.Graph.Reorder([.. model.Graph.Nodes.Reverse()]);   // as some exporters write them (imgly's ISNet)
        model.Save(_temp.File("unsorted.onnx"));

        var run = CliRunner.Run("convert", _temp.File("unsorted.onnx"), "--out-dir", _temp.File("out"), "--loss", "cross-entropy", "--lambda", "0.1", "--gradcheck");

        Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
    }

    [Fact]
    public void ExternalDataModelsAreWrittenWithASideFile()
    {
        var run = CliRunner.Run("convert", TestPaths.Model("external_data/model.onnx"), "--out-dir", _temp.File("out"), "--loss", "cross-entropy", "--lambda", "0.1", "--gradcheck");

        Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
        Assert.True(File.Exists(_temp.File("out/model.init.onnx.data")));
        var initial = Model.Load(_temp.File("out/model.init.onnx"));
        var original = Model.Load(TestPaths.Model("external_data/model.onnx"));
        using var init = ModelRunner.FromFile(_temp.File("out/model.init.onnx"));
        var state = init.Run([]).ToDictionary(o => o.Name, o => o.Tensor!, StringComparer.Ordinal);
        foreach (var weight in original.Graph.Initializers)
        {
            Assert.Equal(weight.Initializer!.ToDoubles(), state[weight.Name].ToDoubles());
        }
        Assert.NotNull(initial);
    }

    [SkippableTheory]
    [InlineData("symlink")]
    [InlineData("hardlink")]
    [InlineData("linked-folder")]
    public void AHostileModelFolderFailsTheModelAndNothingOfTheLinkedFileReachesTheOutputs(string attack)
    {
        // A model folder whose side file stands for a file elsewhere (CVE-2026-27489 of the onnx package):
        // the "secret" has the size of the real weights, so it would load as weights and be copied into the
        // converted models' side files if the rules did not refuse it.
        Skip.IfNot(OperatingSystem.IsLinux(), "symbolic and hard links as Linux makes them");
        var folder = _temp.File("hostile");
        Directory.CreateDirectory(folder);
        Directory.CreateDirectory(_temp.File("elsewhere"));
        var secret = new byte[new FileInfo(TestPaths.Model("external_data/weights.bin")).Length];
        new Random(5).NextBytes(secret);
        var secretPath = _temp.File("elsewhere/weights.bin");
        File.WriteAllBytes(secretPath, secret);
        var location = "weights.bin";
        switch (attack)
        {
            case "symlink":
                File.Copy(TestPaths.Model("external_data/model.onnx"), Path.Combine(folder, "model.onnx"));
                File.CreateSymbolicLink(Path.Combine(folder, "weights.bin"), secretPath);
                break;
            case "hardlink":
                File.Copy(TestPaths.Model("external_data/model.onnx"), Path.Combine(folder, "model.onnx"));
                FileLinks.HardLink(secretPath, Path.Combine(folder, "weights.bin"));
                break;
            default:
                // The side file is sub/weights.bin, and sub is a link to the folder elsewhere.
                location = "sub/weights.bin";
                var model = Model.Load(TestPaths.Model("external_data/model.onnx"));
                foreach (var value in model.Graph.Initializers.Where(v => v.Initializer!.External is not null))
                {
                    value.Initializer!.External = value.Initializer.External! with { Location = location };
                }
                model.Save(Path.Combine(folder, "model.onnx"));
                Directory.Delete(Path.Combine(folder, "sub"), recursive: true);
                Directory.CreateSymbolicLink(Path.Combine(folder, "sub"), _temp.File("elsewhere"));
                break;
        }
        var report = _temp.File("report.json");

        var run = CliRunner.Run("convert", Path.Combine(folder, "model.onnx"), "--out-dir", _temp.File("out"), "--loss", "cross-entropy", "--lambda", "0.1", "--report", report);

        Assert.True(run.ExitCode == 1, run.Stdout + run.Stderr);
        var entry = Models(report).Single()!;
        Assert.Equal("failed", (string?)entry["status"]);
        var message = (string)entry["message"]!;
        Assert.Contains($"external data file '{location}'", message, StringComparison.Ordinal);
        Assert.Contains(attack switch { "hardlink" => "has 2 hard links", "symlink" => "is a symbolic link", _ => "resolves through a symbolic link" }, message, StringComparison.Ordinal);
        Assert.Null(entry["output"]);
        Assert.Contains("0 ok, 0 unsupported, 1 failed", run.Stdout, StringComparison.Ordinal);
        foreach (var written in Directory.Exists(_temp.File("out")) ? Directory.GetFiles(_temp.File("out"), "*", SearchOption.AllDirectories) : [])
        {
            Assert.False(File.ReadAllBytes(written).AsSpan().IndexOf(secret.AsSpan(0, 64)) >= 0, $"{written} holds the linked file's bytes");
        }
        Assert.Equal(secret, File.ReadAllBytes(secretPath));
    }

    [Theory]
    [InlineData("missing.onnx")]
    [InlineData("--no-such-option")]
    public void BadUsageExitsTwo(string what)
    {
        var input = what.StartsWith("--", StringComparison.Ordinal) ? TestPaths.Model("mlp_tanh.onnx") : _temp.File(what);
        string[] extra = what.StartsWith("--", StringComparison.Ordinal) ? [what] : [];
        var run = CliRunner.Run(["convert", input, "--out-dir", _temp.File("out"), "--loss", "mse", "--lambda", "0.1", .. extra]);

        Assert.Equal(2, run.ExitCode);
        Assert.Single(run.StderrLines);
        Assert.False(Directory.Exists(_temp.File("out")));
    }

    [Fact]
    public void UsageErrorsNameTheProblem()
    {
        File.WriteAllText(_temp.File("file"), "");
        var notADir = CliRunner.Run("convert", TestPaths.Model("mlp_tanh.onnx"), "--out-dir", _temp.File("file"), "--loss", "mse", "--penalty", "none");
        Assert.Equal(2, notADir.ExitCode);
        Assert.Contains("is a file", notADir.Stderr, StringComparison.Ordinal);

        Directory.CreateDirectory(_temp.File("copy"));
        File.Copy(TestPaths.Model("mlp_tanh.onnx"), _temp.File("copy/mlp_tanh.onnx"));
        var collision = CliRunner.Run("convert", TestPaths.Model("mlp_tanh.onnx"), _temp.File("copy/mlp_tanh.onnx"), "--out-dir", _temp.File("out"), "--loss", "mse", "--penalty", "none");
        Assert.Equal(2, collision.ExitCode);
        Assert.Contains("mlp_tanh.train.onnx", collision.Stderr, StringComparison.Ordinal);

        var noLoss = CliRunner.Run("convert", TestPaths.Model("mlp_tanh.onnx"), "--out-dir", _temp.File("out"), "--penalty", "none");
        Assert.Equal(2, noLoss.ExitCode);
        Assert.Contains("--loss", noLoss.Stderr, StringComparison.Ordinal);

        var noInput = CliRunner.Run("convert", "--out-dir", _temp.File("out"), "--loss", "mse");
        Assert.Equal(2, noInput.ExitCode);
    }
}
