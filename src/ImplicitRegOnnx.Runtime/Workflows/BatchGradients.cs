using System.Diagnostics;
using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Onnx.Numpy;
using ImplicitRegOnnx.Training;

namespace ImplicitRegOnnx.Runtime.Workflows;

/// <summary>What <see cref="BatchGradients.Compute"/> differentiates, on which batch, and where it writes.</summary>
public sealed record BatchGradientOptions
{
    /// <summary>The .onnx inference model.</summary>
    public string Model { get; init; } = "";

    /// <summary>BATCH.npz: one array per model input, named as the input, plus "target".</summary>
    public string Data { get; init; } = "";

    /// <summary>RESULT.npz to write: loss, penalty, objective (float64 scalars), grad/P and objective_grad/P per parameter.</summary>
    public string Output { get; init; } = "";

    /// <summary>Loss, penalty and trainable parameters.</summary>
    public GradientModelOptions Gradient { get; init; } = new();

    /// <summary>Where ONNX Runtime runs the gradient model; null: the CPU.</summary>
    public Device? Device { get; init; }
}

/// <summary>What <see cref="BatchGradients.Compute"/> found and wrote.</summary>
/// <param name="Model">The inference model.</param>
/// <param name="Output">The .npz file written.</param>
/// <param name="Loss">C of the batch.</param>
/// <param name="Penalty">R of the batch.</param>
/// <param name="Objective">C + c·R.</param>
/// <param name="Parameters">Trainable parameter tensors.</param>
/// <param name="BuildSeconds">Time taken to build the gradient model.</param>
/// <param name="Warnings">Warnings about the model (an IR version newer than the toolkit knows).</param>
public sealed record BatchGradientResult(string Model, string Output, double Loss, double Penalty, double Objective, int Parameters, double BuildSeconds, IReadOnlyList<string> Warnings);

/// <summary>
/// The loss, the penalty and both gradients (∇C and ∇(C + c·R)) of one batch (<c>implicitreg grad</c>): the
/// gradient model (<see cref="GradientModelBuilder"/>) run by ONNX Runtime (<see cref="GradientEvaluator"/>),
/// the results written to an .npz file.
/// </summary>
public static class BatchGradients
{
    /// <summary>Computes and writes the gradients of <see cref="BatchGradientOptions.Data"/>.</summary>
    /// <exception cref="ImplicitRegException">
    /// Bad options, a model or batch that cannot be read or does not fit (the message names the file), a model that
    /// cannot be differentiated, a loss or penalty that is not finite (<see cref="ErrorKind.Failed"/>), an output that cannot be written.
    /// </exception>
    public static BatchGradientResult Compute(BatchGradientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Gradient.Validate();
        var warnings = new List<string>();
        var inference = WorkflowFiles.Load(options.Model, warnings);
        var batch = NpzArchive.Read(options.Data);
        var watch = Stopwatch.StartNew();
        var gradient = WorkflowFiles.About(options.Model, () => GradientModelBuilder.Build(inference, options.Gradient));
        var buildSeconds = watch.Elapsed.TotalSeconds;
        IReadOnlyDictionary<string, Tensor> outputs;
        try
        {
            outputs = GradientEvaluator.Evaluate(gradient, batch, options.Gradient.Penalty.Microbatches, options.Data, options.Device);
        }
        catch (ImplicitRegException e) when (e.Kind == ErrorKind.Failed)
        {
            // ONNX Runtime refused the gradient graph of the model; errors of the batch name the batch file already.
            throw e.Within(options.Model);
        }
        // Scalars are written in float64, like the reference cases computed by PyTorch.
        var results = outputs.Select(o => new KeyValuePair<string, Tensor>(o.Key,
            o.Value.Dims.Length == 0 ? Tensor.Scalar(o.Value.ToDoubles()[0], o.Key) : o.Value.WithName(o.Key))).ToList();
        var scalars = results.Where(r => r.Value.Dims.Length == 0).ToDictionary(r => r.Key, r => r.Value.ToDoubles()[0], StringComparer.Ordinal);
        if (scalars.Values.Any(v => !double.IsFinite(v)))
        {
            throw ImplicitRegException.Failed($"{options.Model}: the loss or penalty is not finite (loss {scalars["loss"]}, penalty {scalars["penalty"]}); check the batch values and the coefficient");
        }
        try
        {
            NpzArchive.Write(options.Output, results);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw ImplicitRegException.BadInput($"{options.Output}: cannot write the result ({WorkflowFiles.OneLine(e.Message)})", e);
        }
        return new BatchGradientResult(options.Model, options.Output, scalars["loss"], scalars["penalty"], scalars["objective"], gradient.Parameters.Count, buildSeconds, warnings);
    }
}
