using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Onnx.Serialization;
using ImplicitRegOnnx.Runtime.Verification;
using ImplicitRegOnnx.TestSupport;
using Attribute = ImplicitRegOnnx.Onnx.Attribute;

namespace ImplicitRegOnnx.Cli.Tests;

public sealed class LowerCommandTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private static string TrainingInfoCase => Path.Combine(TestPaths.RepositoryRoot, "tests", "LoweringCases", "training_info_momentum", "model.onnx");

    [SkippableFact]
    public void LowersABackendTestSoOnnxRuntimeRunsIt()
    {
        var folder = BackendTestSuite.Folder("node/test_nesterov_momentum");
        if (folder is null)
        {
            Assert.False(BackendTestSuite.Required, BackendTestSuite.MissingMessage);
            Skip.If(true, BackendTestSuite.MissingMessage);
        }
        var output = _temp.File("lowered.onnx");

        var result = CliRunner.Run("lower", Path.Combine(folder!, "model.onnx"), "-o", output);

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal("", result.Stderr);
        Assert.Contains("lowered: Momentum 1 (ai.onnx opset raised from none to 17)", result.Stdout, StringComparison.Ordinal);
        var model = Model.Load(output);
        Assert.All(model.Graph.Nodes, n => Assert.True(n.IsStandard));
        Assert.Equal([("", 17L)], model.Opsets.Select(o => (o.Domain, o.Version)));
        using var runner = ModelRunner.FromFile(output);
        var outputs = runner.Run(BackendTestSuite.DataSet(folder!, "input"));
        Assert.Equal(["X_new", "V_new"], outputs.Select(o => o.Name));
        Assert.Empty(Directory.EnumerateFiles(_temp.Path, "*.tmp-*"));
    }

    [Fact]
    public void WritesTheTrainingStepOfTrainingInfoAndDropsItFromTheLoweredModel()
    {
        var output = _temp.File("main.onnx");
        var step = _temp.File("step.onnx");

        var result = CliRunner.Run("lower", TrainingInfoCase, "-o", output, "--training-step", step);

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Contains("training step (training_info[0]) -> ", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("lowered Gradient 1, Momentum 1", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("W <- W_new, V <- V_new, T <- T_new", result.Stdout, StringComparison.Ordinal);
        var main = Model.Load(output);
        Assert.Equal(0, TrainingInfos.Count(main));
        Assert.DoesNotContain(main.Opsets, o => o.Domain == "ai.onnx.preview.training");
        var stepModel = Model.Load(step);
        Assert.All(stepModel.Graph.Nodes, n => Assert.True(n.IsStandard));
        // W, V and T are inputs with their initializers as defaults (ONNX Runtime lists only the required inputs).
        Assert.Equal(["X", "target", "R", "W", "V", "T"], stepModel.Graph.Inputs.Select(v => v.Name));
        using var runner = ModelRunner.FromFile(step);
        var data = Path.Combine(Path.GetDirectoryName(TrainingInfoCase)!, "test_data_set_0");
        var outputs = runner.Run([.. Directory.EnumerateFiles(data, "input_*.pb").Select(TensorFile.Load)]);
        Assert.Equal(["Y", "L", "W_new", "V_new", "T_new"], outputs.Select(o => o.Name));
    }

    [Fact]
    public void WithoutTrainingStepTheReportSaysTrainingInfoWasNotCopied()
    {
        var result = CliRunner.Run("lower", TrainingInfoCase, "-o", _temp.File("main.onnx"));

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Contains("lowered: no ai.onnx.preview.training ops", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("training_info: 1 entries not copied", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void AnOpThatCannotBeLoweredIsAOneLineUsageErrorNamingTheNode()
    {
        var graph = new Graph("g");
        var x = graph.AddInput("X", new TensorType(ElementType.Float, new Shape(2)));
        var node = graph.Append(new Node("ai.onnx.preview.training", "Momentum", [x, x, x, x, x], ["X_new", "V_new"],
            [Attribute.Float("alpha", 0.9f), Attribute.Float("beta", 1), Attribute.String("mode", "sideways"), Attribute.Float("norm_coefficient", 0)], "step"));
        graph.Outputs.Add(node.Output);
        var model = new Model(graph);
        model.Opsets.Add(new OpsetId("ai.onnx.preview.training", 1));
        var input = _temp.File("bad.onnx");
        model.Save(input);
        var output = _temp.File("out.onnx");

        var result = CliRunner.Run("lower", input, "-o", output);

        Assert.Equal(2, result.ExitCode);
        var line = Assert.Single(result.StderrLines);
        Assert.Contains("node 'step' (Momentum): mode 'sideways'", line, StringComparison.Ordinal);
        Assert.False(File.Exists(output));
    }

    [Fact]
    public void TrainingStepOfAModelWithoutTrainingInfoIsAUsageError()
    {
        var result = CliRunner.Run("lower", TestPaths.Model("mlp_tanh.onnx"), "-o", _temp.File("o.onnx"), "--training-step", _temp.File("s.onnx"));

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("carries no training_info", Assert.Single(result.StderrLines), StringComparison.Ordinal);
    }

    [Fact]
    public void ATrainingInfoIndexOutOfRangeIsAUsageError()
    {
        var result = CliRunner.Run("lower", TrainingInfoCase, "-o", _temp.File("o.onnx"), "--training-step", _temp.File("s.onnx"), "--training-info", "3");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--training-info 3", Assert.Single(result.StderrLines), StringComparison.Ordinal);
    }
}
