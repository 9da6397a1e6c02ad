using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Onnx.Passes;
using ImplicitRegOnnx.Runtime.Verification;

namespace ImplicitRegOnnx.Runtime.Workflows;

/// <summary>Whether <see cref="ModelOptimization.OptimizeAndVerify"/> compares the optimized model with the original.</summary>
public enum VerifyMode
{
    /// <summary>Compare; when ONNX Runtime cannot run the original (or its inputs cannot be made up), skip the comparison with a warning.</summary>
    Auto,

    /// <summary>Compare; when the comparison cannot be made, the run fails.</summary>
    Always,

    /// <summary>Do not compare.</summary>
    Never,
}

/// <summary>The outcome of the comparison of the optimized model with the original.</summary>
public enum VerificationStatus
{
    /// <summary>Every output agrees within the tolerance.</summary>
    Passed,

    /// <summary>Some output differs (<see cref="OptimizeVerification.Differences"/>).</summary>
    Failed,

    /// <summary>Not compared (<see cref="VerifyMode.Never"/>, or it could not be: <see cref="OptimizeVerification.Reason"/>).</summary>
    Skipped,
}

/// <summary>What the comparison found.</summary>
/// <param name="Status">Passed, failed or skipped.</param>
/// <param name="Outputs">How many outputs were compared.</param>
/// <param name="Differences">One line per differing output.</param>
/// <param name="Reason">Why the comparison could not be made (null when it was, or was not asked for).</param>
public sealed record OptimizeVerification(VerificationStatus Status, int Outputs, IReadOnlyList<string> Differences, string? Reason);

/// <summary>What <see cref="ModelOptimization.OptimizeAndVerify"/> optimizes, where it writes, and how it compares.</summary>
public sealed record OptimizeOptions
{
    /// <summary>The .onnx model to optimize.</summary>
    public string Input { get; init; } = "";

    /// <summary>Where the optimized model is written (atomically); must differ from <see cref="Input"/>, which the comparison needs.</summary>
    public string Output { get; init; } = "";

    /// <summary>Whether to compare the two models under ONNX Runtime CPU on random inputs.</summary>
    public VerifyMode Verify { get; init; } = VerifyMode.Auto;

    /// <summary>How the random inputs are made (sizes of symbolic dims, whole shapes, fixed values, seed).</summary>
    public FeedOptions Feeds { get; init; } = new();

    /// <summary>Tolerance of floating-point outputs; null chooses it from the model's least precise floating-point type (<see cref="Runtime.Verification.Tolerance.ForModel(Model)"/>).</summary>
    public Tolerance? Tolerance { get; init; }

    /// <summary>Checks the paths and the tolerance.</summary>
    /// <exception cref="ImplicitRegException">Of kind <see cref="ErrorKind.BadInput"/>, naming the bad property.</exception>
    public void Validate()
    {
        if (Tolerance is { } t && (!(t.Relative >= 0) || !(t.Absolute >= 0)))
        {
            throw ImplicitRegException.BadParameter("OptimizeOptions.Tolerance", "must be non-negative numbers, e.g. relative 1e-4");
        }
        if (string.IsNullOrWhiteSpace(Output))
        {
            throw ImplicitRegException.BadParameter("OptimizeOptions.Output", "is empty; give the path of the .onnx file to write");
        }
        var fullOutput = Path.GetFullPath(Output);
        if (string.Equals(Path.GetFullPath(Input), fullOutput, StringComparison.Ordinal))
        {
            throw ImplicitRegException.BadInput($"{Output}: the output is the input model; write to another path (the original is needed to verify the result)");
        }
        if (Directory.Exists(fullOutput))
        {
            throw ImplicitRegException.BadInput($"{Output}: is a directory; give a file path such as {Path.Combine(Output, "model.opt.onnx")}");
        }
    }
}

/// <summary>The outcome of <see cref="ModelOptimization.OptimizeAndVerify"/>.</summary>
/// <param name="Input">The original model.</param>
/// <param name="Output">The optimized model written.</param>
/// <param name="Passes">Node and initializer counts before and after, and the changes of each pass.</param>
/// <param name="Verification">What the comparison found.</param>
/// <param name="Tolerance">The tolerance used (given, or chosen from the model).</param>
/// <param name="Warnings">Warnings (a model newer than the toolkit knows; a comparison skipped under <see cref="VerifyMode.Auto"/>).</param>
/// <param name="Error">
/// The error the run ends with, after the model was written: the outputs differ, or (<see cref="VerifyMode.Always"/>)
/// the comparison could not be made; of kind <see cref="ErrorKind.Failed"/>. Null when it succeeded.
/// </param>
public sealed record OptimizeResult(string Input, string Output, OptimizeReport Passes, OptimizeVerification Verification, Tolerance Tolerance,
    IReadOnlyList<string> Warnings, ImplicitRegException? Error)
{
    /// <summary>The model was optimized, and verified where asked.</summary>
    public bool Succeeded => Error is null;
}

/// <summary>
/// Optimize-and-verify (<c>implicitreg optimize</c>): runs the graph passes (<see cref="ModelOptimizer"/>:
/// topological sort, dead code, common subexpressions, constant folding with ONNX Runtime), writes the result
/// and compares both models' outputs under ONNX Runtime CPU on random inputs made from the original's declared inputs.
/// </summary>
public static class ModelOptimization
{
    /// <summary>Optimizes <see cref="OptimizeOptions.Input"/> into <see cref="OptimizeOptions.Output"/> and verifies it.</summary>
    /// <returns>The counts and the verification; a failed verification is <see cref="OptimizeResult.Error"/>, the file is kept for inspection.</returns>
    /// <exception cref="ImplicitRegException">Bad options or input (a model that cannot be loaded, feeds that name inputs the model lacks, an output that cannot be written).</exception>
    public static OptimizeResult OptimizeAndVerify(OptimizeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var input = options.Input;
        var output = options.Output;
        var warnings = new List<string>();
        var model = WorkflowFiles.Load(input, warnings);
        var tolerance = options.Tolerance ?? Tolerance.ForModel(model);

        // Feeds come from the original's declared inputs, before any pass touches the model.
        IReadOnlyList<Tensor>? feeds = null;
        string? cannotVerify = null;
        if (options.Verify != VerifyMode.Never)
        {
            try
            {
                feeds = RandomFeeds.Create(model, options.Feeds);
            }
            catch (ImplicitRegException e) when (e.Parameter is not null)
            {
                // The shapes or values name an input the model lacks, or give a wrong rank: a usage error.
                throw e.Within(input);
            }
            catch (ImplicitRegException e)
            {
                // An input cannot be filled with random data (unknown rank, unsupported type): no check.
                cannotVerify = e.Message;
            }
        }

        var passes = WorkflowFiles.About(input, () => ModelOptimizer.Optimize(model, OrtConstantEvaluator.Instance));
        WorkflowFiles.Save(model, output, "the optimized model");

        var verification = new OptimizeVerification(VerificationStatus.Skipped, 0, [], null);
        if (feeds is not null)
        {
            try
            {
                var result = EquivalenceCheck.Run(feeds, input, output, tolerance);
                verification = new OptimizeVerification(result.Equivalent ? VerificationStatus.Passed : VerificationStatus.Failed, result.OutputsCompared, result.Differences, null);
            }
            catch (ImplicitRegException e) when (e.Kind == ErrorKind.Failed)
            {
                // ONNX Runtime cannot run the original model: nothing to compare against.
                cannotVerify = e.Message;
            }
        }
        if (cannotVerify is not null)
        {
            verification = verification with { Reason = cannotVerify };
        }

        ImplicitRegException? error = null;
        if (verification.Status == VerificationStatus.Failed)
        {
            error = ImplicitRegException.Failed(
                $"{output}: the optimized model's outputs differ from {input}'s: {verification.Differences[0]}"
                + (verification.Differences.Count > 1 ? $" (and {verification.Differences.Count - 1} more)" : "")
                + (options.Tolerance is null && tolerance != new Tolerance()
                    ? "; the model computes in float16 or bfloat16, which ONNX Runtime CPU evaluates partly in float32 with rounding that depends on the graph's structure: if the differences are at that precision, rerun with a wider OptimizeOptions.Tolerance"
                    : "; the file was kept for inspection, please report this with the model"));
        }
        else if (cannotVerify is not null)
        {
            if (options.Verify == VerifyMode.Always)
            {
                error = ImplicitRegException.Failed($"{input}: cannot verify the optimized model: {cannotVerify}; rerun with OptimizeOptions.Verify Never to skip the check");
            }
            else
            {
                warnings.Add($"{input}: not verified: {cannotVerify}");
            }
        }
        return new OptimizeResult(input, output, passes, verification, tolerance, warnings, error);
    }
}
