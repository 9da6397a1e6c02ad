using ImplicitRegOnnx.Onnx.Numpy;
using ImplicitRegOnnx.TestSupport;
using Microsoft.ML.OnnxRuntime;

namespace ImplicitRegOnnx.Onnx.Tests.Numpy;

/// <summary>
/// The reference-case loader of TestSupport on the project's own cases (tests/ReferenceCases,
/// made by tools/make_reference_cases.py) and on ../shared/oracle when present.
/// </summary>
public class ReferenceCaseTests
{
    public static TheoryData<string> ProjectCases() => [.. ReferenceCase.ProjectCaseFolders().Select(f => Path.GetFileName(f))];

    private static string ProjectFolder(string name) => Path.Combine(TestPaths.RepositoryRoot, "tests", "ReferenceCases", name);

    private static IEnumerable<ReferenceCase> AllCases() =>
        ReferenceCase.ProjectCaseFolders().Concat(ReferenceCase.OracleCaseFolders()).Select(ReferenceCase.Load);

    [Fact]
    public void ProjectCasesCoverEveryLoss()
    {
        var losses = ReferenceCase.ProjectCaseFolders().Select(f => ReferenceCase.Load(f).Info.Loss).ToHashSet();
        Assert.Superset(losses, new HashSet<string> { "cross-entropy", "mse", "bce-with-logits", "l1", "nll" });
    }

    [Fact]
    public void EveryCaseIsConsistent()
    {
        foreach (var c in AllCases())
        {
            var info = c.Info;
            Assert.True(File.Exists(c.ModelPath), c.Name);
            Assert.Equal(info.Inputs.Append("target").Order(StringComparer.Ordinal), c.Data.Keys.Order(StringComparer.Ordinal));
            Assert.All(info.Inputs.Append("target"), k => Assert.Equal(info.Batch, c.Data[k].Dims[0]));
            Assert.Equal(0, info.Batch % info.Microbatches);
            string[] keys = ["loss", "penalty", "objective", .. info.Trainable.SelectMany(p => new[] { "grad/" + p, "objective_grad/" + p })];
            Assert.Equal(keys, c.Expected.Keys);
            Assert.All(c.Compare(c.Expected), e => Assert.Equal(0, e.Error));
            var objective = c.Expected["objective"].ToDoubles()[0];
            var expectedObjective = c.Expected["loss"].ToDoubles()[0] + (info.Coefficient * c.Expected["penalty"].ToDoubles()[0]);
            Assert.True(Math.Abs(objective - expectedObjective) <= 1e-12 * Math.Abs(objective), c.Name);
            Assert.Equal(info.Tolerance.Loss, info.Tolerance.For("loss"));
            Assert.Equal(info.Tolerance.ObjectiveGrad, info.Tolerance.For("objective_grad/" + info.Trainable[0]));
            Assert.Equal(info.Loss, c.Raw.GetProperty("loss").GetString());
        }
    }

    [Fact]
    public void ErrorFollowsTheCaseFormula()
    {
        var c = ReferenceCase.Load(ProjectFolder("logsoftmax_nll"));
        // Scalars: |got - expected| / max(|expected|, 1e-6).
        var loss = c.Expected["loss"].ToDoubles()[0];
        var error = c.Error("loss", Tensor.Scalar(loss * 1.001));
        Assert.Equal(0.001, error.Error, 9);
        Assert.True(error.Passes == (0.001 <= c.Info.Tolerance.Loss));
        // Tensors: max|got - expected| / (max|expected| + 0.001 * largest max|expected| of that kind).
        var key = "grad/fc2.bias";
        var expected = c.Expected[key].ToDoubles();
        var got = (double[])expected.Clone();
        got[1] += 0.01;
        var largest = c.Expected.Where(p => p.Key.StartsWith("grad/", StringComparison.Ordinal))
            .Max(p => p.Value.ToDoubles().Max(Math.Abs));
        var want = 0.01 / (expected.Max(Math.Abs) + (0.001 * largest));
        var actual = Tensor.FromArray(Array.ConvertAll(got, v => (float)v), c.Expected[key].Dims);
        Assert.Equal(want, c.Error(key, actual).Error, 4);
        // Wrong shape or missing: infinite; NaN never passes.
        Assert.Equal(double.PositiveInfinity, c.Error(key, Tensor.FromArray(new float[1], [1])).Error);
        Assert.Equal(double.PositiveInfinity, c.Compare(new Dictionary<string, Tensor>(), [key])[0].Error);
        Assert.False(c.Error("penalty", Tensor.Scalar(double.NaN)).Passes);
        // case.json has no "objective" tolerance: the larger of loss and penalty.
        Assert.Equal(Math.Max(c.Info.Tolerance.Loss, c.Info.Tolerance.Penalty), c.Info.Tolerance.For("objective"));
    }

    /// <summary>
    /// The exported model, run forward in ONNX Runtime (float32) on data.npz, gives the expected
    /// loss of the float64 PyTorch reference: checks the export and the loss definitions.
    /// </summary>
    [Theory]
    [MemberData(nameof(ProjectCases))]
    public void ForwardLossInOnnxRuntimeMatchesTheReference(string name)
    {
        var c = ReferenceCase.Load(ProjectFolder(name));
        using var options = new SessionOptions { LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR };
        using var session = new InferenceSession(c.ModelPath, options);
        var feeds = c.Info.Inputs.Select(k => Feed(c.Data[k])).ToArray();
        using var runOptions = new RunOptions();
        using var results = session.Run(runOptions, c.Info.Inputs.ToArray(), feeds, [c.Info.Output]);
        var output = results[0];
        var dims = output.GetTensorTypeAndShape().Shape;
        var values = Array.ConvertAll(output.GetTensorDataAsSpan<float>().ToArray(), v => (double)v);
        foreach (var feed in feeds)
        {
            feed.Dispose();
        }
        var loss = Loss(c.Info.Loss, values, dims, c.Data["target"]);
        var error = c.Error("loss", Tensor.Scalar(loss));
        Assert.True(error.Error < 1e-5, $"{name}: {error} (ONNX Runtime {loss}, reference {c.Expected["loss"].ToDoubles()[0]})");
    }

    private static OrtValue Feed(Tensor t) => t.ElementType switch
    {
        ElementType.Float => OrtValue.CreateTensorValueFromMemory(t.ToArray<float>(), t.Dims),
        ElementType.Int64 => OrtValue.CreateTensorValueFromMemory(t.ToArray<long>(), t.Dims),
        _ => throw new NotSupportedException(t.ToString()),
    };

    /// <summary>Mean-reduced losses as PyTorch defines them (class axis 1 for cross-entropy and nll).</summary>
    private static double Loss(string loss, double[] output, long[] dims, Tensor target)
    {
        var t = target.ToDoubles();
        switch (loss)
        {
            case "mse":
                return output.Zip(t, (o, y) => (o - y) * (o - y)).Average();
            case "l1":
                return output.Zip(t, (o, y) => Math.Abs(o - y)).Average();
            case "bce-with-logits":
                return output.Zip(t, (x, y) => Math.Max(x, 0) - (x * y) + Math.Log(1 + Math.Exp(-Math.Abs(x)))).Average();
            case "cross-entropy" or "nll":
                var classes = (int)dims[1];
                var inner = (int)dims.Skip(2).Aggregate(1L, (a, b) => a * b);
                var total = 0.0;
                for (var n = 0; n < dims[0]; n++)
                {
                    for (var i = 0; i < inner; i++)
                    {
                        double At(int k) => output[(((n * classes) + k) * inner) + i];
                        var label = (int)t[(n * inner) + i];
                        if (loss == "nll")
                        {
                            total -= At(label);
                            continue;
                        }
                        var max = Enumerable.Range(0, classes).Max(At);
                        var logSum = max + Math.Log(Enumerable.Range(0, classes).Sum(k => Math.Exp(At(k) - max)));
                        total += logSum - At(label);
                    }
                }
                return total / (dims[0] * inner);
            default:
                throw new NotSupportedException(loss);
        }
    }
}
