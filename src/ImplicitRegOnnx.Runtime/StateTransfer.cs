using ImplicitRegOnnx.Onnx;
using Microsoft.ML.OnnxRuntime;

namespace ImplicitRegOnnx.Runtime;

/// <summary>
/// Moves training state between the host and an execution provider's memory with ONNX Runtime's own
/// copy machinery: a session of one Identity node per state value, run with IoBinding whose inputs
/// lie on one side and whose outputs are bound to the other. This needs nothing beyond the provider
/// the step session already uses, and it is used only when state is loaded or read (start, resume,
/// checkpoints, export), never per step.
/// </summary>
internal sealed class StateTransfer : IDisposable
{
    private readonly InferenceSession _session;
    private readonly OrtIoBinding _binding;
    private readonly RunOptions _runOptions = new();
    private readonly OrtMemoryInfo _device;
    private readonly IReadOnlyList<string> _names;

    public StateTransfer(IReadOnlyDictionary<string, Onnx.Tensor> shapes, SessionOptions options, OrtMemoryInfo device)
    {
        // A copy of our own, so that the caller may dispose theirs.
        _device = new OrtMemoryInfo(device.Name, device.GetAllocatorType(), device.Id, device.GetMemoryType());
        _names = [.. shapes.Keys];
        _session = new InferenceSession(IdentityModel(shapes, _names), options);
        _binding = _session.CreateIoBinding();
    }

    /// <summary>Copies host values into new buffers in the device's memory.</summary>
    public Dictionary<string, OrtValue> ToDevice(IReadOnlyDictionary<string, OrtValue> host) => Copy(host, _device);

    /// <summary>Copies device values into new host buffers.</summary>
    public Dictionary<string, OrtValue> ToHost(IReadOnlyDictionary<string, OrtValue> device) => Copy(device, OrtMemoryInfo.DefaultInstance);

    private Dictionary<string, OrtValue> Copy(IReadOnlyDictionary<string, OrtValue> from, OrtMemoryInfo to)
    {
        _binding.ClearBoundInputs();
        _binding.ClearBoundOutputs();
        for (var i = 0; i < _names.Count; i++)
        {
            _binding.BindInput(InputName(i), from[_names[i]]);
            _binding.BindOutputToDevice(OutputName(i), to);
        }
        _session.RunWithBinding(_runOptions, _binding);
        // The returned values are ours from here on; disposing the collection would release them.
        var outputs = _binding.GetOutputValues();
        var copies = new Dictionary<string, OrtValue>(StringComparer.Ordinal);
        var index = 0;
        foreach (var value in outputs)
        {
            copies[_names[index++]] = value;
        }
        return copies;
    }

    // Positional names: state names may contain characters that are awkward elsewhere, and the
    // transfer model never leaves this class.
    private static string InputName(int i) => "in" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static string OutputName(int i) => "out" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static byte[] IdentityModel(IReadOnlyDictionary<string, Onnx.Tensor> shapes, IReadOnlyList<string> names)
    {
        var graph = new Graph("state_transfer");
        for (var i = 0; i < names.Count; i++)
        {
            var tensor = shapes[names[i]];
            var type = new TensorType(tensor.ElementType, new Shape(tensor.Dims));
            var input = graph.AddInput(InputName(i), type);
            var node = graph.Append(new Node("", "Identity", [input], [OutputName(i)]));
            node.Output.Type = type;
            graph.Outputs.Add(node.Output);
        }
        var model = new Model(graph) { IrVersion = 8 };
        model.Opsets.Add(new OpsetId("", 17));
        return model.ToBytes();
    }

    public void Dispose()
    {
        _device.Dispose();
        _binding.Dispose();
        _runOptions.Dispose();
        _session.Dispose();
    }
}
