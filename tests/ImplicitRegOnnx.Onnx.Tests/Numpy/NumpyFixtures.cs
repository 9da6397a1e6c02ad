using System.Text.Json;
using ImplicitRegOnnx.TestSupport;

namespace ImplicitRegOnnx.Onnx.Tests.Numpy;

/// <summary>
/// The numpy-written files in Fixtures/ (made by tools/make_numpy_fixtures.py) and their
/// manifest.json: what numpy says each array is.
/// </summary>
internal static class NumpyFixtures
{
    public static string Folder => Path.Combine(TestPaths.RepositoryRoot, "tests", "ImplicitRegOnnx.Onnx.Tests", "Numpy", "Fixtures");

    public static string File(string name) => Path.Combine(Folder, name);

    private static readonly Lazy<JsonElement> ManifestRoot = new(() =>
    {
        using var document = JsonDocument.Parse(System.IO.File.ReadAllText(File("manifest.json")));
        return document.RootElement.Clone();
    });

    public static JsonElement Manifest => ManifestRoot.Value;

    /// <summary>The .npy fixtures numpy wrote that the reader must accept.</summary>
    public static TheoryData<string> SupportedNpy()
    {
        var data = new TheoryData<string>();
        foreach (var entry in Manifest.EnumerateObject().Where(e => e.Name.EndsWith(".npy", StringComparison.Ordinal)))
        {
            data.Add(entry.Name);
        }
        return data;
    }

    /// <summary>The element type numpy's dtype string stands for, ignoring byte order ('&gt;f4' → float).</summary>
    public static ElementType TypeOfDescr(string descr) => descr[1..] switch
    {
        "f2" => ElementType.Float16,
        "f4" => ElementType.Float,
        "f8" => ElementType.Double,
        "i1" => ElementType.Int8,
        "i2" => ElementType.Int16,
        "i4" => ElementType.Int32,
        "i8" => ElementType.Int64,
        "u1" => ElementType.UInt8,
        "u2" => ElementType.UInt16,
        "u4" => ElementType.UInt32,
        "u8" => ElementType.UInt64,
        "b1" => ElementType.Bool,
        _ => throw new ArgumentException($"no element type for numpy dtype {descr}", nameof(descr)),
    };

    public static long[] ShapeOf(JsonElement description) =>
        description.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();

    /// <summary>Asserts type, shape and values (C order) of a tensor against a manifest entry.</summary>
    public static void AssertMatches(JsonElement description, Tensor tensor)
    {
        Assert.Equal(TypeOfDescr(description.GetProperty("descr").GetString()!), tensor.ElementType);
        Assert.Equal(ShapeOf(description), tensor.Dims);
        var expected = description.GetProperty("values").EnumerateArray().ToArray();
        Assert.Equal(expected.Length, tensor.ElementCount);
        switch (tensor.ElementType)
        {
            case ElementType.Int64:
                Assert.Equal(expected.Select(e => e.GetInt64()), tensor.ToArray<long>());
                break;
            case ElementType.UInt64:
                Assert.Equal(expected.Select(e => e.GetUInt64()), tensor.ToArray<ulong>());
                break;
            default:
                // Every other type widens to double exactly; JSON holds Python's exact repr.
                var actual = tensor.ToDoubles();
                for (var i = 0; i < actual.Length; i++)
                {
                    var want = expected[i].ValueKind == JsonValueKind.String
                        ? double.Parse(expected[i].GetString()!.Replace("inf", "Infinity", StringComparison.Ordinal), System.Globalization.CultureInfo.InvariantCulture)
                        : expected[i].GetDouble();
                    Assert.True(want.Equals(actual[i]) && double.IsNegative(want) == double.IsNegative(actual[i]),
                        $"element {i}: {actual[i]} but numpy wrote {want}");
                }
                break;
        }
    }
}
