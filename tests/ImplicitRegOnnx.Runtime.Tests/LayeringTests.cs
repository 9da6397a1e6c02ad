using System.Reflection;
using ImplicitRegOnnx.Autodiff;
using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Runtime.Training;
using ImplicitRegOnnx.Training;

namespace ImplicitRegOnnx.Runtime.Tests;

/// <summary>
/// The layers of docs/architecture.md (Cli → Runtime → Training → Autodiff → Onnx, and only Runtime
/// on ONNX Runtime), read from the compiled assemblies' metadata: an assembly references another only
/// when its code uses a type of it, so a stray ONNX Runtime call below Runtime fails here.
/// </summary>
public class LayeringTests
{
    private static readonly Assembly Onnx = typeof(Model).Assembly;
    private static readonly Assembly Autodiff = typeof(ReverseMode).Assembly;
    private static readonly Assembly Training = typeof(StepModelBuilder).Assembly;
    private static readonly Assembly Runtime = typeof(Trainer).Assembly;

    private static string[] References(Assembly assembly) =>
        [.. assembly.GetReferencedAssemblies().Select(a => a.Name!).Order(StringComparer.Ordinal)];

    private static string[] Ours(Assembly assembly) =>
        [.. References(assembly).Where(n => n.StartsWith("ImplicitRegOnnx", StringComparison.Ordinal))];

    public static TheoryData<string> LayersBelowRuntime() => ["Onnx", "Autodiff", "Training"];

    private static Assembly Layer(string name) => name switch
    {
        "Onnx" => Onnx,
        "Autodiff" => Autodiff,
        "Training" => Training,
        _ => Runtime,
    };

    [Theory]
    [MemberData(nameof(LayersBelowRuntime))]
    public void LayersBelowRuntimeDoNotReferenceOnnxRuntime(string layer)
    {
        var onnxRuntime = References(Layer(layer)).Where(n => n.StartsWith("Microsoft.ML.OnnxRuntime", StringComparison.Ordinal)).ToList();
        Assert.True(onnxRuntime.Count == 0, $"ImplicitRegOnnx.{layer} references {string.Join(", ", onnxRuntime)}");
    }

    [Fact]
    public void EachLayerReferencesOnlyTheLayersBelowIt()
    {
        Assert.Empty(Ours(Onnx));
        Assert.Equal(["ImplicitRegOnnx.Onnx"], Ours(Autodiff));
        Assert.Subset(new HashSet<string> { "ImplicitRegOnnx.Autodiff", "ImplicitRegOnnx.Onnx" }, Ours(Training).ToHashSet());
        Assert.Contains("ImplicitRegOnnx.Autodiff", Ours(Training));
        Assert.Subset(new HashSet<string> { "ImplicitRegOnnx.Autodiff", "ImplicitRegOnnx.Onnx", "ImplicitRegOnnx.Training" }, Ours(Runtime).ToHashSet());
        Assert.Contains("ImplicitRegOnnx.Training", Ours(Runtime));
    }

    [Fact]
    public void RuntimeIsTheLayerThatRunsOnnxRuntime() =>
        Assert.Contains("Microsoft.ML.OnnxRuntime", References(Runtime));
}
