using ImplicitRegOnnx.Onnx.Numpy;
using ImplicitRegOnnx.TestSupport;

namespace ImplicitRegOnnx.Onnx.Tests.Errors;

public sealed class ImplicitRegExceptionTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void BadParameterPutsTheParameterFirstAndKeepsIt()
    {
        var e = ImplicitRegException.BadParameter("OptimizerOptions.Momentum", "must be in [0, 1), got 1.5");
        Assert.Equal(ErrorKind.BadInput, e.Kind);
        Assert.Equal("OptimizerOptions.Momentum", e.Parameter);
        Assert.Equal("OptimizerOptions.Momentum must be in [0, 1), got 1.5", e.Message);
    }

    [Fact]
    public void WithinPrefixesWhereAndKeepsKindParameterAndCause()
    {
        var inner = ImplicitRegException.BadParameter("GradientModelOptions.Output", "y: the model has no output of that name");
        var outer = inner.Within("model.onnx");
        Assert.Equal("model.onnx: GradientModelOptions.Output y: the model has no output of that name", outer.Message);
        Assert.Equal(ErrorKind.BadInput, outer.Kind);
        Assert.Equal("GradientModelOptions.Output", outer.Parameter);
        Assert.Same(inner, outer.InnerException);
        Assert.Equal(ErrorKind.Unsupported, ImplicitRegException.Unsupported("no rule").Within("g").Kind);
    }

    [Fact]
    public void MissingUserFilesAreBadInputNamingTheFile()
    {
        var missing = _temp.File("nosuch.npz");
        foreach (var read in new Action[] { () => NpzArchive.Read(missing), () => NpyFormat.Read(missing), () => Model.Load(missing), () => UserFiles.OpenRead(missing).Dispose() })
        {
            var e = Assert.Throws<ImplicitRegException>(read);
            Assert.Equal(ErrorKind.BadInput, e.Kind);
            Assert.StartsWith(missing + ": file not found; check the path", e.Message, StringComparison.Ordinal);
        }
        var folder = _temp.File("sub");
        Directory.CreateDirectory(folder);
        var inFolder = Path.Combine(folder, "nosuch", "x.npy");
        Assert.Contains("folder not found", Assert.Throws<ImplicitRegException>(() => NpyFormat.Read(inFolder)).Message, StringComparison.Ordinal);
        var directory = Assert.Throws<ImplicitRegException>(() => NpzArchive.Read(folder));
        Assert.Equal(ErrorKind.BadInput, directory.Kind);
        Assert.StartsWith(folder + ": ", directory.Message, StringComparison.Ordinal);
    }
}
