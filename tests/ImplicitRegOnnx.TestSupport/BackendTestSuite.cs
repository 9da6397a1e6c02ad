using System.Globalization;
using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Onnx.Serialization;

namespace ImplicitRegOnnx.TestSupport;

/// <summary>
/// ONNX's own backend tests as Debian's libonnx-testdata installs them: one folder per test with
/// model.onnx and test_data_set_N/{input,output}_K.pb (TensorProtos). Tests that use them skip when
/// the package is absent, and fail instead when IMPLICITREG_REQUIRE_TESTDATA=1 (as CI sets).
/// </summary>
public static class BackendTestSuite
{
    public const string Root = "/usr/share/libonnx-testdata/data";

    /// <summary>Missing test data must fail the test rather than skip it.</summary>
    public static bool Required => Environment.GetEnvironmentVariable("IMPLICITREG_REQUIRE_TESTDATA") == "1";

    public static string MissingMessage => $"{Root} is missing (apt-get install libonnx-testdata)";

    /// <summary>The folder of a test, e.g. "node/test_adam", or null when it is not installed.</summary>
    public static string? Folder(string test)
    {
        var path = Path.Combine(Root, test);
        return File.Exists(Path.Combine(path, "model.onnx")) ? path : null;
    }

    /// <summary>input_K.pb (role "input") or output_K.pb (role "output") of test_data_set_0, in K order.</summary>
    public static IReadOnlyList<Tensor> DataSet(string folder, string role) =>
        [.. Directory.EnumerateFiles(Path.Combine(folder, "test_data_set_0"), role + "_*.pb")
            .OrderBy(p => int.Parse(Path.GetFileNameWithoutExtension(p)[(role.Length + 1)..], CultureInfo.InvariantCulture))
            .Select(TensorFile.Load)];
}
