using System.Text;
using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.TestSupport;

namespace ImplicitRegOnnx.Cli.Tests;

/// <summary>Every bad input ends in exit 2 with one line on stderr that names the file, and no stack trace.</summary>
public sealed class BadInputTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    public static TheoryData<string> Kinds() =>
    [
        "missing", "directory", "empty", "truncated", "random-bytes", "json", "png", "text",
        "cycle", "dangling-input", "future-ir-version",
    ];

    public static TheoryData<string> Commands() => ["inspect", "inspect --json", "optimize"];

    [Theory]
    [MemberData(nameof(Kinds))]
    public void InspectRejectsWithExitTwoAndOneLine(string kind)
    {
        var path = MakeBadModel(kind);
        AssertOneLineUsageError(CliRunner.Run("inspect", path), Path.GetFileName(path));
        AssertOneLineUsageError(CliRunner.Run("inspect", path, "--json"), Path.GetFileName(path));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void OptimizeRejectsWithExitTwoAndOneLine(string kind)
    {
        var path = MakeBadModel(kind);
        var output = _temp.File("out.onnx");
        AssertOneLineUsageError(CliRunner.Run("optimize", path, "-o", output), Path.GetFileName(path));
        Assert.False(File.Exists(output));
    }

    [Theory]
    [InlineData("inspect", "--no-such-option", "--no-such-option")]
    [InlineData("optimize", "--no-such-option", "--no-such-option")]
    [InlineData("no-such-command", null, "no-such-command")]
    public void UnknownOptionOrCommandIsAUsageError(string command, string? extra, string named)
    {
        string[] args = extra is null ? [command] : [command, TestPaths.Model("mlp_tanh.onnx"), extra];
        AssertOneLineUsageError(CliRunner.Run(args), named);
    }

    [Fact]
    public void MissingModelArgumentIsAUsageError() =>
        AssertOneLineUsageError(CliRunner.Run("optimize", "-o", _temp.File("out.onnx")), "optimize");

    [Fact]
    public void MissingOutputOptionIsAUsageError() =>
        AssertOneLineUsageError(CliRunner.Run("optimize", TestPaths.Model("mlp_tanh.onnx")), "--output");

    [Fact]
    public void OutputSameAsInputIsRefused()
    {
        var model = _temp.File("m.onnx");
        File.Copy(TestPaths.Model("mlp_tanh.onnx"), model);
        var before = File.ReadAllBytes(model);
        AssertOneLineUsageError(CliRunner.Run("optimize", model, "-o", model), "m.onnx");
        Assert.Equal(before, File.ReadAllBytes(model));
    }

    [Fact]
    public void OutputInADirectoryThatCannotBeCreatedIsAUsageError()
    {
        var blocker = _temp.File("not-a-dir");
        File.WriteAllText(blocker, "a file where a folder should be");
        var output = Path.Combine(blocker, "sub", "out.onnx");
        AssertOneLineUsageError(CliRunner.Run("optimize", TestPaths.Model("mlp_tanh.onnx"), "-o", output), "out.onnx");
    }

    [Fact]
    public void OutputThatIsADirectoryIsAUsageError() =>
        AssertOneLineUsageError(CliRunner.Run("optimize", TestPaths.Model("mlp_tanh.onnx"), "-o", _temp.Path), Path.GetFileName(_temp.Path));

    [Theory]
    [InlineData("batch")]
    [InlineData("batch=x")]
    [InlineData("=3")]
    [InlineData("batch=-1")]
    public void MalformedDimIsAUsageError(string spec) =>
        AssertOneLineUsageError(CliRunner.Run("optimize", TestPaths.Model("mlp_tanh.onnx"), "-o", _temp.File("o.onnx"), "--dim", spec), spec);

    [Fact]
    public void ContradictoryVerifyOptionsAreAUsageError() =>
        AssertOneLineUsageError(CliRunner.Run("optimize", TestPaths.Model("mlp_tanh.onnx"), "-o", _temp.File("o.onnx"), "--verify", "--no-verify"), "--no-verify");

    [Fact]
    public void VerboseAddsTheStackTraceForUnexpectedErrorsOnly()
    {
        var path = MakeBadModel("truncated");
        var result = CliRunner.Run("inspect", path, "--verbose");
        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.StartsWith("implicitreg: error: ", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("   at ", result.Stderr, StringComparison.Ordinal);
    }

    private static void AssertOneLineUsageError(CliResult result, string named)
    {
        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        var line = Assert.Single(result.StderrLines);
        Assert.StartsWith("implicitreg: error: ", line, StringComparison.Ordinal);
        Assert.Contains(named, line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", line, StringComparison.Ordinal);
        Assert.Equal("", result.Stdout);
    }

    private string MakeBadModel(string kind)
    {
        var path = _temp.File($"bad-{kind}.onnx");
        var real = File.ReadAllBytes(TestPaths.Model("mlp_tanh.onnx"));
        switch (kind)
        {
            case "missing":
                break;
            case "directory":
                Directory.CreateDirectory(path);
                break;
            case "empty":
                File.WriteAllBytes(path, []);
                break;
            case "truncated":
                File.WriteAllBytes(path, real[..(real.Length / 2)]);
                break;
            case "random-bytes":
                var random = new byte[4096];
                new Random(42).NextBytes(random);
                File.WriteAllBytes(path, random);
                break;
            case "json":
                File.WriteAllText(path, "{\"producer\": {\"name\": \"x\"}, \"ir_version\": 8}\n");
                break;
            case "png":
                File.WriteAllBytes(path, [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1F, 0x15, 0xC4, 0x89]);
                break;
            case "text":
                File.WriteAllText(path, "this is not a model\n", Encoding.UTF8);
                break;
            case "cycle":
                {
                    // Gemm -> Tanh -> Gemm: make the first Gemm read the Tanh's output.
                    var model = Model.Load(real);
                    var nodes = model.Graph.Nodes;
                    var tanh = nodes.First(n => n.OpType == "Tanh");
                    var first = nodes.First(n => n.OpType == "Gemm");
                    first.SetInput(0, tanh.Output);
                    model.Save(path);
                    break;
                }
            case "dangling-input":
                {
                    var model = Model.Load(real);
                    model.Graph.Nodes.First(n => n.OpType == "Tanh").SetInput(0, new Value("nobody_defines_this"));
                    model.Save(path);
                    break;
                }
            case "future-ir-version":
                {
                    var model = Model.Load(real);
                    model.IrVersion = 99;
                    model.Save(path);
                    break;
                }
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, null);
        }
        return path;
    }
}
