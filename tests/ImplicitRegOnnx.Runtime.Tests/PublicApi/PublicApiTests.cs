using System.Reflection;
using ImplicitRegOnnx.Autodiff;
using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.TestSupport;
using ImplicitRegOnnx.Training;

namespace ImplicitRegOnnx.Runtime.Tests.PublicApi;

/// <summary>
/// The public surface of the four library assemblies (what the ImplicitRegOnnx package gives a C# app) is
/// checked in as <c>tests/ImplicitRegOnnx.Runtime.Tests/PublicApi/ASSEMBLY.txt</c>, so every change to it is
/// a visible diff in review. After an intended change, run the tests with IMPLICITREG_ACCEPT_API=1 to rewrite
/// the listings (or copy the <c>.received.txt</c> a failing run leaves next to them) and commit the diff.
/// </summary>
public class PublicApiTests
{
    public static TheoryData<string> Assemblies() =>
        ["ImplicitRegOnnx.Onnx", "ImplicitRegOnnx.Autodiff", "ImplicitRegOnnx.Training", "ImplicitRegOnnx.Runtime"];

    private static Assembly Load(string name) => name switch
    {
        "ImplicitRegOnnx.Onnx" => typeof(Model).Assembly,
        "ImplicitRegOnnx.Autodiff" => typeof(ReverseMode).Assembly,
        "ImplicitRegOnnx.Training" => typeof(StepModelBuilder).Assembly,
        _ => typeof(StepSession).Assembly,
    };

    private static string Folder => Path.Combine(TestPaths.RepositoryRoot, "tests", "ImplicitRegOnnx.Runtime.Tests", "PublicApi");

    [Theory]
    [MemberData(nameof(Assemblies))]
    public void PublicSurfaceMatchesTheCheckedInListing(string assembly)
    {
        var actual = PublicApiListing.Render(Load(assembly));
        var approvedPath = Path.Combine(Folder, assembly + ".txt");
        var receivedPath = Path.Combine(Folder, assembly + ".received.txt");
        if (Environment.GetEnvironmentVariable("IMPLICITREG_ACCEPT_API") == "1")
        {
            File.WriteAllText(approvedPath, actual);
            File.Delete(receivedPath);
            return;
        }
        var approved = File.Exists(approvedPath) ? File.ReadAllText(approvedPath).ReplaceLineEndings("\n") : "";
        if (approved == actual)
        {
            File.Delete(receivedPath);
            return;
        }
        File.WriteAllText(receivedPath, actual);
        var approvedLines = approved.Split('\n').ToHashSet(StringComparer.Ordinal);
        var actualLines = actual.Split('\n').ToHashSet(StringComparer.Ordinal);
        var added = actual.Split('\n').Where(l => !approvedLines.Contains(l)).Take(8).Select(l => "+ " + l);
        var removed = approved.Split('\n').Where(l => !actualLines.Contains(l)).Take(8).Select(l => "- " + l);
        Assert.Fail($"the public API of {assembly} differs from {approvedPath} (the new listing is in {receivedPath}; "
            + "if the change is intended, rerun with IMPLICITREG_ACCEPT_API=1 and commit the diff):\n"
            + string.Join("\n", removed.Concat(added)));
    }

    [Fact]
    public void ListingShowsSignaturesWithNamesDefaultsAndNullability()
    {
        // The listing must make parameter renames, new defaults and nullability changes visible.
        var lines = PublicApiListing.Render(typeof(Model).Assembly).Split('\n');
        var model = Array.IndexOf(lines, "sealed class ImplicitRegOnnx.Onnx.Model");
        Assert.True(model >= 0, "the listing has no header for ImplicitRegOnnx.Onnx.Model");
        var members = lines.Skip(model + 1).TakeWhile(l => l.StartsWith("    ", StringComparison.Ordinal)).ToList();
        Assert.Contains("    static Load(string path, ModelLoadOptions? options = null) : Model", members);
    }
}
