using ImplicitRegOnnx.Runtime.Data;

namespace ImplicitRegOnnx.Runtime.Tests.Data;

public class DigitsDataTests
{
    [Fact]
    public void Bundled_file_has_1797_examples_of_64_pixels_and_10_classes()
    {
        var data = DigitsData.LoadAll(DataFixtures.DigitsPath);
        Assert.Equal(DigitsData.ExampleCount, data.Count);
        Assert.Equal([64L], data.ExampleShape);
        Assert.Equal(10, data.ClassCount);
        var values = data.FeatureValues.ToArray();
        Assert.Equal(0f, values.Min());
        Assert.Equal(1f, values.Max());
        // First row of the file: 0,0,5,13,9,1,0,0,... label 0.
        Assert.Equal([0f, 0f, 5f / 16, 13f / 16, 9f / 16], values[..5]);
        var labels = data.Labels.ToArray<long>();
        Assert.Equal(0L, labels[0]);
        Assert.Equal(178, labels.Count(l => l == 0));
        Assert.Equal(174, labels.Count(l => l == 8));
    }

    [Fact]
    public void Split_is_deterministic_stratified_and_image_shaped()
    {
        var (train, test) = DigitsData.Load(DataFixtures.DigitsPath, testFraction: 0.2, seed: 1, imageShape: true);
        Assert.Equal(1438, train.Count);
        Assert.Equal(359, test.Count);
        Assert.Equal([1L, 8, 8], train.ExampleShape);
        var testLabels = test.Labels.ToArray<long>();
        for (var c = 0; c < 10; c++)
        {
            Assert.InRange(testLabels.Count(l => l == c), 35, 37);
        }
        var (_, again) = DigitsData.Load(DataFixtures.DigitsPath, testFraction: 0.2, seed: 1, imageShape: true);
        Assert.True(test.Features.ContentEquals(again.Features));
        var (_, otherSeed) = DigitsData.Load(DataFixtures.DigitsPath, testFraction: 0.2, seed: 2);
        Assert.False(test.Labels.ContentEquals(otherSeed.Labels) && test.FeatureValues.SequenceEqual(otherSeed.FeatureValues));
    }

    [Fact]
    public void Loads_from_a_stream_and_refuses_other_data()
    {
        using (var stream = File.OpenRead(DataFixtures.DigitsPath))
        {
            Assert.Equal(1797, DigitsData.LoadAll(stream, "embedded digits").Count);
            Assert.True(stream.CanRead, "the caller's stream stays open");
        }
        using var other = new MemoryStream("1,2,3\n4,5,6\n"u8.ToArray());
        var e = Assert.Throws<ImplicitRegException>(() => DigitsData.LoadAll(other, "other.csv"));
        Assert.Contains("not the digits data", e.Message, StringComparison.Ordinal);
    }
}
