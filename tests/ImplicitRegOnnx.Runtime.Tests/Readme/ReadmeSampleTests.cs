using System.Text.RegularExpressions;
using ImplicitRegOnnx.TestSupport;

namespace ImplicitRegOnnx.Runtime.Tests.Readme;

/// <summary>
/// The README's C# training sample is this file's <see cref="TrainingSample"/>, word for word (the
/// test below compares them), so the sample compiles with the project and runs in the tests.
/// It changes the working folder and Console.Out, so it runs alone.
/// </summary>
[Collection(ProcessStateCollection.Name)]
public partial class ReadmeSampleTests
{
    [Fact]
    public void TheTrainingSampleRunsFromTheRepositoryRoot()
    {
        var previous = Directory.GetCurrentDirectory();
        Directory.SetCurrentDirectory(TestPaths.RepositoryRoot);
        using var temp = new TempDirectory();
        try
        {
            var output = new StringWriter();
            Console.SetOut(output);
            TrainingSample();
            Assert.Contains("epoch 9: test accuracy", output.ToString(), StringComparison.Ordinal);
            Assert.True(File.Exists("trained.onnx"));
            File.Move("trained.onnx", temp.File("trained.onnx"));
        }
        finally
        {
            Console.SetOut(new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = true });
            Directory.SetCurrentDirectory(previous);
        }
    }

    [Fact]
    public void TheReadmeShowsTheSampleAsWritten()
    {
        var readme = File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "README.md"));
        var source = File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "tests", "ImplicitRegOnnx.Runtime.Tests", "Readme", "TrainingSample.cs"));
        var body = SampleRegion().Match(source).Groups["body"].Value;
        var lines = body.Split('\n').Select(l => l.Length >= 8 ? l[8..] : l.TrimStart()).ToArray();
        var sample = string.Join('\n', lines).Trim();
        Assert.Contains(sample, readme.Replace("\r\n", "\n", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [GeneratedRegex(@"// README begin\n(?<body>.*?)\n\s*// README end", RegexOptions.Singleline)]
    private static partial Regex SampleRegion();
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessStateCollection
{
    public const string Name = "process state";
}
