using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Onnx.Numpy;
using ImplicitRegOnnx.Runtime.Data;
using ImplicitRegOnnx.TestSupport;

namespace ImplicitRegOnnx.Runtime.Tests.Data;

public class NumpyDataTests
{
    [Fact]
    public void Npz_with_x_and_y_from_numpy()
    {
        var data = NumpyData.LoadNpz(DataFixtures.Fixture("xy_uint8.npz"));
        Assert.Equal(4, data.Count);
        Assert.Equal([2L, 3], data.ExampleShape);
        Assert.Equal(Enumerable.Range(0, 24).Select(i => i * 10f), data.FeatureValues.ToArray());
        Assert.Equal(ElementType.Int64, data.Labels.ElementType);
        Assert.Equal([3L, 1, 0, 2], data.Labels.ToArray<long>());
    }

    [Fact]
    public void Npz_with_input_and_target_keeps_float_targets()
    {
        var data = DataLoader.Load(DataFixtures.Fixture("input_target_f64.npz"));
        Assert.Equal(3, data.Count);
        Assert.Equal([0.5f, -1.25f, 2f, 3.5f, 1e-3f, 7f], data.FeatureValues.ToArray());
        Assert.Equal(ElementType.Float, data.Labels.ElementType);
        Assert.Equal([0.25f, -0.5f, 1.5f], data.Labels.ToArray<float>());
    }

    [Fact]
    public void Npz_arrays_by_option_names_and_label_kind()
    {
        using var dir = new TempDirectory();
        var path = dir.File("named.npz");
        NpzArchive.Write(path, new Dictionary<string, Tensor>
        {
            ["pixels"] = Tensor.FromArray(new float[] { 1, 2, 3, 4, 5, 6 }, [3, 2]),
            ["digit"] = Tensor.FromArray(new[] { 2.0, 0.0, 1.0 }, [3]),
            ["other"] = Tensor.FromArray(new[] { 1 }, [1]),
        });
        var options = new DataLoadOptions { FeaturesName = "pixels", LabelsName = "digit", Labels = LabelKind.Class, ExampleShape = [1, 2] };
        var data = NumpyData.LoadNpz(path, options);
        Assert.Equal([2L, 0, 1], data.Labels.ToArray<long>());
        Assert.Equal([1L, 2], data.ExampleShape);
        var e = Assert.Throws<ImplicitRegException>(() => NumpyData.LoadNpz(path, options with { LabelsName = "label" }));
        Assert.Contains("named.npz", e.Message, StringComparison.Ordinal);
        Assert.Contains("'digit'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Npz_missing_y_names_the_file()
    {
        var path = DataFixtures.Fixture("no_labels.npz");
        var e = Assert.Throws<ImplicitRegException>(() => DataLoader.Load(path));
        Assert.Contains("no_labels.npz", e.Message, StringComparison.Ordinal);
        Assert.Contains("no labels array", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
        Assert.Equal(ErrorKind.BadInput, e.Kind);
    }

    [Fact]
    public void Npy_pair_found_next_to_the_features()
    {
        var data = DataLoader.Load(DataFixtures.Fixture("train_x.npy"));
        Assert.Equal(3, data.Count);
        Assert.Equal(Enumerable.Range(0, 12).Select(i => (float)i), data.FeatureValues.ToArray());
        Assert.Equal([1L, 0, 1], data.Labels.ToArray<long>());
    }

    [Fact]
    public void Npy_folder_and_mismatched_counts()
    {
        using var dir = new TempDirectory();
        NpyFormat.Write(dir.File("x.npy"), Tensor.FromArray(new[] { 1.0, 2.0, 3.0 }, [3]));
        NpyFormat.Write(dir.File("y.npy"), Tensor.FromArray(new[] { 0L, 1L, 0L }, [3]));
        var data = DataLoader.Load(dir.Path);
        Assert.Equal([1L], data.ExampleShape);
        NpyFormat.Write(dir.File("y.npy"), Tensor.FromArray(new[] { 0L, 1L }, [2]));
        var e = Assert.Throws<ImplicitRegException>(() => DataLoader.Load(dir.File("x.npy")));
        Assert.Contains("x.npy", e.Message, StringComparison.Ordinal);
        Assert.Contains("same number of examples", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Npy_without_labels_file_or_corrupt()
    {
        using var dir = new TempDirectory();
        NpyFormat.Write(dir.File("x.npy"), Tensor.FromArray(new[] { 1.0 }, [1]));
        var e = Assert.Throws<ImplicitRegException>(() => DataLoader.Load(dir.File("x.npy")));
        Assert.Contains("y.npy", e.Message, StringComparison.Ordinal);
        File.WriteAllBytes(dir.File("y.npy"), [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, 200, 0]);
        e = Assert.Throws<ImplicitRegException>(() => DataLoader.Load(dir.File("x.npy")));
        Assert.Contains("y.npy", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<ImplicitRegException>(() => DataLoader.Load(dir.File("missing.npz")));
        Assert.Contains("missing.npz", e.Message, StringComparison.Ordinal);
    }
}
