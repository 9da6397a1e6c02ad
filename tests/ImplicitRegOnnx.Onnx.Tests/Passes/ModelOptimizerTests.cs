using ImplicitRegOnnx.Onnx.Passes;
using ImplicitRegOnnx.Runtime;
using ImplicitRegOnnx.TestSupport;
using Xunit.Abstractions;

namespace ImplicitRegOnnx.Onnx.Tests.Passes;

public class ModelOptimizerTests(ITestOutputHelper output)
{
    /// <summary>Committed models, plus the shared oracle and bench models when ../shared is present.</summary>
    public static TheoryData<string> Models()
    {
        var data = new TheoryData<string>();
        foreach (var relative in TestPaths.CommittedModels())
        {
            data.Add(TestPaths.Model(relative));
        }
        if (TestPaths.Shared is { } shared)
        {
            foreach (var path in Directory.EnumerateFiles(Path.Combine(shared, "oracle"), "model.onnx", SearchOption.AllDirectories)
                .Concat(Directory.EnumerateFiles(Path.Combine(shared, "bench"), "*.onnx"))
                .Order(StringComparer.Ordinal))
            {
                data.Add(path);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void OptimizedModelComputesTheSameOutputsWithTheSameInterface(string path)
    {
        var original = Model.Load(path);
        var optimized = Model.Load(path);

        var report = ModelOptimizer.Optimize(optimized, OrtConstantEvaluator.Instance);
        output.WriteLine($"{Path.GetRelativePath(TestPaths.RepositoryRoot, path)}: nodes {report.NodesBefore} -> {report.NodesAfter}, initializers {report.InitializersBefore} -> {report.InitializersAfter}; "
            + string.Join(", ", report.ChangesByPass.Select(p => $"{p.Pass} {p.Changes}")));

        Assert.True(report.NodesAfter <= report.NodesBefore, $"node count grew: {report.NodesBefore} -> {report.NodesAfter}");
        Assert.Equal(Describe(original.Graph.Inputs), Describe(optimized.Graph.Inputs));
        Assert.Equal(Describe(original.Graph.Outputs), Describe(optimized.Graph.Outputs));
        var bytes = optimized.ToBytes();

        // Optimizing again finds nothing to do and leaves the bytes as they were.
        var again = Model.Load(bytes);
        var second = ModelOptimizer.Optimize(again, OrtConstantEvaluator.Instance);
        Assert.False(second.Changed, "second run changed: " + string.Join(", ", second.ChangesByPass.Select(p => $"{p.Pass} {p.Changes}")));
        Assert.Equal(bytes, again.ToBytes());

        using var before = OrtHarness.Open(path);
        using var after = OrtHarness.Open(bytes);
        for (var seed = 1; seed <= 2; seed++)
        {
            var feeds = OrtHarness.RandomFeeds(before, seed);
            try
            {
                var expected = OrtHarness.Run(before, feeds);
                var actual = OrtHarness.Run(after, feeds);
                OrtHarness.AssertClose(expected, actual, $"{Path.GetFileName(path)} seed {seed}");
            }
            finally
            {
                foreach (var feed in feeds.Values)
                {
                    feed.Dispose();
                }
            }
        }
    }

    [Fact]
    public void ReportCountsNodesAndPassChanges()
    {
        var g = new Graph("g");
        var x = g.Input("x", 2);
        var a = g.Init("a", [1, 3]);
        var c = g.Op("Constant", "c", [], Attribute.Floats("value_floats", [1, 2]));
        var r1 = g.Op("Relu", "r1", [x]);
        var r2 = g.Op("Relu", "r2", [x]);
        g.Op("Neg", "dead", [x]);
        var sum = g.Op("Add", "sum", [a, c]); // folds to [2, 5]
        g.Outputs.Add(g.Op("Sum", "y", [r1, r2, sum]));
        var model = g.ToModel();

        var report = ModelOptimizer.Optimize(model, OrtConstantEvaluator.Instance);

        Assert.Equal(6, report.NodesBefore);
        Assert.Equal(2, report.NodesAfter);
        Assert.Equal(["Relu", "Sum"], g.OpTypes());
        Assert.Equal(["y"], g.OutputNames());
        Assert.Equal(["sum"], g.Initializers.Select(v => v.Name));
        Assert.Equal(new float[] { 2, 5 }, g.Initializers[0].Initializer!.ToArray<float>());
        var byPass = report.ChangesByPass.ToDictionary(p => p.Pass, p => p.Changes);
        Assert.Equal(2, byPass["constant-folding"]);
        Assert.Equal(1, byPass["cse"]);
        Assert.Equal(3, byPass["dead-code"]); // Neg and the initializers a and c that only the folded Add read
        Assert.True(report.Changed);
    }

    private static string[] Describe(IEnumerable<Value> values) => values.Select(v => $"{v.Name}: {v.Type}").ToArray();
}
