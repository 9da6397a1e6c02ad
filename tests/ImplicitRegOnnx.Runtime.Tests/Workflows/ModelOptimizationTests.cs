using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Runtime.Verification;
using ImplicitRegOnnx.Runtime.Workflows;
using ImplicitRegOnnx.TestSupport;

namespace ImplicitRegOnnx.Runtime.Tests.Workflows;

/// <summary>Optimize-and-verify as a C# app calls it: typed statuses, errors instead of exit codes.</summary>
public sealed class ModelOptimizationTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void AnOptimizedModelIsWrittenAndVerified()
    {
        var result = ModelOptimization.OptimizeAndVerify(new OptimizeOptions { Input = TestPaths.Model("resnet8_small.onnx"), Output = _temp.File("o.onnx") });

        Assert.True(result.Succeeded);
        Assert.Equal(VerificationStatus.Passed, result.Verification.Status);
        Assert.Equal(Model.Load(TestPaths.Model("resnet8_small.onnx")).Graph.Outputs.Count, result.Verification.Outputs);
        Assert.Equal(Model.Load(_temp.File("o.onnx")).Graph.Nodes.Count, result.Passes.NodesAfter);
        Assert.Equal(new Tolerance(), result.Tolerance);
        Assert.Empty(result.Warnings);
    }

    [Fact]
    public void AModelOnnxRuntimeCannotRunIsSkippedWithAWarningOrFailsWhenVerificationIsRequired()
    {
        var model = Model.Load(TestPaths.Model("mlp_tanh.onnx"));
        model.Graph.Nodes.First(n => n.OpType == "Tanh").Domain = "com.nowhere";
        model.SetOpsetVersion("com.nowhere", 1);
        var input = _temp.File("custom_op.onnx");
        model.Save(input);

        var auto = ModelOptimization.OptimizeAndVerify(new OptimizeOptions { Input = input, Output = _temp.File("a.onnx") });
        Assert.True(auto.Succeeded);
        Assert.Equal(VerificationStatus.Skipped, auto.Verification.Status);
        Assert.NotNull(auto.Verification.Reason);
        Assert.Contains("not verified", Assert.Single(auto.Warnings), StringComparison.Ordinal);

        var always = ModelOptimization.OptimizeAndVerify(new OptimizeOptions { Input = input, Output = _temp.File("b.onnx"), Verify = VerifyMode.Always });
        Assert.False(always.Succeeded);
        Assert.Equal(ErrorKind.Failed, always.Error!.Kind);
        Assert.Contains("OptimizeOptions.Verify", always.Error.Message, StringComparison.Ordinal);
        Assert.True(File.Exists(_temp.File("b.onnx")));

        var never = ModelOptimization.OptimizeAndVerify(new OptimizeOptions { Input = input, Output = _temp.File("c.onnx"), Verify = VerifyMode.Never });
        Assert.True(never.Succeeded);
        Assert.Equal(new OptimizeVerification(VerificationStatus.Skipped, 0, [], null), never.Verification);
    }

    [Fact]
    public void BadOptionsAreErrorsNamingTheApi()
    {
        var same = Assert.Throws<ImplicitRegException>(() => ModelOptimization.OptimizeAndVerify(new OptimizeOptions { Input = TestPaths.Model("mlp_tanh.onnx"), Output = TestPaths.Model("mlp_tanh.onnx") }));
        Assert.Equal(ErrorKind.BadInput, same.Kind);
        var tolerance = Assert.Throws<ImplicitRegException>(() => ModelOptimization.OptimizeAndVerify(new OptimizeOptions
        {
            Input = TestPaths.Model("mlp_tanh.onnx"),
            Output = _temp.File("o.onnx"),
            Tolerance = new Tolerance(-1, 0),
        }));
        Assert.Equal("OptimizeOptions.Tolerance", tolerance.Parameter);
        var feeds = Assert.Throws<ImplicitRegException>(() => ModelOptimization.OptimizeAndVerify(new OptimizeOptions
        {
            Input = TestPaths.Model("mlp_tanh.onnx"),
            Output = _temp.File("o.onnx"),
            Feeds = new FeedOptions { Values = new Dictionary<string, double>(StringComparer.Ordinal) { ["nosuch"] = 1 } },
        }));
        Assert.Contains("nosuch", feeds.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(_temp.File("o.onnx")));
    }
}
