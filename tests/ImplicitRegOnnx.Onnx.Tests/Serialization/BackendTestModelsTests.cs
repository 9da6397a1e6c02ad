using ImplicitRegOnnx.Onnx.Serialization.Proto;

namespace ImplicitRegOnnx.Onnx.Tests.Serialization;

/// <summary>
/// Round-trips every model of ONNX's own backend test suite (Debian's libonnx-testdata: about a
/// thousand models, IR versions 3 to 8, written by many exporters). .ci/run installs the package;
/// elsewhere the test is skipped unless IMPLICITREG_REQUIRE_TESTDATA=1 makes its absence a failure.
/// </summary>
public class BackendTestModelsTests
{
    private const string Root = "/usr/share/libonnx-testdata/data";

    [SkippableFact]
    public void EveryBackendTestModelRoundTrips()
    {
        var required = Environment.GetEnvironmentVariable("IMPLICITREG_REQUIRE_TESTDATA") == "1";
        if (!Directory.Exists(Root))
        {
            Assert.False(required, $"{Root} is missing: apt-get install libonnx-testdata");
            Skip.If(true, $"{Root} is missing (apt-get install libonnx-testdata)");
        }
        var models = Directory.EnumerateFiles(Root, "model.onnx", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
        Assert.True(models.Count > 1000, $"expected the whole suite, found {models.Count} models");

        var failures = new List<string>();
        foreach (var path in models)
        {
            try
            {
                var original = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
                var saved = ModelProto.Parser.ParseFrom(Onnx.Model.Load(path).ToBytes());
                if (!original.Equals(saved))
                {
                    failures.Add($"{path}: differs after a round trip");
                }
            }
            catch (Exception e)
            {
                failures.Add($"{path}: {e.GetType().Name}: {e.Message}");
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(20)) + $"\n({failures.Count} of {models.Count} failed)");
    }
}
