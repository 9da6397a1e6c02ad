using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Runtime.Verification;
using ImplicitRegOnnx.Runtime.Workflows;
using ImplicitRegOnnx.TestSupport;
using ImplicitRegOnnx.Training;

namespace ImplicitRegOnnx.Runtime.Tests.Workflows;

/// <summary>Convert as a C# app calls it: typed results, no console, errors naming the API.</summary>
public sealed class ModelConversionTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private static readonly GradientModelOptions Mse = new() { Loss = LossKind.Mse, Penalty = new PenaltyOptions { Coefficient = 0.025 } };

    private ConvertOptions Options(params string[] inputs) => new()
    {
        Inputs = inputs,
        OutputDirectory = _temp.File("out"),
        Step = new StepModelOptions { Gradient = Mse, ConstantEvaluator = OrtConstantEvaluator.Instance },
        Check = new GradientCheckOptions { Gradient = Mse, Directions = 2 },
    };

    [Fact]
    public void OkUnsupportedAndFailedModelsAreTypedResultsAndTheOkOneIsWrittenAndChecked()
    {
        File.WriteAllText(_temp.File("broken.onnx"), "not a model");
        var seen = new List<string>();

        var report = ModelConversion.Convert(Options(TestPaths.Model("mlp_tanh.onnx"), TestPaths.RealModel("silero-vad-op15.onnx"), _temp.File("broken.onnx")) with { Gradcheck = true },
            r => seen.Add(r.Input));

        Assert.Equal(3, seen.Count);
        var (ok, unsupported, failed) = (report.Models[0], report.Models[1], report.Models[2]);
        Assert.Equal(ConversionStatus.Ok, ok.Status);
        Assert.True(File.Exists(ok.Output) && File.Exists(ok.Init) && File.Exists(ok.Eval));
        Assert.Equal(Model.Load(TestPaths.Model("mlp_tanh.onnx")).Graph.Initializers.Sum(v => v.Initializer!.ElementCount), ok.Parameters);
        Assert.Equal(4, ok.ParameterTensors);
        Assert.Equal(Model.Load(ok.Output!).Graph.Nodes.Count, ok.Nodes);
        Assert.NotNull(ok.Gradcheck);
        Assert.True(ok.Gradcheck!.Passed, ok.Message);
        Assert.Null(ok.Error);

        Assert.Equal(ConversionStatus.Unsupported, unsupported.Status);
        Assert.Equal(["If"], unsupported.UnsupportedOps);
        Assert.NotEmpty(unsupported.UnsupportedNodes);
        Assert.All(unsupported.UnsupportedNodes, n => Assert.Equal("If", n.OpType));
        var silero = Model.Load(TestPaths.RealModel("silero-vad-op15.onnx"));
        Assert.All(unsupported.UnsupportedNodes, n => Assert.Contains(silero.Graph.Nodes, m => m.Name == n.NodeName && m.OpType == "If"));
        Assert.Null(unsupported.Output);

        Assert.Equal(ConversionStatus.Failed, failed.Status);
        Assert.Equal(ErrorKind.BadInput, Assert.IsType<ImplicitRegException>(failed.Error, exactMatch: false).Kind);
        Assert.Contains("broken.onnx", failed.Message, StringComparison.Ordinal);

        Assert.Equal((1, 1, 1), (report.Count(ConversionStatus.Ok), report.Count(ConversionStatus.Unsupported), report.Count(ConversionStatus.Failed)));
        Assert.False(report.AllOk);
    }

    [Fact]
    public void MissingConstantPromotionIsAFailureNamingTheApiParameter()
    {
        var report = ModelConversion.Convert(Options(TestPaths.RealModel("ppocr-mobile-cls.onnx")) with
        {
            Check = new GradientCheckOptions { Dims = new Dictionary<string, long>(StringComparer.Ordinal) { ["p2o.DynamicDimension.1"] = 48, ["p2o.DynamicDimension.2"] = 192 } },
        });

        var entry = Assert.Single(report.Models);
        Assert.Equal(ConversionStatus.Failed, entry.Status);
        Assert.Contains("ConstantPromotion.Promote", entry.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("--", entry.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UsageErrorsAreThrownBeforeAnyModelIsTouchedAndNameTheOptions()
    {
        File.WriteAllText(_temp.File("file"), "");
        var notAFolder = Assert.Throws<ImplicitRegException>(() => ModelConversion.Convert(Options(TestPaths.Model("mlp_tanh.onnx")) with { OutputDirectory = _temp.File("file") }));
        Assert.Equal(ErrorKind.BadInput, notAFolder.Kind);
        Assert.StartsWith("ConvertOptions.OutputDirectory", notAFolder.Message, StringComparison.Ordinal);

        Directory.CreateDirectory(_temp.File("copy"));
        File.Copy(TestPaths.Model("mlp_tanh.onnx"), _temp.File("copy/mlp_tanh.onnx"));
        var collision = Assert.Throws<ImplicitRegException>(() => ModelConversion.Convert(Options(TestPaths.Model("mlp_tanh.onnx"), _temp.File("copy/mlp_tanh.onnx"))));
        Assert.Contains("ConvertOptions.OutputDirectory", collision.Message, StringComparison.Ordinal);

        var missing = Assert.Throws<ImplicitRegException>(() => ModelConversion.Convert(Options(_temp.File("missing.onnx"))));
        Assert.Contains("missing.onnx", missing.Message, StringComparison.Ordinal);

        var badMomentum = Assert.Throws<ImplicitRegException>(() => ModelConversion.Convert(Options(TestPaths.Model("mlp_tanh.onnx")) with
        {
            Step = new StepModelOptions { Gradient = Mse, Optimizer = new OptimizerOptions { Kind = OptimizerKind.Momentum, Momentum = 1.5 } },
        }));
        Assert.Equal("OptimizerOptions.Momentum", badMomentum.Parameter);
        Assert.False(Directory.Exists(_temp.File("out")));
    }
}
