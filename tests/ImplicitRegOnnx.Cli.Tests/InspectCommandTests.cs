using System.Text.Json.Nodes;
using ImplicitRegOnnx.TestSupport;

namespace ImplicitRegOnnx.Cli.Tests;

public class InspectCommandTests
{
    public static TheoryData<string> CommittedModels() => [.. TestPaths.CommittedModels()];

    [Theory]
    [MemberData(nameof(CommittedModels))]
    public void JsonMatchesTheOnnxPythonReference(string relativePath)
    {
        var path = TestPaths.Model(relativePath);
        var referencePath = Path.ChangeExtension(path, ".inspect.json");
        Assert.True(File.Exists(referencePath), $"no reference {referencePath}; run tools/onnx_inspect_reference.py");

        var result = CliRunner.Run("inspect", path, "--json");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("", result.Stderr);
        var ours = JsonNode.Parse(result.Stdout);
        var reference = JsonNode.Parse(File.ReadAllText(referencePath));
        Assert.True(JsonNode.DeepEquals(reference, ours), $"inspect --json differs from the reference.\nreference:\n{reference}\nours:\n{ours}");
        // Same key order as the reference too (it is part of the documented format).
        Assert.Equal(reference!.AsObject().Select(p => p.Key), ours!.AsObject().Select(p => p.Key));
    }

    [Theory]
    [InlineData("mlp_tanh.onnx")]
    [InlineData("dtypes.onnx")]
    public void JsonIsTheLibrarysSummary(string name)
    {
        var result = CliRunner.Run("inspect", TestPaths.Model(name), "--json");

        Assert.Equal(Onnx.Inspection.ModelSummary.Of(Onnx.Model.Load(TestPaths.Model(name))).ToJson(), result.Stdout);
    }

    [Fact]
    public void WithoutAModelItInspectsTheEmbeddedDefault()
    {
        var result = CliRunner.Run("inspect", "--json");

        Assert.Equal(0, result.ExitCode);
        var reference = JsonNode.Parse(File.ReadAllText(TestPaths.Model("mlp_tanh.inspect.json")));
        Assert.True(JsonNode.DeepEquals(reference, JsonNode.Parse(result.Stdout)));
        Assert.Contains("embedded default model", CliRunner.Run("inspect").Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void ANewerIrVersionIsInspectedWithAWarning()
    {
        using var temp = new TempDirectory();
        var path = temp.File("newer.onnx");
        var model = Onnx.Model.Load(TestPaths.Model("mlp_tanh.onnx"));
        model.IrVersion = Onnx.Model.MaxIrVersion + 1;
        model.Save(path);

        var result = CliRunner.Run("inspect", path, "--json");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("newer than this tool knows", Assert.Single(result.StderrLines), StringComparison.Ordinal);
        Assert.Equal(Onnx.Model.MaxIrVersion + 1, (long)JsonNode.Parse(result.Stdout)!["ir_version"]!);
    }

    [Fact]
    public void TextFormIsAnAlignedTable()
    {
        var result = CliRunner.Run("inspect", TestPaths.Model("mlp_tanh.onnx"));

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("", result.Stderr);
        var lines = result.Stdout.Split('\n');
        Assert.Contains(lines, l => l.StartsWith("producer    pytorch", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("ir_version  8", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("opsets      ai.onnx 17", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("input  float  [batch, 64]", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("Gemm      2", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("parameters  4 tensors, 2,410 elements, 9,640 bytes", StringComparison.Ordinal));
    }

    [Fact]
    public void TextFormShowsCustomDomainsAndSymbols()
    {
        var result = CliRunner.Run("inspect", TestPaths.Model("if_loop_subgraph.onnx"));

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("com.example 1", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("com.example:ScaledAdd", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("[batch, 4]", result.Stdout, StringComparison.Ordinal);
    }
}
