using ImplicitRegOnnx.Runtime;

namespace ImplicitRegOnnx.Runtime.Tests;

public sealed class DevicesTests
{
    private static bool ProviderShipped =>
        File.Exists(Path.Combine(AppContext.BaseDirectory, "libonnxruntime_providers_cuda.so"))
        || File.Exists(Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libonnxruntime_providers_cuda.so"));

    [Fact]
    public void Auto_falls_back_to_the_cpu_and_says_briefly_why()
    {
        using var setup = Devices.Create(new Device(DeviceKind.Auto), threads: 1);
        if (Devices.TryCuda(0) is null)
        {
            Assert.Equal("cuda:0", setup.Chosen);
            return;
        }
        Assert.StartsWith("cpu (", setup.Chosen, StringComparison.Ordinal);
        if (OperatingSystem.IsLinux() && !ProviderShipped)
        {
            // The CPU package: one short reason, not ONNX Runtime's missing-entry-point message.
            Assert.Equal("cpu (CPU build: no CUDA provider)", setup.Chosen);
            Assert.Equal("this build has no libonnxruntime_providers_cuda.so (the CPU package)", Devices.TryCuda(0));
        }
        else
        {
            Assert.StartsWith("cpu (CUDA unavailable: ", setup.Chosen, StringComparison.Ordinal);
        }
    }
}
