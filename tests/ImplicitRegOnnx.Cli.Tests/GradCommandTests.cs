using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Onnx.Numpy;
using ImplicitRegOnnx.TestSupport;

namespace ImplicitRegOnnx.Cli.Tests;

public sealed class GradCommandTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private static string Case(string name) => Path.Combine(TestPaths.RepositoryRoot, "tests", "ReferenceCases", name);

    [Theory]
    [InlineData("exact", 1.0)]
    [InlineData("finite-difference", 20.0)]
    public void WritesLossPenaltyAndGradientsThatMatchTheReference(string penalty, double toleranceFactor)
    {
        var c = ReferenceCase.Load(Case("logsoftmax_nll"));
        var result = _temp.File("result.npz");

        var run = CliRunner.Run("grad", c.ModelPath, "--data", Path.Combine(c.Folder, "data.npz"), "--loss", c.Info.Loss,
            "--coefficient", c.Info.Coefficient.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
            "--microbatches", c.Info.Microbatches.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--output", c.Info.Output, "--penalty", penalty, "--out", result);

        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains("loss", run.Stdout, StringComparison.Ordinal);
        var written = NpzArchive.Read(result);
        Assert.Equal(c.Expected.Keys.Order(StringComparer.Ordinal), written.Keys.Order(StringComparer.Ordinal));
        var failures = c.Compare(written).Where(e => !(e.Error <= e.Tolerance * toleranceFactor)).ToList();
        Assert.True(failures.Count == 0, string.Join("; ", failures));
    }

    [Fact]
    public void LambdaIsFourTimesTheCoefficientAndNoneGivesTheLossGradient()
    {
        var c = ReferenceCase.Load(Case("logsoftmax_nll"));
        var data = Path.Combine(c.Folder, "data.npz");
        var withLambda = _temp.File("lambda.npz");
        var none = _temp.File("none.npz");
        var lambda = (4 * c.Info.Coefficient).ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(0, CliRunner.Run("grad", c.ModelPath, "--data", data, "--loss", "nll", "--lambda", lambda,
            "--microbatches", "3", "--out", withLambda).ExitCode);
        Assert.Equal(0, CliRunner.Run("grad", c.ModelPath, "--data", data, "--loss", "nll", "--penalty", "none", "--out", none).ExitCode);

        Assert.All(c.Compare(NpzArchive.Read(withLambda)), e => Assert.True(e.Passes, e.ToString()));
        var plain = NpzArchive.Read(none);
        Assert.Equal(0, plain["penalty"].ToDoubles()[0]);
        Assert.Equal(plain["loss"].ToDoubles(), plain["objective"].ToDoubles());
        Assert.All(c.Compare(plain, c.Expected.Keys.Where(k => k == "loss" || k.StartsWith("grad/", StringComparison.Ordinal))), e => Assert.True(e.Passes, e.ToString()));
    }

    public static TheoryData<string, string[], string> BadBatches() => new()
    {
        { "wrong name", ["input"], "no array named" },
        { "wrong dtype", ["dtype"], "is double but the model needs float" },
        { "indivisible", ["indivisible"], "cannot be split into 3" },
        { "wrong shape", ["shape"], "shape" },
    };

    [Theory]
    [MemberData(nameof(BadBatches))]
    public void BatchesThatDoNotFitAreUsageErrors(string label, string[] change, string expectedWords)
    {
        var c = ReferenceCase.Load(Case("logsoftmax_nll"));
        var input = c.Info.Inputs[0];
        var data = c.Data.ToDictionary(p => p.Key, p => p.Value);
        switch (change[0])
        {
            case "input":
                data["renamed"] = data[input];
                data.Remove(input);
                break;
            case "dtype":
                data[input] = Tensor.FromArray(Array.ConvertAll(data[input].ToDoubles(), v => v), data[input].Dims, input);
                break;
            case "indivisible":
                data[input] = Slice(data[input], 4);
                data["target"] = Slice(data["target"], 4);
                break;
            default:
                data[input] = Tensor.FromArray(new float[data[input].ElementCount], [data[input].ElementCount], input);
                break;
        }
        var path = _temp.File(label.Replace(' ', '_') + ".npz");
        NpzArchive.Write(path, data);

        var run = CliRunner.Run("grad", c.ModelPath, "--data", path, "--loss", "nll", "--coefficient", "0.1", "--microbatches", "3", "--out", _temp.File("r.npz"));

        Assert.Equal(2, run.ExitCode);
        var line = Assert.Single(run.StderrLines);
        Assert.Contains(expectedWords, line, StringComparison.Ordinal);
        Assert.Contains(path, line, StringComparison.Ordinal);
        Assert.False(File.Exists(_temp.File("r.npz")));
    }

    private static Tensor Slice(Tensor t, long rows)
    {
        var perRow = t.ElementCount / t.Dims[0];
        var bytes = t.RawBytes[..(int)(t.ElementType.ByteCount(rows * perRow))].ToArray();
        return new Tensor(t.ElementType, [rows, .. t.Dims[1..]], bytes, t.Name);
    }

    [Fact]
    public void OperatorsWithoutRulesAreListedAllAtOnce()
    {
        var model = Model.Load(TestPaths.Model("mlp_tanh.onnx"));
        foreach (var node in model.Graph.Nodes.Where(n => n.OpType == "Tanh"))
        {
            node.OpType = "Mystery";
            node.Domain = "com.example";
        }
        var gemm = model.Graph.Nodes.First(n => n.OpType == "Gemm");
        gemm.OpType = "Gemm2";
        var path = _temp.File("norules.onnx");
        model.Save(path);
        var data = _temp.File("batch.npz");
        NpzArchive.Write(data, [new("input", Tensor.FromArray(new float[2 * 64], [2, 64], "input")), new("target", Tensor.FromArray(new long[2], [2], "target"))]);

        var run = CliRunner.Run("grad", path, "--data", data, "--loss", "cross-entropy", "--penalty", "none", "--out", _temp.File("r.npz"));

        Assert.Equal(2, run.ExitCode);
        var line = Assert.Single(run.StderrLines);
        Assert.Contains("com.example.Mystery", line, StringComparison.Ordinal);
        Assert.Contains("Gemm2", line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--loss", "hinge")]
    [InlineData("--penalty", "approximate")]
    [InlineData("--coefficient", "-1")]
    public void BadOptionsAreUsageErrors(string option, string value)
    {
        var c = ReferenceCase.Load(Case("logsoftmax_nll"));
        string[] args = ["grad", c.ModelPath, "--data", Path.Combine(c.Folder, "data.npz"), "--loss", "nll", "--coefficient", "0.1", "--out", _temp.File("r.npz")];
        var index = Array.IndexOf(args, option);
        if (index >= 0)
        {
            args[index + 1] = value;
        }
        else
        {
            args = [.. args, option, value];
        }
        var run = CliRunner.Run(args);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains(option, Assert.Single(run.StderrLines), StringComparison.Ordinal);
    }
}
