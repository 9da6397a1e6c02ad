using ImplicitRegOnnx.Onnx.Serialization;
using ImplicitRegOnnx.TestSupport;

namespace ImplicitRegOnnx.Onnx.Tests.Serialization;

public sealed class TensorFileTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private static string DataSet => Path.Combine(TestPaths.RepositoryRoot, "tests", "LoweringCases", "training_info_momentum", "test_data_set_1");

    [Fact]
    public void ReadsNameTypeShapeAndValuesOfATensorProtoFile()
    {
        // Written by tools/make_training_info_case.py with numpy_helper.from_array.
        var x = TensorFile.Load(Path.Combine(DataSet, "input_0.pb"));
        var t = TensorFile.Load(Path.Combine(DataSet, "input_5.pb"));

        Assert.Equal("X", x.Name);
        Assert.Equal(ElementType.Float, x.ElementType);
        Assert.Equal([4L, 3], x.Dims);
        Assert.Equal("T", t.Name);
        Assert.Equal(ElementType.Int64, t.ElementType);
        Assert.Empty(t.Dims);
        Assert.Equal([1L], t.ToInt64s());
    }

    [Fact]
    public void AFileThatIsNotATensorIsAFormatErrorNamingTheFile()
    {
        var path = _temp.File("junk.pb");
        File.WriteAllBytes(path, [0xff, 0xff, 0xff, 0xff, 0x0f]);

        var error = Assert.Throws<ImplicitRegException>(() => TensorFile.Load(path));
        Assert.StartsWith(path + ": ", error.Message, StringComparison.Ordinal);
        Assert.Throws<ImplicitRegException>(() => TensorFile.Load(_temp.File("absent.pb")));
    }
}
