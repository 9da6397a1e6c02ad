using Google.Protobuf;
using ImplicitRegOnnx.Onnx.Serialization;
using ImplicitRegOnnx.Onnx.Serialization.Proto;
using ImplicitRegOnnx.TestSupport;

namespace ImplicitRegOnnx.Onnx.Tests.Serialization;

/// <summary>
/// The external-data rules with real links in temporary folders (docs/architecture.md, Serialization):
/// reading refuses a side file that is a symbolic link, that leads out of the model's folder through a
/// linked folder, that has a second hard link or is not a regular file; writing never goes through a
/// link at a side file's name or at a folder on the way. The "secret" outside the model's folder has
/// the size of the real weights, so without the rules it would load as weights without complaint.
/// </summary>
public sealed class ExternalDataSecurityTests : IDisposable
{
    private static readonly string Source = TestPaths.Model("external_data/model.onnx");
    private static readonly string Weights = TestPaths.Model("external_data/weights.bin");

    private readonly TempDirectory _temp = new();

    public ExternalDataSecurityTests()
    {
        Directory.CreateDirectory(_temp.File("model"));
        Directory.CreateDirectory(_temp.File("outside"));
        File.Copy(Source, ModelPath);
        var secret = new byte[new FileInfo(Weights).Length];
        new Random(11).NextBytes(secret);
        File.WriteAllBytes(Secret, secret);
    }

    public void Dispose() => _temp.Dispose();

    private string ModelPath => _temp.File("model/model.onnx");

    private string Secret => _temp.File("outside/secret.bin");

    /// <summary>The tensor whose data comes first, the one a refusal names.</summary>
    private static string FirstExternalTensor() =>
        Model.Load(Source).Graph.Initializers.First(v => v.Initializer!.External is not null).Name;

    private static ImplicitRegException Refused(string path)
    {
        var error = Assert.Throws<ImplicitRegException>(() => Model.Load(path));
        Assert.StartsWith(path + ": tensor '" + FirstExternalTensor() + "': external data ", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
        return error;
    }

    /// <summary>The model file with every external location replaced.</summary>
    private void SetLocation(string location)
    {
        var proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(Source));
        foreach (var tensor in proto.Graph.Initializer.Where(t => t.ExternalData.Count > 0))
        {
            tensor.ExternalData.Single(e => e.Key == "location").Value = location;
        }
        File.WriteAllBytes(ModelPath, proto.ToByteArray());
    }

    [SkippableFact]
    public void ASymbolicLinkToAFileOutsideIsRefused()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "symbolic links without privileges, hard links and statx are Linux's");
        File.CreateSymbolicLink(_temp.File("model/weights.bin"), Secret);

        var error = Refused(ModelPath);
        Assert.Contains("'weights.bin' is a symbolic link (to '" + Secret + "')", error.Message, StringComparison.Ordinal);
        Assert.Contains("copy the data there", error.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void ARelativeSymbolicLinkLeadingOutIsRefused()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "Linux file system semantics");
        File.CreateSymbolicLink(_temp.File("model/weights.bin"), "../outside/secret.bin");

        Assert.Contains("is a symbolic link", Refused(ModelPath).Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void ASymbolicLinkThatStaysInsideIsRefusedToo()
    {
        // The decision documented in docs/architecture.md: a side file is a regular file of the model's
        // folder, never a link, even one whose target is inside (onnx's checker refuses it alike).
        Skip.IfNot(OperatingSystem.IsLinux(), "Linux file system semantics");
        File.Copy(Weights, _temp.File("model/real.bin"));
        File.CreateSymbolicLink(_temp.File("model/weights.bin"), "real.bin");

        Assert.Contains("'weights.bin' is a symbolic link (to 'real.bin')", Refused(ModelPath).Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void ADanglingSymbolicLinkIsRefusedAsALink()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "Linux file system semantics");
        File.CreateSymbolicLink(_temp.File("model/weights.bin"), "/nonexistent/weights.bin");

        Assert.Contains("is a symbolic link", Refused(ModelPath).Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void AHardLinkIsRefusedAndTheLinkedFileStaysAsItWas()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "hard-link counts come from statx");
        var before = File.ReadAllBytes(Secret);
        FileLinks.HardLink(Secret, _temp.File("model/weights.bin"));

        var error = Refused(ModelPath);
        Assert.Contains("'weights.bin' has 2 hard links", error.Message, StringComparison.Ordinal);
        Assert.Contains("cp, not ln", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(Secret));
    }

    [SkippableFact]
    public void ALinkedFolderThatLeadsOutIsRefused()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "Linux file system semantics");
        File.Copy(Weights, _temp.File("outside/weights.bin"));
        Directory.CreateSymbolicLink(_temp.File("model/sub"), "../outside");
        SetLocation("sub/weights.bin");

        var error = Refused(ModelPath);
        var outside = Path.Combine(ImplicitRegOnnx.Onnx.IO.SafePaths.RealPath(_temp.File("outside")), "weights.bin");
        Assert.Contains($"'sub/weights.bin' resolves through a symbolic link to '{outside}', outside the model's folder", error.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void ALinkedFolderThatStaysInsideLoadsTheSameWeights()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "Linux file system semantics");
        Directory.CreateDirectory(_temp.File("model/shards"));
        File.Copy(Weights, _temp.File("model/shards/weights.bin"));
        Directory.CreateSymbolicLink(_temp.File("model/sub"), "shards");
        SetLocation("sub/weights.bin");

        AssertSameWeights(Model.Load(ModelPath));
    }

    [SkippableFact]
    public void AModelFolderReachedThroughALinkLoads()
    {
        // The folder the caller names is trusted, links and all; only what lies below it is checked.
        Skip.IfNot(OperatingSystem.IsLinux(), "Linux file system semantics");
        File.Copy(Weights, _temp.File("model/weights.bin"));
        Directory.CreateSymbolicLink(_temp.File("alias"), _temp.File("model"));

        AssertSameWeights(Model.Load(_temp.File("alias/model.onnx")));
    }

    [SkippableFact]
    public void ANamedPipeIsRefusedWithoutBlocking()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "named pipes and statx are Linux's here");
        FileLinks.NamedPipe(_temp.File("model/weights.bin"));

        var load = Task.Run(() => Refused(ModelPath));
        Assert.True(load.Wait(TimeSpan.FromSeconds(30)), "loading blocked on the pipe");
        Assert.Contains("is not a regular file", load.Result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AFolderAtTheSideFileNameIsRefused()
    {
        Directory.CreateDirectory(_temp.File("model/weights.bin"));
        Assert.Contains("is a folder, not a file", Refused(ModelPath).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnEmptyBaseDirectoryIsRefused()
    {
        using var stream = File.OpenRead(Source);
        var error = Assert.Throws<ImplicitRegException>(() => Model.Load(stream, new ModelLoadOptions { BaseDirectory = "" }));
        Assert.Contains("ModelLoadOptions.BaseDirectory is empty", error.Message, StringComparison.Ordinal);
    }

    private static void AssertSameWeights(Model loaded)
    {
        var original = Model.Load(Source);
        foreach (var (expected, actual) in original.Graph.Initializers.Zip(loaded.Graph.Initializers))
        {
            Assert.True(expected.Initializer!.ContentEquals(actual.Initializer!), expected.Name);
        }
    }

    // ---- Writing: CVE-2025-51480 of the onnx package wrote side files through links. ----

    private string Victim
    {
        get
        {
            var path = _temp.File("outside/victim.bin");
            if (!File.Exists(path))
            {
                File.WriteAllText(path, "the victim's content");
            }
            return path;
        }
    }

    private static void AssertNoTemporaryFiles(string folder) =>
        Assert.DoesNotContain(Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories), f => f.EndsWith(".tmp", StringComparison.Ordinal));

    [SkippableFact]
    public void SavingNeverWritesThroughALinkAtTheSideFileName()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "symbolic links without privileges");
        var output = _temp.File("out");
        Directory.CreateDirectory(output);
        var victim = Victim;
        File.CreateSymbolicLink(Path.Combine(output, "model.onnx.data"), victim);

        var model = Model.Load(Source);
        var error = Assert.Throws<ImplicitRegException>(() =>
            model.Save(Path.Combine(output, "model.onnx"), new ModelSaveOptions { ExternalData = ExternalDataPolicy.AllExternal, ExternalThresholdBytes = 0 }));

        Assert.Equal(ErrorKind.BadInput, error.Kind);
        Assert.StartsWith($"tensor '{FirstExternalTensor()}': cannot write its external data: {Path.Combine(output, "model.onnx.data")} is a symbolic link (to {victim})", error.Message, StringComparison.Ordinal);
        Assert.Equal("the victim's content", File.ReadAllText(victim));
        Assert.False(File.Exists(Path.Combine(output, "model.onnx")));
        AssertNoTemporaryFiles(output);
    }

    [SkippableFact]
    public void SavingNeverWritesThroughALinkedFolderOnTheWay()
    {
        // Preserve keeps the model's own location, sub/weights.bin; in the output folder, sub leads out.
        Skip.IfNot(OperatingSystem.IsLinux(), "symbolic links without privileges");
        var output = _temp.File("out");
        Directory.CreateDirectory(output);
        Directory.CreateSymbolicLink(Path.Combine(output, "sub"), _temp.File("outside"));
        File.Copy(Weights, _temp.File("model/weights.bin"));
        var model = Model.Load(ModelPath);
        foreach (var value in model.Graph.Initializers.Where(v => v.Initializer!.External is not null))
        {
            value.Initializer!.External = value.Initializer.External! with { Location = "sub/weights.bin" };
        }
        var outsideBefore = Directory.GetFiles(_temp.File("outside")).Order(StringComparer.Ordinal).ToList();

        var error = Assert.Throws<ImplicitRegException>(() => model.Save(Path.Combine(output, "model.onnx")));

        Assert.Contains($"would be written through {Path.Combine(output, "sub")}, a symbolic link", error.Message, StringComparison.Ordinal);
        Assert.Equal(outsideBefore, Directory.GetFiles(_temp.File("outside")).Order(StringComparer.Ordinal));
        Assert.False(File.Exists(Path.Combine(output, "model.onnx")));
    }

    [SkippableFact]
    public void SavingNeverWritesThroughALinkAtTheModelFile()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "symbolic links without privileges");
        var output = _temp.File("out");
        Directory.CreateDirectory(output);
        var victim = Victim;
        File.CreateSymbolicLink(Path.Combine(output, "model.onnx"), victim);

        var error = Assert.Throws<ImplicitRegException>(() => Model.Load(Source).Save(Path.Combine(output, "model.onnx")));

        Assert.Contains("is a symbolic link", error.Message, StringComparison.Ordinal);
        Assert.Equal("the victim's content", File.ReadAllText(victim));
        AssertNoTemporaryFiles(output);
    }

    [SkippableFact]
    public void SavingOverAHardLinkReplacesTheNameAndLeavesTheOtherFileAlone()
    {
        // The rename gives the side file's name a new file; the victim, the link's other name, keeps its bytes.
        Skip.IfNot(OperatingSystem.IsLinux(), "hard links need link(2)");
        var output = _temp.File("out");
        Directory.CreateDirectory(output);
        var victim = Victim;
        FileLinks.HardLink(victim, Path.Combine(output, "model.onnx.data"));

        var model = Model.Load(Source);
        model.Save(Path.Combine(output, "model.onnx"), new ModelSaveOptions { ExternalData = ExternalDataPolicy.AllExternal, ExternalThresholdBytes = 0 });

        Assert.Equal("the victim's content", File.ReadAllText(victim));
        AssertSameWeights(Model.Load(Path.Combine(output, "model.onnx")));
    }

    [Fact]
    public void AnExternalFileNameOutsideTheModelsFolderIsABadParameter()
    {
        var error = Assert.Throws<ImplicitRegException>(() => Model.Load(Source).Save(_temp.File("out/model.onnx"),
            new ModelSaveOptions { ExternalData = ExternalDataPolicy.AllExternal, ExternalFileName = "../escape.data" }));

        Assert.Equal("ModelSaveOptions.ExternalFileName", error.Parameter);
        Assert.Equal("ModelSaveOptions.ExternalFileName '../escape.data' points outside the model's folder; give a path inside it", error.Message);
        Assert.False(File.Exists(_temp.File("escape.data")));
    }

    [Fact]
    public void AnExternalLocationNamingTheModelFileItselfIsRefused()
    {
        var model = Model.Load(Source);
        foreach (var value in model.Graph.Initializers.Where(v => v.Initializer!.External is not null))
        {
            value.Initializer!.External = value.Initializer.External! with { Location = "model.onnx" };
        }

        var error = Assert.Throws<ImplicitRegException>(() => model.Save(_temp.File("out/model.onnx")));
        Assert.Contains("external data location 'model.onnx' is the model file itself", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TwoSpellingsOfOneSideFileShareIt()
    {
        // w.bin and ./w.bin are one file: written once, with every payload at its own offset.
        var model = Model.Load(Source);
        var index = 0;
        foreach (var value in model.Graph.Initializers.Where(v => v.Initializer!.External is not null))
        {
            value.Initializer!.External = value.Initializer.External! with { Location = index++ % 2 == 0 ? "w.bin" : "./w.bin" };
        }
        model.Save(_temp.File("out/model.onnx"));

        Assert.Equal(["model.onnx", "w.bin"], Directory.GetFiles(_temp.File("out")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        AssertSameWeights(Model.Load(_temp.File("out/model.onnx")));
    }
}
