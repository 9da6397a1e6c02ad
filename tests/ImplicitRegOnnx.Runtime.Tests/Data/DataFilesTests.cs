using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Onnx.Numpy;
using ImplicitRegOnnx.Runtime.Data;
using ImplicitRegOnnx.TestSupport;

namespace ImplicitRegOnnx.Runtime.Tests.Data;

public sealed class DataFilesTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private static readonly DataInput[] Inputs =
    [
        new("input_ids", ElementType.Int64, [-1, 3]),
        new("attention_mask", ElementType.Bool, [-1, 3]),
        new("pixel_values", ElementType.Float16, [-1, 2]),
    ];

    private static Dictionary<string, Tensor> Arrays(int n = 4) => new()
    {
        ["input_ids"] = Tensor.FromArray(Enumerable.Range(0, n * 3).Select(v => (long)v * 1_000_000_007).ToArray(), [n, 3]),
        ["attention_mask"] = Tensor.FromArray(Enumerable.Range(0, n * 3).Select(v => v % 3 != 2).ToArray(), [n, 3]),
        ["pixel_values"] = Tensor.FromArray(Enumerable.Range(0, n * 2).Select(v => (Half)(v * 0.1)).ToArray(), [n, 2]),
        ["target"] = Tensor.FromArray(Enumerable.Range(0, n).Select(v => (long)(v % 2)).ToArray(), [n]),
    };

    private string Write(string name, IReadOnlyDictionary<string, Tensor> arrays, bool compress = false)
    {
        var path = _temp.File(name);
        NpzArchive.Write(path, arrays, compress);
        return path;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Npz_round_trip_keeps_int64_bool_and_float16_arrays_exactly(bool compress)
    {
        var arrays = Arrays();
        var data = DataFiles.Load(Write("batch.npz", arrays, compress), Inputs);
        Assert.Equal(["input_ids", "attention_mask", "pixel_values", "target"], data.Arrays.Select(a => a.Name));
        foreach (var (name, tensor) in arrays)
        {
            var loaded = data[name].ToTensor();
            Assert.Equal(tensor.ElementType, loaded.ElementType);
            Assert.True(tensor.ContentEquals(loaded), name);
        }

        // What the data set holds writes back to the same archive.
        var again = _temp.File("again.npz");
        NpzArchive.Write(again, data.Arrays.Select(a => new KeyValuePair<string, Tensor>(a.Name, a.ToTensor())));
        var reread = NpzArchive.Read(again);
        Assert.All(arrays, p => Assert.True(p.Value.ContentEquals(reread[p.Key]), p.Key));
    }

    [Fact]
    public void Float64_arrays_for_a_float_input_are_rounded_to_it_once()
    {
        var values = new[] { 0.1, 1.0 / 3, -2.5e-8, 1e30 };
        var path = Write("f64.npz", new Dictionary<string, Tensor>
        {
            ["x"] = Tensor.FromArray(values, [2, 2]),
            ["target"] = Tensor.FromArray(new[] { 0.5, 1.5 }, [2]),
        });
        var data = DataFiles.Load(path, [new DataInput("x", ElementType.Float, [-1, 2])]);
        Assert.Equal(ElementType.Float, data["x"].ElementType);
        Assert.Equal(values.Select(v => (float)v), data["x"].Values<float>().ToArray());
        Assert.Equal(ElementType.Float, data.Target!.ElementType);
    }

    [Fact]
    public void Errors_name_the_file_and_the_array_and_say_what_to_do()
    {
        ImplicitRegException Load(string file, Action<Dictionary<string, Tensor>> change)
        {
            var arrays = Arrays();
            change(arrays);
            var path = Write(file, arrays);
            var e = Assert.Throws<ImplicitRegException>(() => DataFiles.Load(path, Inputs));
            Assert.Equal(ErrorKind.BadInput, e.Kind);
            Assert.Contains($"'{path}'", e.Message, StringComparison.Ordinal);
            Assert.DoesNotContain('\n', e.Message);
            return e;
        }

        var missing = Load("missing.npz", a => a.Remove("attention_mask"));
        Assert.Contains("no array for model input 'attention_mask'", missing.Message, StringComparison.Ordinal);
        Assert.Contains("plus 'target'", missing.Message, StringComparison.Ordinal);

        var rows = Load("rows.npz", a => a["attention_mask"] = Tensor.FromArray(new bool[9], [3, 3]));
        Assert.Contains("'attention_mask' has 3 rows along axis 0 but 'input_ids' has 4", rows.Message, StringComparison.Ordinal);

        var type = Load("type.npz", a => a["input_ids"] = Tensor.FromArray(new int[12], [4, 3]));
        Assert.Contains("array 'input_ids' is int32 but model input 'input_ids' is int64; save the array as int64", type.Message, StringComparison.Ordinal);

        var target = Load("target.npz", a => a.Remove("target"));
        Assert.Contains("no 'target' array", target.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Single_input_files_feed_the_models_one_input()
    {
        var path = Write("xy.npz", new Dictionary<string, Tensor>
        {
            ["x"] = Tensor.FromArray(Enumerable.Range(0, 8).Select(v => (byte)v).ToArray(), [2, 4]),
            ["y"] = Tensor.FromArray(new[] { 3, 1 }, [2]),
        });
        var data = DataFiles.Load(path, [new DataInput("image", ElementType.Float, [-1, 1, 2, 2])]);
        Assert.Equal(["image", "target"], data.Arrays.Select(a => a.Name));
        Assert.Equal([2L, 1, 2, 2], data["image"].Dims);
        Assert.Equal([3L, 1], data.Target!.Values<long>().ToArray());
        Assert.Equal(path, data.Source);

        // A model whose one input happens to be called x reads the same (x, y) archive the same way; with a
        // 'target' array the archive is the named form, and without any labels the error asks for 'target'.
        var x = DataFiles.Load(path, [new DataInput("x", ElementType.Float, [-1, 4])]);
        Assert.Equal(["x", "target"], x.Arrays.Select(a => a.Name));
        Assert.Equal([3L, 1], x.Target!.Values<long>().ToArray());
        var named = Write("x_target.npz", new Dictionary<string, Tensor>
        {
            ["x"] = Tensor.FromArray(new float[8], [2, 4]),
            ["y"] = Tensor.FromArray(new[] { 0, 0 }, [2]),
            ["target"] = Tensor.FromArray(new long[] { 2, 0 }, [2]),
        });
        Assert.Equal([2L, 0], DataFiles.Load(named, [new DataInput("x", ElementType.Float, [-1, 4])]).Target!.Values<long>().ToArray());
        var unlabelled = Write("x_only.npz", new Dictionary<string, Tensor> { ["x"] = Tensor.FromArray(new float[8], [2, 4]) });
        var error = Assert.Throws<ImplicitRegException>(() => DataFiles.Load(unlabelled, [new DataInput("x", ElementType.Float, [-1, 4])]));
        Assert.Contains("'target'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_without_examples_or_with_nan_or_infinity_is_bad_input_naming_the_array_and_the_example()
    {
        var input = new DataInput[] { new("x", ElementType.Float, [-1, 2]) };
        var empty = Write("empty.npz", new Dictionary<string, Tensor>
        {
            ["x"] = Tensor.FromArray(Array.Empty<float>(), [0, 2]),
            ["target"] = Tensor.FromArray(Array.Empty<long>(), [0]),
        });
        var error = Assert.Throws<ImplicitRegException>(() => DataFiles.Load(empty, input));
        Assert.Equal(ErrorKind.BadInput, error.Kind);
        Assert.Contains("holds no examples", error.Message, StringComparison.Ordinal);
        foreach (var bad in new[] { float.NaN, float.PositiveInfinity })
        {
            var path = Write($"bad{bad}.npz", new Dictionary<string, Tensor>
            {
                ["x"] = Tensor.FromArray(new[] { 1f, 2f, 3f, 4f, 5f, bad }, [3, 2]),
                ["target"] = Tensor.FromArray(new long[] { 0, 1, 0 }, [3]),
            });
            var nan = Assert.Throws<ImplicitRegException>(() => DataFiles.Load(path, input));
            Assert.Equal(ErrorKind.BadInput, nan.Kind);
            Assert.Contains("array 'x' holds a NaN or infinite value (example 2)", nan.Message, StringComparison.Ordinal);
        }
        var target = Write("nan_target.npz", new Dictionary<string, Tensor>
        {
            ["x"] = Tensor.FromArray(new[] { 1f, 2f }, [1, 2]),
            ["target"] = Tensor.FromArray(new[] { double.NaN }, [1]),
        });
        Assert.Contains("array 'target' holds a NaN", Assert.Throws<ImplicitRegException>(() => DataFiles.Load(target, input)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Train_and_test_are_normalized_with_the_training_statistics()
    {
        var x = new Dictionary<string, Tensor>
        {
            ["a"] = Tensor.FromArray(new[] { 1f, 3f }, [2, 1]),
            ["ids"] = Tensor.FromArray(new[] { 5L, 7L }, [2, 1]),
            ["target"] = Tensor.FromArray(new[] { 0L, 1L }, [2]),
        };
        var train = Write("train.npz", x);
        x["a"] = Tensor.FromArray(new[] { 2f, 5f }, [2, 1]);
        var test = Write("test.npz", x);
        DataInput[] inputs = [new("a", ElementType.Float, [-1, 1]), new("ids", ElementType.Int64, [-1, 1])];
        var (trained, tested) = DataFiles.LoadTrainTest(train, test, inputs, "standardize");
        Assert.Equal([-1f, 1f], trained["a"].Values<float>().ToArray());
        Assert.Equal([0f, 3f], tested!["a"].Values<float>().ToArray());
        Assert.Equal([5L, 7L], tested["ids"].Values<long>().ToArray());
    }
}
