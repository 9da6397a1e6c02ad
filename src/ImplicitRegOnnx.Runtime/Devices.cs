using System.Globalization;
using Microsoft.ML.OnnxRuntime;

namespace ImplicitRegOnnx.Runtime;

/// <summary>Which execution provider a session runs on.</summary>
public enum DeviceKind
{
    /// <summary>CUDA when its execution provider loads, else the CPU.</summary>
    Auto,
    /// <summary>The CPU execution provider.</summary>
    Cpu,
    /// <summary>The CUDA execution provider; creating a session where it cannot load is an <see cref="ImplicitRegException"/> of kind <see cref="ErrorKind.Unsupported"/>.</summary>
    Cuda,
}

/// <summary>A device choice as given on the command line: auto, cpu, cuda or cuda:N.</summary>
public sealed record Device(DeviceKind Kind, int Index = 0)
{
    /// <summary>The CPU.</summary>
    public static Device Cpu { get; } = new(DeviceKind.Cpu);

    /// <summary>Parses "auto", "cpu", "cuda" or "cuda:N"; false (and <see cref="Cpu"/>) for anything else.</summary>
    public static bool TryParse(string text, out Device device)
    {
        device = Cpu;
        switch (text)
        {
            case "auto":
                device = new Device(DeviceKind.Auto);
                return true;
            case "cpu":
                return true;
            case "cuda":
                device = new Device(DeviceKind.Cuda);
                return true;
        }
        if (text.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(text.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out var index))
        {
            device = new Device(DeviceKind.Cuda, index);
            return true;
        }
        return false;
    }

    /// <summary>The text <see cref="TryParse"/> reads back: "auto", "cpu" or "cuda:N".</summary>
    public override string ToString() => Kind switch
    {
        DeviceKind.Cuda => $"cuda:{Index}",
        DeviceKind.Cpu => "cpu",
        _ => "auto",
    };
}

/// <summary>
/// What a session on a device needs: its options, a description of the device chosen ("cpu",
/// "cuda:0", or why auto fell back), and where training state should live: null for host memory,
/// else the device's memory so that weights never cross the bus per step.
/// </summary>
public sealed record DeviceSetup(SessionOptions Options, string Chosen, OrtMemoryInfo? StateMemory) : IDisposable
{
    /// <summary>Disposes the session options and the state memory info.</summary>
    public void Dispose()
    {
        Options.Dispose();
        StateMemory?.Dispose();
    }

    /// <summary>The options and the chosen device's description, without the state memory.</summary>
    public void Deconstruct(out SessionOptions options, out string chosen)
    {
        options = Options;
        chosen = Chosen;
    }
}

/// <summary>
/// Session options for a device. ONNX Runtime may list CUDA among its providers even where it cannot
/// run (CPU-only package, no GPU, missing CUDA or cuDNN libraries), so CUDA is detected by trying: the
/// provider is appended and a tiny session is created with it.
/// </summary>
public static class Devices
{
    /// <summary>Options for the device and the device actually chosen, with a one-line description.</summary>
    /// <exception cref="ImplicitRegException">Of kind <see cref="ErrorKind.Unsupported"/>: CUDA was asked for explicitly and cannot be used.</exception>
    public static DeviceSetup Create(Device device, int threads)
    {
        if (device.Kind == DeviceKind.Cpu)
        {
            return new DeviceSetup(StepSession.DefaultOptions(threads), "cpu", null);
        }
        var reason = TryCuda(device.Index);
        if (reason is null)
        {
            var options = StepSession.DefaultOptions(threads);
            options.AppendExecutionProvider_CUDA(device.Index);
            return new DeviceSetup(options, $"cuda:{device.Index}", CudaMemory(device.Index));
        }
        if (device.Kind == DeviceKind.Cuda)
        {
            throw ImplicitRegException.UnsupportedParameter("Devices.Create", $"{device}: the CUDA execution provider cannot be used ({reason}); it needs the GPU build (-p:OnnxRuntimeFlavor=Gpu) with CUDA 13 and cuDNN 9 libraries on the library path, or use Device.Cpu");
        }
        // On the CPU package the reason is simply that: say so briefly rather than repeat ONNX Runtime's entry-point message.
        var why = reason.StartsWith(CpuPackage, StringComparison.Ordinal) ? "CPU build: no CUDA provider" : $"CUDA unavailable: {reason}";
        return new DeviceSetup(StepSession.DefaultOptions(threads), $"cpu ({why})", null);
    }

    /// <summary>Memory of CUDA device <paramref name="index"/>, as ONNX Runtime's CUDA provider allocates it.</summary>
    public static OrtMemoryInfo CudaMemory(int index) =>
        new("Cuda", OrtAllocatorType.DeviceAllocator, index, OrtMemType.Default);

    /// <summary>Null when CUDA works, else why not (naming the missing library when that is the cause).</summary>
    public static string? TryCuda(int index)
    {
        var environment = OrtEnv.Instance();
        var level = environment.EnvLogLevel;
        // ONNX Runtime logs a failed provider load itself; the caller reports the reason once.
        environment.EnvLogLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL;
        try
        {
            using var options = new SessionOptions { LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL };
            options.AppendExecutionProvider_CUDA(index);
            using var session = new InferenceSession(TinyModel, options);
            return null;
        }
        catch (Exception e) when (e is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException or InvalidOperationException)
        {
            var line = e.Message.ReplaceLineEndings(" ").Trim();
            line = line.Length > 300 ? line[..300] + "..." : line;
            var problem = ProviderLibraryProblem();
            // Without the provider library ONNX Runtime's own message (a missing entry point) says nothing more.
            return problem is null ? line : problem.StartsWith(CpuPackage, StringComparison.Ordinal) ? problem : $"{line}; {problem}";
        }
        finally
        {
            environment.EnvLogLevel = level;
        }
    }

    private const string CudaProviderLibrary = "libonnxruntime_providers_cuda.so";

    private const string CpuPackage = "this build has no ";

    /// <summary>
    /// Why the CUDA provider library cannot load, found by loading it ourselves: the dynamic loader's
    /// message names the first missing dependency (e.g. libcublasLt.so.13), which ONNX Runtime's own
    /// exception leaves out. Null where the library loads or this is not Linux.
    /// </summary>
    private static string? ProviderLibraryProblem()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }
        var candidates = new[]
        {
            Path.Combine(AppContext.BaseDirectory, CudaProviderLibrary),
            Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", CudaProviderLibrary),
        };
        var path = Array.Find(candidates, File.Exists);
        if (path is null)
        {
            return $"{CpuPackage}{CudaProviderLibrary} (the CPU package)";
        }
        try
        {
            System.Runtime.InteropServices.NativeLibrary.Free(System.Runtime.InteropServices.NativeLibrary.Load(path));
            return null;
        }
        catch (DllNotFoundException e)
        {
            // The dynamic loader names the first dependency it cannot find, e.g.
            // "libcublasLt.so.13: cannot open shared object file: No such file or directory".
            var missing = System.Text.RegularExpressions.Regex.Matches(e.Message, @"([^\s/:']+\.so[.\d]*): cannot open shared object file")
                .Select(m => m.Groups[1].Value)
                .Where(name => name != CudaProviderLibrary)
                .Distinct(StringComparer.Ordinal)
                .ToList();
            return missing.Count > 0
                ? $"{CudaProviderLibrary} needs {string.Join(", ", missing)}, which the library path does not have"
                : $"{CudaProviderLibrary} cannot load: {e.Message.ReplaceLineEndings(" ")[..Math.Min(300, e.Message.Length)]}";
        }
    }

    /// <summary>A one-node model (Identity on a float scalar) to create a probe session.</summary>
    private static byte[] TinyModel { get; } = BuildTinyModel();

    private static byte[] BuildTinyModel()
    {
        var graph = new Onnx.Graph("probe");
        var x = graph.AddInput("x", new Onnx.TensorType(Onnx.ElementType.Float, Onnx.Shape.Scalar));
        var node = graph.Append(new Onnx.Node("", "Identity", [x], ["y"]));
        node.Output.Type = x.Type;
        graph.Outputs.Add(node.Output);
        var model = new Onnx.Model(graph) { IrVersion = 8 };
        model.Opsets.Add(new Onnx.OpsetId("", 17));
        return model.ToBytes();
    }
}
