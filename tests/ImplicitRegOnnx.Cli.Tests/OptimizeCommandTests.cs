using System.Text.Json.Nodes;
using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.TestSupport;

namespace ImplicitRegOnnx.Cli.Tests;

public sealed class OptimizeCommandTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    public static TheoryData<string> RunnableModels() =>
    [
        "mlp_tanh.onnx", "cnn_batchnorm_maxpool.onnx", "resnet8_small.onnx", "attention_gelu.onnx",
        "lstm_tiny.onnx", "legacy_ir3.onnx", "external_data/model.onnx",
    ];

    [Theory]
    [MemberData(nameof(RunnableModels))]
    public void WritesAModelWithTheSameInterfaceAndVerifies(string relativePath)
    {
        var input = TestPaths.Model(relativePath);
        var output = _temp.File("sub/dir/" + Path.GetFileName(relativePath));

        var result = CliRunner.Run("optimize", input, "-o", output, "--verify", "--json");

        Assert.True(result.ExitCode == 0, result.Stderr + result.Stdout);
        Assert.Equal("", result.Stderr);
        var report = JsonNode.Parse(result.Stdout)!;
        Assert.Equal("passed", (string?)report["verify"]!["status"]);
        Assert.True((int)report["nodes_after"]! <= (int)report["nodes_before"]!);
        Assert.NotEmpty(report["passes"]!.AsArray());

        var original = Model.Load(input);
        var optimized = Model.Load(output);
        Assert.Equal(original.Graph.RequiredInputs.Select(v => (v.Name, v.Type)), optimized.Graph.RequiredInputs.Select(v => (v.Name, v.Type)));
        Assert.Equal(original.Graph.Outputs.Select(v => (v.Name, v.Type)), optimized.Graph.Outputs.Select(v => (v.Name, v.Type)));
        Assert.Empty(Directory.EnumerateFiles(Path.GetDirectoryName(output)!, "*.tmp-*"));
    }

    [Fact]
    public void TextReportShowsNodeCountsPassesAndVerdict()
    {
        var result = CliRunner.Run("optimize", TestPaths.Model("mlp_relu.onnx"), "-o", _temp.File("o.onnx"), "--dim", "batch=3");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("nodes: ", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("pass", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("verify: passed", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void ShapeOptionSetsAWholeInputShape()
    {
        var result = CliRunner.Run("optimize", TestPaths.Model("mlp_tanh.onnx"), "-o", _temp.File("o.onnx"), "--verify", "--shape", "input=3,64");
        Assert.Equal(0, result.ExitCode);

        var wrongRank = CliRunner.Run("optimize", TestPaths.Model("mlp_tanh.onnx"), "-o", _temp.File("p.onnx"), "--verify", "--shape", "input=64");
        Assert.Equal(ExitCodes.Usage, wrongRank.ExitCode);
        Assert.Contains("rank", Assert.Single(wrongRank.StderrLines), StringComparison.Ordinal);
    }

    [Fact]
    public void ValueOptionFixesAnInputAndUnknownInputNamesAreUsageErrors()
    {
        var output = _temp.File("v.onnx");
        var ok = CliRunner.Run("optimize", TestPaths.Model("mlp_tanh.onnx"), "-o", output, "--value", "input=0.5", "--verify");
        Assert.True(ok.ExitCode == 0, ok.Stderr);

        var bad = CliRunner.Run("optimize", TestPaths.Model("mlp_tanh.onnx"), "-o", output, "--value", "nosuch=1");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("no input named 'nosuch'", Assert.Single(bad.StderrLines), StringComparison.Ordinal);

        var malformed = CliRunner.Run("optimize", TestPaths.Model("mlp_tanh.onnx"), "-o", output, "--value", "input=abc");
        Assert.Equal(2, malformed.ExitCode);
    }

    [Fact]
    public void NoVerifySkipsTheCheck()
    {
        var result = CliRunner.Run("optimize", TestPaths.Model("mlp_tanh.onnx"), "-o", _temp.File("o.onnx"), "--no-verify");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("verify: skipped", result.Stdout, StringComparison.Ordinal);
        Assert.True(File.Exists(_temp.File("o.onnx")));
    }

    [Fact]
    public void ModelOnnxRuntimeCannotRunIsWrittenWithAWarningUnlessVerifyIsAsked()
    {
        // An op of a domain that ONNX Runtime does not know.
        var model = Model.Load(TestPaths.Model("mlp_tanh.onnx"));
        model.Graph.Nodes.First(n => n.OpType == "Tanh").Domain = "com.nowhere";
        model.SetOpsetVersion("com.nowhere", 1);
        var input = _temp.File("custom_op.onnx");
        model.Save(input);

        var implicitCheck = CliRunner.Run("optimize", input, "-o", _temp.File("a.onnx"));
        Assert.Equal(0, implicitCheck.ExitCode);
        Assert.StartsWith("implicitreg: warning: ", Assert.Single(implicitCheck.StderrLines), StringComparison.Ordinal);

        var explicitCheck = CliRunner.Run("optimize", input, "-o", _temp.File("b.onnx"), "--verify");
        Assert.Equal(ExitCodes.Failed, explicitCheck.ExitCode);
        var line = Assert.Single(explicitCheck.StderrLines);
        Assert.Contains("cannot verify", line, StringComparison.Ordinal);
        Assert.Contains("custom_op.onnx", line, StringComparison.Ordinal);
    }
}
