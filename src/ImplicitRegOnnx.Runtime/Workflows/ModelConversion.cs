using System.Diagnostics;
using System.Globalization;
using ImplicitRegOnnx.Autodiff;
using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Onnx.Serialization;
using ImplicitRegOnnx.Runtime.Verification;
using ImplicitRegOnnx.Training;

namespace ImplicitRegOnnx.Runtime.Workflows;

/// <summary>What <see cref="ModelConversion.Convert"/> converts and how.</summary>
public sealed record ConvertOptions
{
    /// <summary>The .onnx inference models to convert, in report order.</summary>
    public IReadOnlyList<string> Inputs { get; init; } = [];

    /// <summary>The folder for NAME.train.onnx, NAME.init.onnx and NAME.eval.onnx (created if missing); NAME is the input's file name without extension.</summary>
    public string OutputDirectory { get; init; } = "";

    /// <summary>The step model's options (loss, penalty, optimizer, optimization). Without an output or loss output, the loss goes on each model's first floating-point output.</summary>
    public StepModelOptions Step { get; init; } = new();

    /// <summary>Promote weight-holding Constant nodes (floating-point, 2 elements or more) to parameters first.</summary>
    public bool PromoteConstants { get; init; }

    /// <summary>Sizes of symbolic dimensions (<see cref="GradientCheckOptions.Dims"/>: fixed in the models, except the batch axis) and the gradient check's options; its <see cref="GradientCheckOptions.Gradient"/> is replaced by <see cref="Step"/>'s.</summary>
    public GradientCheckOptions Check { get; init; } = new();

    /// <summary>Check each model's gradients against central differences (<see cref="GradientCheckRun"/>); a failed check makes the model failed.</summary>
    public bool Gradcheck { get; init; }

    /// <summary>Checks the options and the inputs before any model is touched: inputs exist, outputs do not collide or overwrite an input, the output folder is usable.</summary>
    /// <exception cref="ImplicitRegException">Of kind <see cref="ErrorKind.BadInput"/>, naming the first bad property or input.</exception>
    public void Validate()
    {
        Step.Validate();
        if (Gradcheck)
        {
            Check.Validate();
        }
        if (string.IsNullOrWhiteSpace(OutputDirectory))
        {
            throw ImplicitRegException.BadParameter("ConvertOptions.OutputDirectory", "is empty; give the folder to write the converted models to");
        }
        if (File.Exists(OutputDirectory))
        {
            throw ImplicitRegException.BadInput($"ConvertOptions.OutputDirectory {OutputDirectory}: is a file; give a folder");
        }
        if (Inputs.Count == 0)
        {
            throw ImplicitRegException.BadParameter("ConvertOptions.Inputs", "is empty; give the .onnx models to convert");
        }
        Names();
    }

    /// <summary>Each input with the name its outputs get; a usage error when two would collide or an output would overwrite its input.</summary>
    internal List<(string Input, string Name)> Names()
    {
        var jobs = new List<(string, string)>();
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var input in Inputs)
        {
            if (Directory.Exists(input))
            {
                throw ImplicitRegException.BadInput($"{input}: is a directory; give the .onnx files inside it (e.g. {Path.Combine(input, "*.onnx")})");
            }
            if (!File.Exists(input))
            {
                throw ImplicitRegException.BadInput($"{input}: file not found; check the path");
            }
            var name = Path.GetFileNameWithoutExtension(input);
            if (names.TryGetValue(name, out var other))
            {
                throw ImplicitRegException.BadInput($"{input} and {other} would both be written as {name}{ModelConversion.TrainSuffix} in {OutputDirectory}; convert them into different ConvertOptions.OutputDirectory folders");
            }
            names[name] = input;
            var full = Path.GetFullPath(input);
            if (string.Equals(full, Path.GetFullPath(ModelConversion.OutputPath(OutputDirectory, name, ModelConversion.TrainSuffix)), StringComparison.Ordinal)
                || string.Equals(full, Path.GetFullPath(ModelConversion.OutputPath(OutputDirectory, name, ModelConversion.EvalSuffix)), StringComparison.Ordinal))
            {
                throw ImplicitRegException.BadInput($"{input}: converting it into {OutputDirectory} would overwrite it; choose another ConvertOptions.OutputDirectory");
            }
            jobs.Add((input, name));
        }
        return jobs;
    }
}

/// <summary>The outcome of one model of a conversion.</summary>
public enum ConversionStatus
{
    /// <summary>Converted (and, with <see cref="ConvertOptions.Gradcheck"/>, its gradients checked and passed).</summary>
    Ok,

    /// <summary>Operators on the path to the parameters have no gradient rule (<see cref="ConversionResult.UnsupportedOps"/>).</summary>
    Unsupported,

    /// <summary>Anything else went wrong (<see cref="ConversionResult.Message"/> says what); also a failed gradient check.</summary>
    Failed,
}

/// <summary>One model of a conversion.</summary>
/// <param name="Input">The input model file.</param>
/// <param name="Output">The training-step model written (null unless converted).</param>
/// <param name="Init">The initial-state model written (null unless converted).</param>
/// <param name="Eval">The evaluation model written (null unless converted).</param>
/// <param name="Status">Ok, unsupported or failed.</param>
/// <param name="UnsupportedOps">The op types without a gradient rule on the path to the parameters (domain-qualified outside ai.onnx), sorted; empty unless unsupported.</param>
/// <param name="UnsupportedNodes">The nodes behind <paramref name="UnsupportedOps"/>: domain, op type and node name of each.</param>
/// <param name="Message">One line: what was converted, or what is wrong. Errors name the API's parameters (<see cref="Error"/> has the exception).</param>
/// <param name="Parameters">Trained parameter elements.</param>
/// <param name="ParameterTensors">Trained parameter tensors.</param>
/// <param name="Nodes">Nodes of the step model.</param>
/// <param name="Seconds">Time taken for this model.</param>
/// <param name="Gradcheck">The gradient check's verdict (null without <see cref="ConvertOptions.Gradcheck"/> or when the model was not converted).</param>
/// <param name="Warnings">Warnings about the model that did not stop it (e.g. an IR version newer than the toolkit knows).</param>
/// <param name="Error">The error that made the model unsupported or failed, when there was one.</param>
public sealed record ConversionResult(string Input, string? Output, string? Init, string? Eval, ConversionStatus Status, IReadOnlyList<string> UnsupportedOps,
    IReadOnlyList<MissingRule> UnsupportedNodes, string Message, long Parameters, int ParameterTensors, int Nodes, double Seconds, GradientCheckResult? Gradcheck,
    IReadOnlyList<string> Warnings, Exception? Error);

/// <summary>The models of one conversion, in input order.</summary>
/// <param name="Models">One entry per input.</param>
public sealed record ConversionReport(IReadOnlyList<ConversionResult> Models)
{
    /// <summary>How many models have <paramref name="status"/>.</summary>
    public int Count(ConversionStatus status) => Models.Count(m => m.Status == status);

    /// <summary>Every model converted.</summary>
    public bool AllOk => Models.All(m => m.Status == ConversionStatus.Ok);
}

/// <summary>
/// Converts inference models for CI (<c>implicitreg convert</c>): per model, load; promote Constant weights
/// when asked; sort; prepare (<see cref="GradientCheckRun"/>'s preparation); find every op without a gradient
/// rule between the parameters and the outputs before any rewrite; build and write the step, initial-state
/// and evaluation models; and, when asked, check the gradients. A problem of one model becomes its result,
/// never an exception that stops the others; the same inputs and options give byte-identical files.
/// </summary>
public static class ModelConversion
{
    /// <summary>Suffixes of the files written for each model.</summary>
    public const string TrainSuffix = ".train.onnx", InitSuffix = ".init.onnx", EvalSuffix = ".eval.onnx";

    /// <summary>The path of one output file of model <paramref name="name"/>.</summary>
    public static string OutputPath(string outputDirectory, string name, string suffix) => Path.Combine(outputDirectory, name + suffix);

    /// <summary>Converts every input of <paramref name="options"/> into its output folder.</summary>
    /// <param name="options">Inputs, output folder and how to convert; validated first.</param>
    /// <param name="onModel">Called after each model, in input order (e.g. to show progress).</param>
    /// <exception cref="ImplicitRegException">Of kind <see cref="ErrorKind.BadInput"/>: bad options or inputs, found before any model is touched. Problems of a model are its result.</exception>
    public static ConversionReport Convert(ConvertOptions options, Action<ConversionResult>? onModel = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var jobs = options.Names();
        Directory.CreateDirectory(options.OutputDirectory);
        var results = new List<ConversionResult>();
        foreach (var (input, name) in jobs)
        {
            var result = ConvertOne(input, name, options);
            results.Add(result);
            onModel?.Invoke(result);
        }
        return new ConversionReport(results);
    }

    /// <summary>Converts one model; never throws for a problem of the model, which becomes the result's status and message.</summary>
    private static ConversionResult ConvertOne(string input, string name, ConvertOptions options)
    {
        var watch = Stopwatch.StartNew();
        var warnings = new List<string>();
        ConversionResult Result(ConversionStatus status, string message, IReadOnlyList<string>? ops = null, IReadOnlyList<MissingRule>? nodes = null, Exception? error = null) =>
            new(input, null, null, null, status, ops ?? [], nodes ?? [], message, 0, 0, 0, watch.Elapsed.TotalSeconds, null, warnings, error);
        Model model;
        try
        {
            model = WorkflowFiles.Load(input, warnings);
        }
        catch (ImplicitRegException e)
        {
            return Result(ConversionStatus.Failed, WorkflowFiles.OneLine(e.Message), error: e);
        }
        try
        {
            var promoted = GradientCheckRun.Prepare(model, options.PromoteConstants, options.Check.Dims);
            var gradient = GradientCheckRun.WithDefaultOutput(options.Step.Gradient, model);
            var outputs = CheckedOutputs(model, options.Step.Gradient);
            var unsupported = UnsupportedOperators.Find(model.Graph, outputs);
            if (unsupported.Count > 0)
            {
                return Result(ConversionStatus.Unsupported, $"no gradient rule for {string.Join(", ", unsupported)}; these operators cannot be trained",
                    unsupported, UnsupportedOperators.FindNodes(model.Graph, outputs));
            }
            var step = StepModelBuilder.Build(model, options.Step with { Gradient = gradient });
            var eval = EvalModelBuilder.Build(model, gradient, options.Step.ConstantEvaluator);
            var (train, init, evalPath) = (OutputPath(options.OutputDirectory, name, TrainSuffix), OutputPath(options.OutputDirectory, name, InitSuffix), OutputPath(options.OutputDirectory, name, EvalSuffix));
            var save = HasExternalData(model) ? new ModelSaveOptions { ExternalData = ExternalDataPolicy.AllExternal } : null;
            step.Model.Save(train, save);
            ModelExport.InitialStateModel(step).Save(init, save);
            eval.Save(evalPath, save);

            var check = options.Gradcheck ? GradientCheck.Run(model, options.Check with { Gradient = gradient }) : null;
            var elements = step.Parameters.Sum(p => step.InitialState[p].ElementCount);
            var message = $"{step.Parameters.Count} parameter tensors ({elements.ToString("N0", CultureInfo.InvariantCulture)} elements), loss on '{gradient.LossOutput ?? gradient.Output}'"
                + (promoted > 0 ? $", {promoted} Constant nodes promoted to parameters" : "");
            var status = ConversionStatus.Ok;
            if (check is not null)
            {
                message += string.Create(CultureInfo.InvariantCulture, $"; gradcheck {(check.Passed ? "passed" : "FAILED")}, worst relative error {check.MaxError:0.0e0} (threshold {check.Threshold:0.0e0})")
                    + (check.Unchecked.Count > 0 ? $", not smooth so unchecked: {string.Join(", ", check.Unchecked)}" : "");
                status = check.Passed ? ConversionStatus.Ok : ConversionStatus.Failed;
            }
            return new ConversionResult(input, train, init, evalPath, status, [], [], message, elements, step.Parameters.Count, step.StepNodes, watch.Elapsed.TotalSeconds, check, warnings, null);
        }
        catch (MissingGradientRuleException e)
        {
            return Result(ConversionStatus.Unsupported, WorkflowFiles.OneLine(e.Message), e.OpTypes, e.Missing, e);
        }
        catch (ImplicitRegException e)
        {
            return Result(ConversionStatus.Failed, WorkflowFiles.OneLine(e.Message), error: e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Writing the outputs into the output folder failed.
            return Result(ConversionStatus.Failed, WorkflowFiles.OneLine(e.Message), error: e);
        }
#pragma warning disable CA1031 // One model's unexpected failure must not stop the report on the others.
        catch (Exception e)
#pragma warning restore CA1031
        {
            return Result(ConversionStatus.Failed, $"unexpected {e.GetType().Name}: {WorkflowFiles.OneLine(e.Message)}", error: e);
        }
    }

    /// <summary>The outputs whose paths are checked for unsupported ops: the chosen one, or every floating-point output.</summary>
    private static List<Value> CheckedOutputs(Model model, GradientModelOptions options)
    {
        var chosen = options.LossOutput ?? options.Output;
        if (chosen is not null)
        {
            return [.. model.Graph.Outputs.Where(o => o.Name == chosen)];
        }
        return [.. UnsupportedOperators.TrainableOutputs(model.Graph)];
    }

    private static bool HasExternalData(Model model) =>
        model.Graph.SelfAndSubgraphs().Any(g => g.Initializers.Any(v => v.Initializer?.External is not null));
}
