using ImplicitRegOnnx.Runtime.Data;

namespace ImplicitRegOnnx.Runtime.Tests.Data;

public class NormalizationTests
{
    // Two features: the first varies, the second is constant.
    private static readonly Dataset Train = Dataset.FromArrays([0f, 5f, 2f, 5f, 4f, 5f, 6f, 5f], [2], [0L, 1, 0, 1]);
    private static readonly Dataset Test = Dataset.FromArrays([3f, 7f], [2], [1L]);

    [Fact]
    public void Scale_divides_by_a_constant()
    {
        var scaled = Normalization.Parse("scale:2", Train).Apply(Test);
        Assert.Equal([1.5f, 3.5f], scaled.FeatureValues.ToArray());
        Assert.Equal(255, Normalization.Parse("scale", Train).Divisor);
        Assert.Same(Test, Normalization.Parse("none", Train).Apply(Test));
    }

    [Fact]
    public void Standardize_uses_training_statistics_on_test_data()
    {
        var norm = Normalization.Fit(NormalizationKind.Standardize, Train);
        // mean 3, population std sqrt(5); the constant feature gets divisor 1.
        Assert.Equal([3f, 5f], norm.Offsets!);
        Assert.Equal([(float)Math.Sqrt(5), 1f], norm.Divisors!);
        var train = norm.Apply(Train).FeatureValues.ToArray();
        Assert.Equal(0, train.Where((_, i) => i % 2 == 0).Sum(), 5);
        Assert.Equal([0f, 2f], norm.Apply(Test).FeatureValues.ToArray());
    }

    [Fact]
    public void MinMax_maps_the_training_range_to_unit()
    {
        var norm = Normalization.Parse("minmax", Train);
        Assert.Equal([0f, 1f / 3, 2f / 3, 1f], norm.Apply(Train).FeatureValues.ToArray().Where((_, i) => i % 2 == 0));
        Assert.Equal([0.5f, 2f], norm.Apply(Test).FeatureValues.ToArray());
    }

    [Fact]
    public void Json_round_trip_is_exact()
    {
        foreach (var norm in new[]
                 {
                     Normalization.None,
                     Normalization.ScaleBy(16),
                     Normalization.Fit(NormalizationKind.Standardize, Train),
                     Normalization.Fit(NormalizationKind.MinMax, Train),
                 })
        {
            var json = norm.ToJson();
            Assert.Equal(norm, Normalization.FromJson(json));
        }
        Assert.Contains("\"kind\":\"Standardize\"", Normalization.Fit(NormalizationKind.Standardize, Train).ToJson(), StringComparison.Ordinal);
        Assert.Throws<ImplicitRegException>(() => Normalization.FromJson("{\"kind\":\"MinMax\"}"));
        Assert.Throws<ImplicitRegException>(() => Normalization.FromJson("not json"));
    }

    [Fact]
    public void Bad_specs_and_feature_count_mismatch()
    {
        Assert.Throws<ImplicitRegException>(() => Normalization.Parse("whiten", Train));
        Assert.Throws<ImplicitRegException>(() => Normalization.Parse("scale:-1", Train));
        Assert.Throws<ImplicitRegException>(() => Normalization.Parse("minmax:3", Train));
        var norm = Normalization.Fit(NormalizationKind.MinMax, Train);
        Assert.Throws<ImplicitRegException>(() => norm.Apply(Dataset.FromArrays([1f, 2f, 3f], [3], [0L])));
    }
}
