namespace ImplicitRegOnnx.Cli.Tests;

public class CliAssemblyTests
{
    /// <summary>The tool is an executable, not a library: C# apps use the workflows in the libraries, so nothing in it is public.</summary>
    [Fact]
    public void TheExecutableHasNoPublicTypes() =>
        Assert.Empty(typeof(CliApplication).Assembly.GetExportedTypes().Select(t => t.FullName));
}
