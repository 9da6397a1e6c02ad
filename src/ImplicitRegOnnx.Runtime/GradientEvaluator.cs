using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Runtime.Verification;
using ImplicitRegOnnx.Training;

namespace ImplicitRegOnnx.Runtime;

/// <summary>Runs a <see cref="GradientModel"/> on one batch with ONNX Runtime CPU.</summary>
public static class GradientEvaluator
{
    /// <summary>
    /// Checks the batch against the model (names, types, shapes, divisibility by the microbatch count),
    /// runs it and returns every output by name: loss, penalty, objective, grad/P, objective_grad/P.
    /// </summary>
    public static IReadOnlyDictionary<string, Tensor> Evaluate(GradientModel gradient, IReadOnlyDictionary<string, Tensor> batch, int microbatches, string batchName = "batch", Device? device = null)
    {
        BatchCheck.Validate(gradient.Model, batch, microbatches, batchName);
        using var runner = device is null || device.Kind == DeviceKind.Cpu
            ? ModelRunner.FromBytes(gradient.Model.ToBytes())
            : FromDevice(gradient.Model.ToBytes(), device);
        var outputs = runner.Run([.. gradient.Model.Graph.RequiredInputs.Select(v => batch[v.Name].WithName(v.Name))]);
        return outputs.ToDictionary(o => o.Name, o => o.Tensor!, StringComparer.Ordinal);
    }

    private static ModelRunner FromDevice(byte[] model, Device device)
    {
        using var setup = Devices.Create(device, threads: 0);
        return ModelRunner.FromBytes(model, setup.Options);
    }
}
