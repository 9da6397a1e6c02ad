using ImplicitRegOnnx.Onnx.Inference;
using ImplicitRegOnnx.TestSupport;

namespace ImplicitRegOnnx.Onnx.Tests.Inference;

/// <summary>Inference on real models never contradicts the types the exporter declared.</summary>
public class ModelInferenceTests
{
    public static TheoryData<string> AllModels()
    {
        var paths = TestPaths.CommittedModels().Select(TestPaths.Model).ToList();
        if (TestPaths.Shared is { } shared)
        {
            paths.AddRange(Directory.EnumerateFiles(Path.Combine(shared, "oracle"), "model.onnx", SearchOption.AllDirectories).Order(StringComparer.Ordinal));
            paths.AddRange(Directory.EnumerateFiles(Path.Combine(shared, "bench"), "*.onnx").Order(StringComparer.Ordinal));
        }
        return [.. paths];
    }

    [Theory]
    [MemberData(nameof(AllModels))]
    public void MergedTypesKeepEveryDeclaredFact(string path)
    {
        var model = Model.Load(path);
        var declared = DeclaredTypes(model);
        ShapeInference.InferModel(model);
        foreach (var (value, type) in declared)
        {
            AssertRefines(type, value.TensorType, value.Name);
        }
    }

    [Theory]
    [MemberData(nameof(AllModels))]
    public void InferenceFromScratchAgreesWithDeclaredTypes(string path)
    {
        var model = Model.Load(path);
        var declared = DeclaredTypes(model).Where(p => p.Key.Producer is not null).ToList();
        foreach (var (value, _) in declared)
        {
            value.Type = null;
        }
        ShapeInference.InferModel(model);
        foreach (var (value, type) in declared)
        {
            if (value.TensorType is not { } inferred)
            {
                continue;
            }
            Assert.True(inferred.ElementType == type.ElementType, $"{value.Name}: inferred {inferred}, declared {type}");
            if (inferred.Shape is null || type.Shape is null)
            {
                continue;
            }
            Assert.True(inferred.Shape.Rank == type.Shape.Rank, $"{value.Name}: inferred {inferred}, declared {type}");
            for (var i = 0; i < type.Shape.Rank; i++)
            {
                var (d, n) = (type.Shape[i], inferred.Shape[i]);
                Assert.False(d.IsKnown && n.IsKnown && d.Value != n.Value, $"{value.Name}: inferred {inferred}, declared {type}");
                Assert.False(d.IsSymbolic && n.IsSymbolic && d.Symbol != n.Symbol, $"{value.Name}: inferred {inferred}, declared {type}");
            }
        }
    }

    [Fact]
    public void IfOutputsTakeWhatBothBranchesShare()
    {
        var model = Model.Load(TestPaths.Model("if_loop_subgraph.onnx"));
        var ifNode = model.Graph.Nodes.Single(n => n.OpType == "If");
        foreach (var output in ifNode.Outputs)
        {
            output!.Type = null;
        }
        ShapeInference.InferModel(model);
        Assert.Equal("float[batch,4]", InferenceHarness.Format(ifNode.Output.Type));
    }

    /// <summary>Tensor types of graph outputs and value_info entries, in every graph.</summary>
    private static Dictionary<Value, TensorType> DeclaredTypes(Model model)
    {
        var declared = new Dictionary<Value, TensorType>();
        foreach (var graph in model.Graph.SelfAndSubgraphs())
        {
            foreach (var value in graph.Outputs.Concat(graph.ValueInfos))
            {
                if (value.TensorType is { } type)
                {
                    declared[value] = type;
                }
            }
        }
        return declared;
    }

    private static void AssertRefines(TensorType declared, TensorType? merged, string name)
    {
        Assert.NotNull(merged);
        Assert.Equal(declared.ElementType, merged.ElementType);
        if (declared.Shape is null)
        {
            return;
        }
        Assert.NotNull(merged.Shape);
        Assert.Equal(declared.Shape.Rank, merged.Shape.Rank);
        for (var i = 0; i < declared.Shape.Rank; i++)
        {
            if (declared.Shape[i].IsKnown)
            {
                Assert.True(declared.Shape[i] == merged.Shape[i], $"{name}: dim {i} was {declared.Shape[i]}, is {merged.Shape[i]}");
            }
        }
    }
}
