using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Runtime.Data;

namespace ImplicitRegOnnx.Runtime.Tests.Data;

public class DatasetTests
{
    private static Dataset Sample(int n = 6) =>
        Dataset.FromArrays(
            Enumerable.Range(0, n * 4).Select(i => (float)i).ToArray(), [2, 2],
            Enumerable.Range(0, n).Select(i => (long)(i % 3)).ToArray());

    [Fact]
    public void Shapes_and_counts()
    {
        var data = Sample();
        Assert.Equal(6, data.Count);
        Assert.Equal([2L, 2], data.ExampleShape);
        Assert.Empty(data.LabelShape);
        Assert.Equal(4, data.FeaturesPerExample);
        Assert.True(data.HasClassLabels);
        Assert.Equal(3, data.ClassCount);
    }

    [Fact]
    public void GatherBatch_copies_rows_in_index_order()
    {
        var (features, labels) = Sample().GatherBatch([4, 1, 4]);
        Assert.Equal([3L, 2, 2], features.Dims);
        Assert.Equal(ElementType.Float, features.ElementType);
        Assert.Equal([16f, 17, 18, 19, 4, 5, 6, 7, 16, 17, 18, 19], features.ToArray<float>());
        Assert.Equal([1L, 1, 1], labels.ToArray<long>());
        Assert.Equal([3L], labels.Dims);
    }

    [Fact]
    public void GatherBatch_into_buffers_and_bad_indices()
    {
        var data = Sample();
        var features = new byte[2 * 4 * sizeof(float)];
        var labels = new byte[2 * sizeof(long)];
        data.GatherBatch([5, 0], features, labels);
        Assert.Equal(20f, BitConverter.ToSingle(features, 0));
        Assert.Equal(2L, BitConverter.ToInt64(labels, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => data.GatherBatch([6]));
        Assert.Throws<ArgumentException>(() => data.GatherBatch([0, 1, 2], features, labels));
    }

    [Fact]
    public void Slice_take_and_range()
    {
        var data = Sample();
        var slice = data.Slice(2, 3);
        Assert.Equal(3, slice.Count);
        Assert.Equal(8f, slice.FeatureValues[0]);
        Assert.Equal(6, data.Take(100).Count);
        Assert.Equal(2, data.Take(2).Count);
        Assert.Throws<ArgumentOutOfRangeException>(() => data.GetRange(4, 3));
    }

    [Fact]
    public void Split_is_deterministic_stratified_and_disjoint()
    {
        var data = Dataset.FromArrays(
            Enumerable.Range(0, 100).Select(i => (float)i).ToArray(), [1],
            Enumerable.Range(0, 100).Select(i => (long)(i < 80 ? 0 : 1)).ToArray());
        var (train, test) = data.Split(0.25, seed: 3);
        var (train2, test2) = data.Split(0.25, seed: 3);
        Assert.Equal(75, train.Count);
        Assert.Equal(25, test.Count);
        Assert.True(train.Features.ContentEquals(train2.Features));
        Assert.True(test.Features.ContentEquals(test2.Features));
        Assert.Equal(20, test.Labels.ToArray<long>().Count(l => l == 0));
        Assert.Equal(5, test.Labels.ToArray<long>().Count(l => l == 1));
        var all = train.FeatureValues.ToArray().Concat(test.FeatureValues.ToArray()).Order();
        Assert.Equal(Enumerable.Range(0, 100).Select(i => (float)i), all);
        var (_, other) = data.Split(0.25, seed: 4);
        Assert.False(test.Features.ContentEquals(other.Features));
    }

    [Fact]
    public void Reshape_to_a_model_input()
    {
        var data = Dataset.FromArrays(new float[2 * 64], [64], [0L, 1]);
        Assert.Equal([1L, 8, 8], data.Reshape(1, 8, 8).ExampleShape);
        Assert.Equal([1L, 8, 8], data.Reshape(1, -1, 8).ExampleShape);
        Assert.Equal([1L, 8, 8], data.ReshapeForInput([-1, 1, 8, 8]).ExampleShape);
        Assert.Equal([64L], data.ReshapeForInput([0, 64]).ExampleShape);
        var e = Assert.Throws<ImplicitRegException>(() => data.ReshapeForInput([-1, 1, 28, 28]));
        Assert.Contains("[1,28,28]", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Float_targets_and_type_checks()
    {
        var data = Dataset.FromArrays([1f, 2f, 3f, 4f], [2], [0.5f, 1.5f, 2.5f, 3.5f], [2]);
        Assert.False(data.HasClassLabels);
        Assert.Equal(0, data.ClassCount);
        Assert.Equal([2L], data.LabelShape);
        Assert.Equal([2.5f, 3.5f], data.GatherBatch([1]).Labels.ToArray<float>());
        Assert.Throws<ArgumentException>(() => new Dataset(Tensor.FromArray(new[] { 1.0 }, [1]), Tensor.FromArray(new[] { 1L }, [1])));
        Assert.Throws<ArgumentException>(() => new Dataset(Tensor.FromArray(new[] { 1f, 2f }, [2]), Tensor.FromArray(new[] { 1L }, [1])));
    }
}
