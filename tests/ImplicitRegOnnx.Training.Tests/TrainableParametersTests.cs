using ImplicitRegOnnx.Onnx;
using Attribute = ImplicitRegOnnx.Onnx.Attribute;
using ImplicitRegOnnx.TestSupport;

namespace ImplicitRegOnnx.Training.Tests;

public class TrainableParametersTests
{
    private static Model Load(string name) => Model.Load(TestPaths.Model(name));

    [Fact]
    public void DefaultIsEveryFloatInitializerOnTheWayToTheOutputButRunningStatistics()
    {
        var model = Load("cnn_batchnorm_maxpool.onnx");
        var names = TrainableParameters.Select(model.Graph, model.Graph.Outputs[0]).Select(v => v.Name).ToList();
        Assert.Contains(names, n => n.EndsWith(".weight", StringComparison.Ordinal));
        Assert.DoesNotContain(names, n => n.Contains("running", StringComparison.Ordinal));
        var batchNorm = model.Graph.Nodes.First(n => n.OpType == "BatchNormalization");
        Assert.DoesNotContain(batchNorm.Inputs[3]!.Name, names);
        Assert.DoesNotContain(batchNorm.Inputs[4]!.Name, names);
        Assert.Contains(batchNorm.Inputs[1]!.Name, names);
    }

    [Fact]
    public void TrainableAndFreezeGlobsNarrowTheSet()
    {
        var model = Load("mlp_tanh.onnx");
        var output = model.Graph.Outputs[0];
        var all = TrainableParameters.Select(model.Graph, output).Select(v => v.Name).ToList();
        Assert.Equal(4, all.Count);
        var weights = TrainableParameters.Select(model.Graph, output, trainable: ["*.weight"]).Select(v => v.Name);
        Assert.All(weights, n => Assert.EndsWith(".weight", n, StringComparison.Ordinal));
        Assert.Equal(2, weights.Count());
        var frozen = TrainableParameters.Select(model.Graph, output, freeze: ["*.bias", all[0]]).Select(v => v.Name);
        Assert.Equal(all.Where(n => !n.EndsWith(".bias", StringComparison.Ordinal) && n != all[0]), frozen);
    }

    [Fact]
    public void GlobsThatMatchNothingOrLeaveNothingAreErrors()
    {
        var model = Load("mlp_tanh.onnx");
        var output = model.Graph.Outputs[0];
        var unmatched = Assert.Throws<ImplicitRegException>(() => TrainableParameters.Select(model.Graph, output, trainable: ["nosuch*"]));
        Assert.Equal(ErrorKind.BadInput, unmatched.Kind);
        Assert.Equal("GradientModelOptions.Trainable", unmatched.Parameter);
        Assert.StartsWith("GradientModelOptions.Trainable nosuch*: matches no trainable parameter", unmatched.Message, StringComparison.Ordinal);
        Assert.Contains("no parameter is left", Assert.Throws<ImplicitRegException>(() => TrainableParameters.Select(model.Graph, output, freeze: ["*"])).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("fc?.weight", "fc1.weight", true)]
    [InlineData("fc?.weight", "fc10.weight", false)]
    [InlineData("*", "anything/at.all", true)]
    [InlineData("layer.[12].w", "layer.2.w", true)]
    [InlineData("layer.[12].w", "layer.3.w", false)]
    public void GlobsMatchLikeAShell(string pattern, string name, bool matches) => Assert.Equal(matches, Glob.Matches(pattern, name));
}

public class PenaltyOptionsTests
{
    [Theory]
    [InlineData(-0.1, 1, 1e-2, "PenaltyOptions.Coefficient")]
    [InlineData(double.NaN, 1, 1e-2, "PenaltyOptions.Coefficient")]
    [InlineData(0.1, 0, 1e-2, "PenaltyOptions.Microbatches")]
    [InlineData(0.1, 2, 0, "PenaltyOptions.FiniteDifferenceStep")]
    public void BadValuesAreBadInputNamingTheProperty(double coefficient, int microbatches, double step, string parameter)
    {
        var e = Assert.Throws<ImplicitRegException>(() => new PenaltyOptions { Coefficient = coefficient, Microbatches = microbatches, FiniteDifferenceStep = step }.Validate());
        Assert.Equal(ErrorKind.BadInput, e.Kind);
        Assert.Equal(parameter, e.Parameter);
        Assert.StartsWith(parameter + " must be", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LambdaIsFourTimesTheCoefficient() => Assert.Equal(0.025, PenaltyOptions.CoefficientFromLambda(0.1), 15);
}

public class NothingToTrainTests
{
    [Fact]
    public void AModelWithoutWeightsSaysSo()
    {
        var graph = new Graph();
        var x = graph.AddInput("x", new TensorType(ElementType.Float, new Shape(2, 3)));
        var w = graph.Append(new Node("", "Constant", [], ["w"], [Attribute.FromTensor("value", Tensor.FromArray(new float[12], [3, 4]))]));
        var y = graph.Append(new Node("", "MatMul", [x, w.Output], ["y"]));
        graph.Outputs.Add(y.Output);
        var error = Assert.Throws<ImplicitRegException>(() => TrainableParameters.Select(graph, y.Output));
        Assert.Contains("Constant nodes", error.Message, StringComparison.Ordinal);
    }
}
