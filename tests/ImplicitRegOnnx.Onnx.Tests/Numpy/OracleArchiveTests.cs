using System.Text.Json;
using ImplicitRegOnnx.Onnx.Numpy;
using ImplicitRegOnnx.TestSupport;

namespace ImplicitRegOnnx.Onnx.Tests.Numpy;

/// <summary>
/// The archives of ../shared/oracle read as numpy reads them: same names in the same order, same
/// dtypes and shapes (Fixtures/oracle.json, written by tools/make_numpy_fixtures.py with numpy).
/// </summary>
public class OracleArchiveTests
{
    [SkippableFact]
    public void OracleArchivesHaveTheArraysNumpyReports()
    {
        var shared = TestPaths.Shared;
        Skip.If(shared is null || !Directory.Exists(Path.Combine(shared, "oracle")), "../shared/oracle is not present");
        using var document = JsonDocument.Parse(File.ReadAllText(NumpyFixtures.File("oracle.json")));
        var cases = 0;
        foreach (var caseEntry in document.RootElement.EnumerateObject())
        {
            var folder = Path.Combine(shared!, "oracle", caseEntry.Name);
            foreach (var archive in caseEntry.Value.EnumerateObject())
            {
                var arrays = NpzArchive.Read(Path.Combine(folder, archive.Name));
                var label = $"{caseEntry.Name}/{archive.Name}";
                Assert.True(archive.Value.EnumerateObject().Select(p => p.Name).SequenceEqual(arrays.Keys), label);
                foreach (var array in archive.Value.EnumerateObject())
                {
                    var tensor = arrays[array.Name];
                    Assert.Equal(NumpyFixtures.TypeOfDescr(array.Value.GetProperty("descr").GetString()!), tensor.ElementType);
                    Assert.Equal(NumpyFixtures.ShapeOf(array.Value), tensor.Dims);
                }
            }
            cases++;
        }
        Assert.Equal(Directory.GetDirectories(Path.Combine(shared!, "oracle")).Length, cases);
    }
}
