using System.Text;
using ImplicitRegOnnx.Onnx;
using Microsoft.ML.OnnxRuntime;
using Tensor = ImplicitRegOnnx.Onnx.Tensor;
using TensorElementType = Microsoft.ML.OnnxRuntime.Tensors.TensorElementType;

namespace ImplicitRegOnnx.Runtime.Verification;

/// <summary>One output of a run: a tensor, a sequence of outputs, or a kind this helper does not read.</summary>
public sealed record RunOutput(string Name, Tensor? Tensor, IReadOnlyList<RunOutput>? Sequence, string? Unsupported = null);

/// <summary>
/// Runs a model once on ONNX Runtime's CPU provider with host tensors in and host tensors out.
/// Graph optimizations are off so the model runs as written (a fair baseline for comparisons).
/// </summary>
internal sealed class ModelRunner : IDisposable
{
    private readonly InferenceSession _session;

    private ModelRunner(InferenceSession session) => _session = session;

    /// <summary>
    /// Loads a model file (side files for external data are found next to it). ONNX Runtime's graph
    /// optimizations are off by default, so a comparison sees the model as written; computations
    /// that only want the numbers fast may turn them on.
    /// </summary>
    public static ModelRunner FromFile(string path, GraphOptimizationLevel optimization = GraphOptimizationLevel.ORT_DISABLE_ALL) =>
        Create(options => new InferenceSession(path, options), optimization);

    /// <summary>Loads a serialized model (all payloads must be inline).</summary>
    public static ModelRunner FromBytes(byte[] model, GraphOptimizationLevel optimization = GraphOptimizationLevel.ORT_DISABLE_ALL) =>
        Create(options => new InferenceSession(model, options), optimization);

    /// <summary>Loads a serialized model with the caller's session options (e.g. an execution provider).</summary>
    public static ModelRunner FromBytes(byte[] model, SessionOptions options)
    {
        try
        {
            return new ModelRunner(new InferenceSession(model, options));
        }
        catch (OnnxRuntimeException e)
        {
            throw ImplicitRegException.Failed("ONNX Runtime cannot load the model: " + OneLine(e.Message), e);
        }
    }

    private static ModelRunner Create(Func<SessionOptions, InferenceSession> open, GraphOptimizationLevel optimization)
    {
        using var options = new SessionOptions
        {
            GraphOptimizationLevel = optimization,
            // Errors reach the caller as exceptions; ORT's own log lines would only repeat them on stderr.
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL,
        };
        try
        {
            return new ModelRunner(open(options));
        }
        catch (OnnxRuntimeException e)
        {
            throw ImplicitRegException.Failed("ONNX Runtime cannot load the model: " + OneLine(e.Message), e);
        }
    }

    /// <summary>The model's input names, in order.</summary>
    public IReadOnlyList<string> InputNames => [.. _session.InputNames];

    /// <summary>The model's output names, in order.</summary>
    public IReadOnlyList<string> OutputNames => [.. _session.OutputNames];

    /// <summary>Runs the model on the given feeds (matched to inputs by tensor name) and returns every output.</summary>
    public IReadOnlyList<RunOutput> Run(IReadOnlyList<Tensor> feeds)
    {
        var inputs = new Dictionary<string, OrtValue>(StringComparer.Ordinal);
        try
        {
            foreach (var feed in feeds)
            {
                inputs[feed.Name] = OrtTensors.ToOrtValue(feed);
            }
            using var runOptions = new RunOptions();
            IDisposableReadOnlyCollection<OrtValue> results;
            try
            {
                results = _session.Run(runOptions, inputs, _session.OutputNames);
            }
            catch (OnnxRuntimeException e)
            {
                throw ImplicitRegException.Failed("ONNX Runtime failed to run the model: " + OneLine(e.Message), e);
            }
            using (results)
            {
                var names = _session.OutputNames;
                return [.. results.Select((value, i) => Read(names[i], value))];
            }
        }
        finally
        {
            foreach (var value in inputs.Values)
            {
                value.Dispose();
            }
        }
    }

    private static RunOutput Read(string name, OrtValue value)
    {
        switch (value.OnnxType)
        {
            case OnnxValueType.ONNX_TYPE_TENSOR:
                var type = (ElementType)(int)value.GetTensorTypeAndShape().ElementDataType;
                return OrtTensors.Supports(type)
                    ? new RunOutput(name, OrtTensors.ToTensor(value, name), null)
                    : new RunOutput(name, null, null, $"tensor of {type.Name()}");
            case OnnxValueType.ONNX_TYPE_SEQUENCE:
                var count = value.GetValueCount();
                var items = new List<RunOutput>(count);
                for (var i = 0; i < count; i++)
                {
                    using var item = value.GetValue(i, OrtAllocator.DefaultInstance);
                    items.Add(Read($"{name}[{i}]", item));
                }
                return new RunOutput(name, null, items);
            default:
                return new RunOutput(name, null, null, value.OnnxType.ToString());
        }
    }

    internal static string OneLine(string message)
    {
        var line = message.ReplaceLineEndings(" ").Trim();
        return line.Length > 400 ? line[..400] + "..." : line;
    }

    /// <summary>Disposes the session.</summary>
    public void Dispose() => _session.Dispose();
}
