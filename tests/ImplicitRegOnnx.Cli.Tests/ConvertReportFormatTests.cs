using System.CommandLine;
using System.Text.RegularExpressions;
using ImplicitRegOnnx.Cli.Commands;
using ImplicitRegOnnx.Runtime;
using ImplicitRegOnnx.Runtime.Verification;
using ImplicitRegOnnx.Runtime.Workflows;
using ImplicitRegOnnx.TestSupport;
using ImplicitRegOnnx.Training;

namespace ImplicitRegOnnx.Cli.Tests;

/// <summary>
/// The convert report is a contract of CI pipelines: the library's typed result, serialized by the CLI, must
/// give the bytes the CLI wrote before the workflow moved into the library. Golden/convert-report.json was
/// written by the CLI of commit 006ef7e (the pipeline still inside the CLI) for the same four models and
/// options, with the timings set to 0 and the paths relative to the models' folder.
/// </summary>
public sealed partial class ConvertReportFormatTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [GeneratedRegex("\"seconds\": [0-9.eE+-]+")]
    private static partial Regex Seconds();

    [Fact]
    public void TheLibraryResultSerializedByTheCliIsTodaysReport()
    {
        File.Copy(TestPaths.Model("mlp_tanh.onnx"), _temp.File("mlp_tanh.onnx"));
        File.WriteAllText(_temp.File("broken.onnx"), "not a model");
        File.Copy(TestPaths.RealModel("silero-vad-op15.onnx"), _temp.File("silero-vad-op15.onnx"));
        File.Copy(TestPaths.RealModel("ppocr-mobile-cls.onnx"), _temp.File("ppocr-mobile-cls.onnx"));
        var gradient = new GradientModelOptions
        {
            Loss = LossKind.CrossEntropy,
            Penalty = new PenaltyOptions { Coefficient = PenaltyOptions.CoefficientFromLambda(0.1), Microbatches = 2 },
        };
        var options = new ConvertOptions
        {
            Inputs = [.. new[] { "mlp_tanh.onnx", "broken.onnx", "silero-vad-op15.onnx", "ppocr-mobile-cls.onnx" }.Select(_temp.File)],
            OutputDirectory = _temp.File("out"),
            Step = new StepModelOptions
            {
                Gradient = gradient,
                Lambda = 0.1,
                Optimizer = new OptimizerOptions { Kind = OptimizerKind.Momentum },
                ConstantEvaluator = OrtConstantEvaluator.Instance,
            },
            Check = new GradientCheckOptions
            {
                Gradient = gradient,
                Dims = new Dictionary<string, long>(StringComparer.Ordinal) { ["p2o.DynamicDimension.1"] = 48, ["p2o.DynamicDimension.2"] = 192 },
            },
        };

        var report = ModelConversion.Convert(options);

        Assert.Equal([ConversionStatus.Ok, ConversionStatus.Failed, ConversionStatus.Unsupported, ConversionStatus.Failed], report.Models.Select(m => m.Status));
        // The CLI shows library errors with its option names, as the command does.
        var convert = ConvertCommand.Create(new CommandContext(TextWriter.Null, TextWriter.Null));
        var context = new CommandContext(TextWriter.Null, TextWriter.Null) { Command = convert };
        var json = ConvertCommand.ToJson(new ConversionReport([.. report.Models.Select(m => ConvertCommand.Shown(context, m))]));
        var relative = Seconds().Replace(json, "\"seconds\": 0").Replace(_temp.Path + Path.DirectorySeparatorChar, "", StringComparison.Ordinal);
        Assert.Equal(File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "tests", "ImplicitRegOnnx.Cli.Tests", "Golden", "convert-report.json")), relative);
    }
}
