using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Onnx.Passes;
using Microsoft.ML.OnnxRuntime;

namespace ImplicitRegOnnx.Runtime;

/// <summary>
/// Evaluates constant subgraphs for constant folding in ONNX Runtime on the CPU (one thread, graph
/// optimizations off, so the result is each operator's own kernel). Use it with the optimizer:
/// <code>ModelOptimizer.Optimize(model, OrtConstantEvaluator.Instance);</code>
/// or give it to <c>StepModelOptions.ConstantEvaluator</c>. A model ONNX Runtime rejects or fails on gives
/// null (the pass then retries node by node); so does every call once the native library turns out to be
/// missing from the process, so that folding falls back to what needs no evaluation.
/// </summary>
public sealed class OrtConstantEvaluator : IConstantEvaluator
{
    private volatile bool _runtimeUnavailable;

    private OrtConstantEvaluator()
    {
    }

    /// <summary>The evaluator (it holds no session between calls, so one instance serves every caller).</summary>
    public static OrtConstantEvaluator Instance { get; } = new();

    /// <inheritdoc/>
    public IReadOnlyList<Tensor?>? Evaluate(Model model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (_runtimeUnavailable)
        {
            return null;
        }
        byte[] bytes;
        try
        {
            bytes = model.ToBytes();
        }
        catch (Exception e) when (e is ImplicitRegException or InvalidOperationException or NotSupportedException)
        {
            return null;
        }
        try
        {
            using var options = new SessionOptions
            {
                LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL,
                GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL,
                IntraOpNumThreads = 1,
                InterOpNumThreads = 1,
            };
            using var session = new InferenceSession(bytes, options);
            using var runOptions = new RunOptions();
            var names = model.Graph.Outputs.Select(o => o.Name).ToArray();
            using var values = session.Run(runOptions, Array.Empty<string>(), Array.Empty<OrtValue>(), names);
            var results = new Tensor?[names.Length];
            var index = 0;
            foreach (var value in values)
            {
                results[index] = value.IsTensor && OrtTensors.Supports((ElementType)(int)value.GetTensorTypeAndShape().ElementDataType)
                    ? OrtTensors.ToTensor(value, names[index])
                    : null;
                index++;
            }
            return results;
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or EntryPointNotFoundException or BadImageFormatException)
        {
            // No native ONNX Runtime next to this process: nothing can be evaluated.
            _runtimeUnavailable = true;
            return null;
        }
        catch (OnnxRuntimeException)
        {
            // An operator, type or attribute ONNX Runtime does not take: the pass retries node by node.
            return null;
        }
    }
}
