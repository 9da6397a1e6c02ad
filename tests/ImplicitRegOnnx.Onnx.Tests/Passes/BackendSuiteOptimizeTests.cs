using ImplicitRegOnnx.Onnx.Passes;
using Microsoft.ML.OnnxRuntime;

namespace ImplicitRegOnnx.Onnx.Tests.Passes;

/// <summary>
/// Optimizes every model of ONNX's backend test suite (Debian's libonnx-testdata, about a thousand
/// models from many exporters): no pass may throw, the interface must stay the same, a second run
/// must change nothing, and where ONNX Runtime runs the original on random feeds, the optimized model
/// must give the same outputs. Skipped when the suite is absent, unless IMPLICITREG_REQUIRE_TESTDATA=1.
/// </summary>
public class BackendSuiteOptimizeTests
{
    private const string Root = "/usr/share/libonnx-testdata/data";

    [SkippableFact]
    public void EveryBackendTestModelOptimizesToAnEquivalentModel()
    {
        if (!Directory.Exists(Root))
        {
            Assert.False(Environment.GetEnvironmentVariable("IMPLICITREG_REQUIRE_TESTDATA") == "1", $"{Root} is missing: apt-get install libonnx-testdata");
            Skip.If(true, $"{Root} is missing (apt-get install libonnx-testdata)");
        }
        var failures = new List<string>();
        var compared = 0;
        foreach (var path in Directory.EnumerateFiles(Root, "model.onnx", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            Model model;
            try
            {
                model = Model.Load(path);
            }
            catch (ImplicitRegException)
            {
                continue; // the reader's own tests cover rejected files
            }
            var inputs = Describe(model.Graph.Inputs);
            var outputs = Describe(model.Graph.Outputs);
            byte[] bytes;
            try
            {
                if (!ModelOptimizer.Optimize(model).Changed)
                {
                    continue;
                }
                bytes = model.ToBytes();
                if (Describe(model.Graph.Inputs) != inputs || Describe(model.Graph.Outputs) != outputs)
                {
                    failures.Add($"{path}: interface changed");
                    continue;
                }
                if (ModelOptimizer.Optimize(Model.Load(bytes)).Changed)
                {
                    failures.Add($"{path}: a second run changed the model");
                }
            }
            catch (Exception e)
            {
                failures.Add($"{path}: {e.GetType().Name}: {e.Message}");
                continue;
            }
            if (Compare(path, bytes) is { } difference)
            {
                failures.Add(difference);
            }
            else
            {
                compared++;
            }
        }
        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
        Assert.True(compared > 50, $"only {compared} optimized models could be compared in ONNX Runtime");
    }

    /// <summary>Null when equal or when ONNX Runtime cannot run the original on random feeds; else the difference.</summary>
    private static string? Compare(string path, byte[] optimized)
    {
        InferenceSession before;
        try
        {
            before = OrtHarness.Open(path);
        }
        catch (OnnxRuntimeException)
        {
            return null;
        }
        using (before)
        {
            Dictionary<string, OrtValue> feeds;
            try
            {
                feeds = OrtHarness.RandomFeeds(before, seed: 1);
            }
            catch (NotSupportedException)
            {
                return null;
            }
            try
            {
                Dictionary<string, OrtHarness.Result> expected;
                try
                {
                    expected = OrtHarness.Run(before, feeds);
                }
                catch (Exception e) when (e is OnnxRuntimeException or NotSupportedException)
                {
                    return null; // random feeds may be invalid for this operator; sequence outputs are not compared
                }
                using var after = OrtHarness.Open(optimized);
                OrtHarness.AssertClose(expected, OrtHarness.Run(after, feeds), path);
                return null;
            }
            catch (Exception e)
            {
                return $"{path}: {e.GetType().Name}: {e.Message}";
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

    private static string Describe(IEnumerable<Value> values) => string.Join("; ", values.Select(v => $"{v.Name}: {v.Type}"));
}
