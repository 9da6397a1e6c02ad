namespace ImplicitRegOnnx.TestSupport;

/// <summary>Locates the repository's models/ folder and the optional ../shared folder from a test run.</summary>
public static class TestPaths
{
    private static readonly Lazy<string> Root = new(FindRoot);

    /// <summary>The repository root (the folder holding ImplicitRegOnnx.sln).</summary>
    public static string RepositoryRoot => Root.Value;

    public static string Models => Path.Combine(RepositoryRoot, "models");

    public static string Model(string name) => Path.Combine(Models, name);

    /// <summary>A file of tests/BertLike (the BERT-like reference of tools/make_bert_like.py).</summary>
    public static string BertLike(string name) => Path.Combine(RepositoryRoot, "tests", "BertLike", name);

    /// <summary>A model of tests/RealModels (third-party exporters; see its README).</summary>
    public static string RealModel(string name) => Path.Combine(RepositoryRoot, "tests", "RealModels", name);

    /// <summary>../shared next to the repository, when present (it is on the team's machines and in CI).</summary>
    public static string? Shared
    {
        get
        {
            var path = Path.GetFullPath(Path.Combine(RepositoryRoot, "..", "shared"));
            return Directory.Exists(path) ? path : null;
        }
    }

    /// <summary>Every committed .onnx model under models/, relative to models/.</summary>
    public static IEnumerable<string> CommittedModels() =>
        Directory.EnumerateFiles(Models, "*.onnx", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(Models, p))
            .Order(StringComparer.Ordinal);

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "ImplicitRegOnnx.sln")))
        {
            dir = dir.Parent;
        }
        if (dir is not null)
        {
            return dir.FullName;
        }
        var built = typeof(TestPaths).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false)
            .OfType<System.Reflection.AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "RepositoryRoot")?.Value;
        return built is not null && File.Exists(Path.Combine(built, "ImplicitRegOnnx.sln"))
            ? built.TrimEnd(Path.DirectorySeparatorChar)
            : throw new InvalidOperationException("Cannot find ImplicitRegOnnx.sln above " + AppContext.BaseDirectory);
    }
}

/// <summary>A temporary folder deleted when disposed.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "implicitreg-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
