using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Runtime.Verification;
using ImplicitRegOnnx.TestSupport;

namespace ImplicitRegOnnx.Runtime.Tests.Verification;

public class RandomFeedsTests
{
    [Fact]
    public void SymbolicDimsDefaultToTwoOrTheGivenSize()
    {
        var model = Model.Load(TestPaths.Model("mlp_tanh.onnx"));

        var byDefault = Assert.Single(RandomFeeds.Create(model));
        var given = Assert.Single(RandomFeeds.Create(model, new FeedOptions { Dims = new Dictionary<string, long> { ["batch"] = 5 } }));

        Assert.Equal(new long[] { 2, 64 }, byDefault.Dims);
        Assert.Equal(new long[] { 5, 64 }, given.Dims);
        Assert.All(byDefault.ToDoubles(), x => Assert.InRange(x, -1.0, 1.0));
    }

    [Fact]
    public void SameSeedSameFeeds()
    {
        var model = Model.Load(TestPaths.Model("mlp_tanh.onnx"));
        Assert.True(RandomFeeds.Create(model)[0].ContentEquals(RandomFeeds.Create(model)[0]));
        Assert.False(RandomFeeds.Create(model)[0].ContentEquals(RandomFeeds.Create(model, new FeedOptions { Seed = 7 })[0]));
    }

    [Fact]
    public void IntegersAreSmallAndNonNegativeBoolsAreZeroOrOne()
    {
        var graph = new Graph("g");
        graph.AddInput("i64", new TensorType(ElementType.Int64, new Shape(new[] { Dim.Named("n"), Dim.Unknown })));
        graph.AddInput("i8", new TensorType(ElementType.Int8, new Shape(16)));
        graph.AddInput("b", new TensorType(ElementType.Bool, new Shape(16)));
        graph.AddInput("h", new TensorType(ElementType.Float16, Shape.Scalar));
        var feeds = RandomFeeds.Create(new Model(graph), new FeedOptions { DefaultDim = 3 });

        Assert.Equal(new long[] { 3, 3 }, feeds[0].Dims);
        Assert.All(feeds[0].ToInt64s(), v => Assert.InRange(v, 0, 1));
        Assert.All(feeds[1].ToInt64s(), v => Assert.InRange(v, 0, 1));
        Assert.All(feeds[2].ToInt64s(), v => Assert.InRange(v, 0, 1));
        Assert.Empty(feeds[3].Dims);
    }

    [Fact]
    public void UnknownRankCannotBeFed()
    {
        var graph = new Graph("g");
        graph.AddInput("x", new TensorType(ElementType.Float, null));
        var e = Assert.Throws<ImplicitRegException>(() => RandomFeeds.Create(new Model(graph)));
        Assert.Contains("'x'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NonTensorInputsCannotBeFed()
    {
        var graph = new Graph("g");
        graph.AddInput("s", new SequenceType(new TensorType(ElementType.Float, null)));
        var e = Assert.Throws<ImplicitRegException>(() => RandomFeeds.Create(new Model(graph)));
        Assert.Contains("seq(tensor(float))", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ValuesFixAnInputEverywhere()
    {
        var graph = new Graph();
        graph.AddInput("rate", new TensorType(ElementType.Int64, Shape.Scalar));
        graph.AddInput("x", new TensorType(ElementType.Float, new Shape(3)));
        var feeds = RandomFeeds.Create(new Model(graph), new FeedOptions
        {
            Values = new Dictionary<string, double> { ["rate"] = 16000, ["x"] = -0.25 },
        });
        Assert.Equal([16000L], feeds[0].ToArray<long>());
        Assert.Equal([-0.25f, -0.25f, -0.25f], feeds[1].ToArray<float>());
    }

    [Fact]
    public void SpecsParseIntoDimsShapesAndValues()
    {
        var options = FeedOptions.Parse(["batch=4", "*=3", "a=b=5"], ["input=1,512", "scalar="], ["sr=16000", "x=-0.5e1"], seed: 9);

        Assert.Equal(new Dictionary<string, long> { ["batch"] = 4, ["a=b"] = 5 }, options.Dims);
        Assert.Equal(3, options.DefaultDim);
        Assert.Equal([1L, 512L], options.Shapes["input"]);
        Assert.Empty(options.Shapes["scalar"]);
        Assert.Equal(new Dictionary<string, double> { ["sr"] = 16000, ["x"] = -5 }, options.Values);
        Assert.Equal(9, options.Seed);
        Assert.Equal(2, FeedOptions.Parse(null).DefaultDim);
    }

    [Theory]
    [InlineData("FeedOptions.Dims", "batch")]
    [InlineData("FeedOptions.Dims", "batch=x")]
    [InlineData("FeedOptions.Dims", "=3")]
    [InlineData("FeedOptions.Dims", "batch=-1")]
    [InlineData("FeedOptions.Shapes", "input")]
    [InlineData("FeedOptions.Shapes", "input=1,,2")]
    [InlineData("FeedOptions.Shapes", "input=1,-2")]
    [InlineData("FeedOptions.Values", "sr=abc")]
    [InlineData("FeedOptions.Values", "sr=NaN")]
    [InlineData("FeedOptions.Values", "=1")]
    public void AMalformedSpecIsBadInputNamingThePropertyAndTheSpec(string parameter, string spec)
    {
        var e = Assert.Throws<ImplicitRegException>(() => parameter switch
        {
            "FeedOptions.Dims" => FeedOptions.Parse([spec]),
            "FeedOptions.Shapes" => FeedOptions.Parse(null, [spec]),
            _ => FeedOptions.Parse(null, null, [spec]),
        });

        Assert.Equal(ErrorKind.BadInput, e.Kind);
        Assert.Equal(parameter, e.Parameter);
        Assert.StartsWith($"{parameter} '{spec}': expected ", e.Message, StringComparison.Ordinal);
    }
}
