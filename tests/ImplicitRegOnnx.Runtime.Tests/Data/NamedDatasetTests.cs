using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Runtime.Data;

namespace ImplicitRegOnnx.Runtime.Tests.Data;

public class NamedDatasetTests
{
    /// <summary>Every array encodes its example's index i, so rows of different arrays can be matched after any gather.</summary>
    private static Dataset Mixed(int n = 10) => new([
        DataArray.FromArray("pixels", Enumerable.Range(0, n * 3).Select(v => (float)v).ToArray(), n, 3),
        DataArray.FromArray("half", Enumerable.Range(0, n * 2).Select(v => (Half)v).ToArray(), n, 2),
        DataArray.FromArray("ids", Enumerable.Range(0, n * 4).Select(v => (long)v * 1000).ToArray(), n, 4),
        DataArray.FromArray("counts", Enumerable.Range(0, n).Select(v => -v).ToArray(), n),
        DataArray.FromArray("mask", Enumerable.Range(0, n * 2).Select(v => v % 3 == 0).ToArray(), n, 2),
        DataArray.FromArray("target", Enumerable.Range(0, n).Select(v => (long)(v % 3)).ToArray(), n),
    ]);

    [Fact]
    public void Gather_takes_the_same_rows_of_every_array_whatever_its_type()
    {
        var data = Mixed();
        var batch = data.Gather([7, 2, 7]);
        Assert.Equal(6, batch.Count);
        Assert.Equal([21f, 22, 23, 6, 7, 8, 21, 22, 23], batch["pixels"].ToArray<float>());
        Assert.Equal([3L, 3], batch["pixels"].Dims);
        Assert.Equal(ElementType.Float16, batch["half"].ElementType);
        Assert.Equal([14.0, 15, 4, 5, 14, 15], batch["half"].ToDoubles());
        Assert.Equal([28000L, 29000, 30000, 31000, 8000, 9000, 10000, 11000, 28000, 29000, 30000, 31000], batch["ids"].ToArray<long>());
        Assert.Equal([-7, -2, -7], batch["counts"].ToArray<int>());
        Assert.Equal(ElementType.Int32, batch["counts"].ElementType);
        Assert.Equal([false, true, false, false, false, true], batch["mask"].ToArray<bool>());
        Assert.Equal([1L, 2, 1], batch["target"].ToArray<long>());
        Assert.All(batch, p => Assert.Equal(p.Key, p.Value.Name));
    }

    [Fact]
    public void Shuffled_batches_keep_the_arrays_together_and_follow_the_epoch_sampler()
    {
        var data = Mixed(37);
        var sampler = new EpochSampler(data.Count, 8, seed: 11);
        var seen = new List<int>();
        foreach (var indices in sampler.RemainingBatches())
        {
            var batch = data.Gather(indices);
            var rows = batch["pixels"].ToArray<float>().Where((_, k) => k % 3 == 0).Select(v => (int)v / 3).ToArray();
            Assert.Equal(indices, rows);
            Assert.Equal(rows.Select(i => -i), batch["counts"].ToArray<int>());
            Assert.Equal(rows.Select(i => (double)(2 * i)), batch["half"].ToDoubles().Where((_, k) => k % 2 == 0));
            Assert.Equal(rows.Select(i => (long)i * 4000), batch["ids"].ToArray<long>().Where((_, k) => k % 4 == 0));
            Assert.Equal(rows.Select(i => (long)(i % 3)), batch["target"].ToArray<long>());
            seen.AddRange(rows);
        }
        // The order is EpochSampler's permutation of epoch 0 (the same SplitMix64 definition as single-input data).
        Assert.Equal(EpochSampler.Permutation(37, 11, 0).Take(32), seen);
    }

    [Fact]
    public void Arrays_over_caller_memory_are_views_not_copies()
    {
        var values = new long[] { 1, 2, 3, 4, 5, 6 };
        var array = DataArray.FromArray("ids", values, 3, 2);
        var slice = DataArray.FromMemory("ids", new ReadOnlyMemory<long>(values, 2, 4), 2, 2);
        var overMemory = DataArray.FromMemory("ids", values.AsMemory(), 6);
        var copied = DataArray.FromSpan("ids", values.AsSpan(), 6);
        values[2] = 30;
        Assert.Equal(30, array.Values<long>()[2]);
        Assert.Equal(30, overMemory.Values<long>()[2]);
        Assert.Equal(3, copied.Values<long>()[2]);
        Assert.Equal([30L, 4], slice.Gather([0]).ToArray<long>());
        var tensor = Tensor.FromArray(new[] { 1f, 2f, 3f, 4f }, [2, 2], "x");
        var overTensor = DataArray.FromTensor(tensor);
        Assert.Same(tensor, overTensor.ToTensor());
        Assert.True(overTensor.Rows(1, 1).Bytes.Overlaps(tensor.RawBytes));
        var data = new Dataset([array, DataArray.FromArray("target", new long[] { 0, 1, 0 }, 3)]);
        Assert.True(data.Slice(1, 2)["ids"].Bytes.Overlaps(array.Bytes));
        Assert.Equal([30L, 4, 5, 6], data.Slice(1, 2)["ids"].Values<long>().ToArray());
    }

    [Fact]
    public void Subset_slice_split_and_range_cover_every_array()
    {
        var data = Mixed(30);
        var (train, test) = data.Split(0.2, seed: 1);
        Assert.Equal(24, train.Count);
        Assert.Equal(6, test.Count);
        foreach (var part in new[] { train, test, data.Slice(5, 10), data.Subset([3, 1, 4]) })
        {
            Assert.Equal(data.Arrays.Select(a => a.Name), part.Arrays.Select(a => a.Name));
            var rows = part["counts"].Values<int>().ToArray().Select(v => -v).ToArray();
            Assert.Equal(rows.Select(i => (long)(i % 3)), part["target"].Values<long>().ToArray());
            Assert.Equal(rows.Select(i => (float)(3 * i)), part["pixels"].Values<float>().ToArray().Where((_, k) => k % 3 == 0));
        }
        var range = data.Range(28, 2);
        Assert.Equal([-28, -29], range["counts"].ToArray<int>());
        Assert.Throws<ArgumentOutOfRangeException>(() => data.Range(29, 2));
    }

    [Fact]
    public void Bad_data_sets_are_one_line_errors_naming_the_source_and_the_array()
    {
        var e = Assert.Throws<ImplicitRegException>(() => new Dataset(
            [DataArray.FromArray("input_ids", new long[8], 4, 2), DataArray.FromArray("attention_mask", new long[6], 3, 2)], "train.npz"));
        Assert.Equal(ErrorKind.BadInput, e.Kind);
        Assert.Contains("'train.npz'", e.Message, StringComparison.Ordinal);
        Assert.Contains("'attention_mask' has 3 rows along axis 0 but 'input_ids' has 4", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);

        e = Assert.Throws<ImplicitRegException>(() => new Dataset([DataArray.FromArray("a", new float[2], 2), DataArray.FromArray("a", new float[2], 2)]));
        Assert.Contains("two arrays named 'a'", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<ImplicitRegException>(() => DataArray.FromArray("a", new float[5], 2, 2));
        Assert.Contains("'a'", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<ImplicitRegException>(() => DataArray.FromTensor(Tensor.FromArray(new[] { 1f }, [], "s")));
        Assert.Contains("scalar", e.Message, StringComparison.Ordinal);
    }

    private static readonly DataInput[] BertInputs =
    [
        new("input_ids", ElementType.Int64, [-1, 4]),
        new("attention_mask", ElementType.Int64, [-1, 4]),
    ];

    private static Dataset Tokens(ElementType maskType = ElementType.Int64, long[]? maskRow = null)
    {
        var n = 3;
        var row = maskRow ?? [4];
        var count = n * (int)row.Aggregate(1L, (a, d) => a * d);
        return new Dataset([
            DataArray.FromArray("input_ids", Enumerable.Range(0, n * 4).Select(v => (long)v).ToArray(), n, 4),
            DataArray.FromTensor(Tensor.FromDoubles(maskType, Enumerable.Repeat(1.0, count).ToArray(), [n, .. row], "attention_mask")),
            DataArray.FromArray("extra", new float[n], n),
            DataArray.FromArray("target", new long[] { 0, 1, 1 }, n),
        ], "tokens.npz");
    }

    [Fact]
    public void ForInputs_binds_arrays_by_name_in_the_inputs_order_and_leaves_out_the_rest()
    {
        var bound = Tokens().ForInputs(BertInputs);
        Assert.Equal(["input_ids", "attention_mask", "target"], bound.Arrays.Select(a => a.Name));
        Assert.Equal(["input_ids", "attention_mask"], bound.Inputs.Select(a => a.Name));
        Assert.Same(bound, bound.ForInputs(BertInputs));
    }

    [Fact]
    public void ForInputs_errors_name_the_file_the_array_and_what_to_do()
    {
        var missing = Assert.Throws<ImplicitRegException>(() => Tokens().ForInputs([.. BertInputs, new DataInput("token_type_ids", ElementType.Int64, [-1, 4])]));
        Assert.Equal(ErrorKind.BadInput, missing.Kind);
        Assert.Contains("'tokens.npz' has no array for model input 'token_type_ids'", missing.Message, StringComparison.Ordinal);
        Assert.Contains("named as the input", missing.Message, StringComparison.Ordinal);

        var type = Assert.Throws<ImplicitRegException>(() => Tokens(ElementType.Int32).ForInputs(BertInputs));
        Assert.Contains("'tokens.npz': array 'attention_mask' is int32 but model input 'attention_mask' is int64; save the array as int64", type.Message, StringComparison.Ordinal);

        var shape = Assert.Throws<ImplicitRegException>(() => Tokens(maskRow: [5]).ForInputs(BertInputs));
        Assert.Contains("array 'attention_mask' has rows of shape [5]", shape.Message, StringComparison.Ordinal);
        Assert.All(new[] { missing, type, shape }, e => Assert.DoesNotContain('\n', e.Message));
    }

    [Fact]
    public void ForInputs_reshapes_rows_without_copying_and_feeds_single_input_data_to_a_single_input()
    {
        var data = Dataset.FromArrays(Enumerable.Range(0, 2 * 8).Select(v => (float)v).ToArray(), [8], [0L, 1L]);
        var bound = data.ForInputs([new DataInput("image", ElementType.Float, [-1, 2, -1, 2])]);
        Assert.Equal(["image", "target"], bound.Arrays.Select(a => a.Name));
        Assert.Equal([2L, 2, 2, 2], bound["image"].Dims);
        Assert.True(bound["image"].Bytes.Overlaps(data.Features.RawBytes));
        // Two model inputs need arrays by name.
        Assert.Throws<ImplicitRegException>(() => data.ForInputs(BertInputs));
    }

    [Fact]
    public void ForInputs_fits_the_target_to_the_losss_target_input()
    {
        DataInput[] inputs = [new("x", ElementType.Float, [-1, 2])];
        var x = DataArray.FromArray("x", new float[] { 1, 2, 3, 4, 5, 6 }, 3, 2);

        // Integer labels become the int64 class labels of cross-entropy.
        var classes = new Dataset([x, DataArray.FromArray("target", new[] { 2, 0, 1 }, 3)]).ForInputs(inputs, new DataInput("target", ElementType.Int64, [-1]));
        Assert.Equal(ElementType.Int64, classes.Target!.ElementType);
        Assert.Equal([2L, 0, 1], classes.Target.Values<long>().ToArray());

        // Float targets [N] for a float16 output [N, 1] (mse): converted and reshaped.
        var values = new[] { 0.1f, -2.5f, 1e-3f };
        var regression = new Dataset([x, DataArray.FromArray("target", values, 3)]).ForInputs(inputs, new DataInput("target", ElementType.Float16, [-1, 1]));
        Assert.Equal(ElementType.Float16, regression.Target!.ElementType);
        Assert.Equal([3L, 1], regression.Target.Dims);
        Assert.Equal(values.Select(v => (double)(Half)(double)v), regression.Target.ToTensor().ToDoubles());

        var e = Assert.Throws<ImplicitRegException>(() => new Dataset([x, DataArray.FromArray("target", values, 3)], "r.npz")
            .ForInputs(inputs, new DataInput("target", ElementType.Int64, [-1])));
        Assert.Contains("'r.npz': array 'target' is float but the loss needs int64 class labels", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<ImplicitRegException>(() => new Dataset([x, DataArray.FromArray("target", new long[] { 1, 2, 3 }, 3)], "c.npz")
            .ForInputs(inputs, new DataInput("target", ElementType.Float, [-1, 10])));
        Assert.Contains("'c.npz': array 'target' has rows of shape [] (1 values) but the loss's target needs [?,10]", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Single_input_members_still_work_and_refuse_several_inputs_clearly()
    {
        var single = Dataset.FromArrays([1f, 2, 3, 4], [2], [0L, 1L]);
        Assert.Equal([Dataset.FeaturesName, Dataset.TargetName], single.Arrays.Select(a => a.Name));
        Assert.Equal(2, single.FeaturesPerExample);
        Assert.Equal([3f, 4], single.GatherBatch([1]).Features.ToArray<float>());
        var e = Assert.Throws<InvalidOperationException>(() => Mixed().Features);
        Assert.Contains("5 input arrays", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Normalization_per_named_array_fits_each_floating_point_array_on_its_own()
    {
        var train = Mixed(10);
        var normalization = DataNormalization.Fit(NormalizationKind.Standardize, train);
        Assert.Equal(["half", "pixels"], normalization.ByArray.Keys.Order(StringComparer.Ordinal));
        var normalized = normalization.Apply(train);
        foreach (var name in new[] { "pixels", "half" })
        {
            var values = normalized[name].ToTensor().ToDoubles();
            var perRow = normalized[name].ValuesPerRow;
            for (var j = 0; j < perRow; j++)
            {
                var column = values.Where((_, k) => k % perRow == j).ToArray();
                var mean = column.Average();
                var std = Math.Sqrt(column.Select(v => (v - mean) * (v - mean)).Average());
                // float16 holds about 3 decimal digits: its rounding bounds the error.
                var tolerance = name == "half" ? 2e-3 : 1e-6;
                Assert.True(Math.Abs(mean) < tolerance, $"{name}[{j}] mean {mean}");
                Assert.True(Math.Abs(std - 1) < tolerance, $"{name}[{j}] std {std}");
            }
        }
        Assert.Equal(ElementType.Float16, normalized["half"].ElementType);
        Assert.Same(train["ids"], normalized["ids"]);
        Assert.Same(train["mask"], normalized["mask"]);
        Assert.Same(train["target"], normalized["target"]);

        // The training statistics, applied unchanged to other data.
        var test = Mixed(4);
        var applied = normalization.Apply(test)["pixels"].Values<float>().ToArray();
        var offsets = normalization.ByArray["pixels"].Offsets!;
        var divisors = normalization.ByArray["pixels"].Divisors!;
        Assert.Equal(Enumerable.Range(0, 12).Select(k => ((float)k - offsets[k % 3]) / divisors[k % 3]), applied);

        var e = Assert.Throws<ImplicitRegException>(() => Normalization.Fit(NormalizationKind.MinMax, train["ids"]));
        Assert.Contains("'ids' is int64", e.Message, StringComparison.Ordinal);
    }
}
