using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Runtime.Verification;
using ImplicitRegOnnx.TestSupport;

namespace ImplicitRegOnnx.Runtime.Tests.Verification;

public sealed class ModelRunnerTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void RunsAModelFromBytesAndFromAFile()
    {
        var path = TestPaths.Model("mlp_tanh.onnx");
        var feeds = RandomFeeds.Create(Model.Load(path));

        using var fromFile = ModelRunner.FromFile(path);
        using var fromBytes = ModelRunner.FromBytes(File.ReadAllBytes(path));
        var a = fromFile.Run(feeds);
        var b = fromBytes.Run(feeds);

        var output = Assert.Single(a);
        Assert.Equal("logits", output.Name);
        Assert.Equal(new long[] { 2, 10 }, output.Tensor!.Dims);
        Assert.Empty(OutputComparison.Differences(a, b));
    }

    [Fact]
    public void ModelWithExternalDataRunsFromItsPath()
    {
        var path = TestPaths.Model("external_data/model.onnx");
        var result = EquivalenceCheck.Run(RandomFeeds.Create(Model.Load(path)), path, path);
        Assert.True(result.Equivalent);
        Assert.True(result.OutputsCompared > 0);
    }

    [Fact]
    public void UnknownOpIsAFailedRunInOneLine()
    {
        var model = Model.Load(TestPaths.Model("mlp_tanh.onnx"));
        model.Graph.Nodes.First(n => n.OpType == "Tanh").Domain = "com.nowhere";
        model.SetOpsetVersion("com.nowhere", 1);
        var e = Assert.Throws<ImplicitRegException>(() => ModelRunner.FromBytes(model.ToBytes()));
        Assert.Equal(ErrorKind.Failed, e.Kind);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void ChangedWeightsAreReportedAsADifference()
    {
        var path = TestPaths.Model("mlp_tanh.onnx");
        var model = Model.Load(path);
        var weight = model.Graph.Initializers.First(v => v.Initializer!.ElementType == ElementType.Float);
        var data = weight.Initializer!.ToArray<float>();
        data[0] += 0.5f;
        model.Graph.AttachInitializer(weight, Tensor.FromArray(data, weight.Initializer.Dims, weight.Name));
        var changed = _temp.File("changed.onnx");
        model.Save(changed);

        var result = EquivalenceCheck.Run(RandomFeeds.Create(Model.Load(path)), path, changed);

        var difference = Assert.Single(result.Differences);
        Assert.Contains("'logits'", difference, StringComparison.Ordinal);
    }
}
