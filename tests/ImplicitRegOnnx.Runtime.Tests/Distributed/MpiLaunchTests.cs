using ImplicitRegOnnx.Runtime.Distributed;

namespace ImplicitRegOnnx.Runtime.Tests.Distributed;

public sealed class MpiLaunchTests
{
    private static MpiLaunch? From(params (string Name, string Value)[] variables) =>
        MpiLaunch.From(name => variables.FirstOrDefault(v => v.Name == name).Value);

    [Fact]
    public void WithoutLauncherVariablesThereIsNoLaunchAndTheWorldIsOneProcess()
    {
        Assert.Null(From());
        Assert.Null(From(("OMPI_MCA_btl", "self,tcp"), ("PMIX_NAMESPACE", "x")));
        Assert.IsType<SingleProcessCollectives>(Collectives.Open(null));
    }

    [Fact]
    public void OpenMpisLauncherGivesRankAndSize()
    {
        var launch = From(("OMPI_COMM_WORLD_SIZE", "4"), ("OMPI_COMM_WORLD_RANK", "3"), ("PMIX_RANK", "3"));
        Assert.Equal(new MpiLaunch(3, 4, "OMPI_COMM_WORLD_SIZE=4"), launch);
        Assert.Equal("this process was started by an MPI launcher (OMPI_COMM_WORLD_SIZE=4)", launch!.Description);
    }

    [Fact]
    public void APmixLauncherGivesTheRankOnly()
    {
        Assert.Equal(new MpiLaunch(1, null, "PMIX_RANK=1"), From(("PMIX_RANK", "1")));
        Assert.Equal(new MpiLaunch(0, null, "OMPI_COMM_WORLD_RANK=0"), From(("OMPI_COMM_WORLD_RANK", "0")));
    }

    [Theory]
    [InlineData("OMPI_COMM_WORLD_SIZE", "0", "≥ 1")]
    [InlineData("OMPI_COMM_WORLD_SIZE", "two", "≥ 1")]
    [InlineData("OMPI_COMM_WORLD_RANK", "-1", "≥ 0")]
    [InlineData("PMIX_RANK", " 1", "≥ 0")]
    public void ALauncherVariableThatIsNotANumberIsBadInputNamingIt(string name, string value, string bound)
    {
        var error = Assert.Throws<ImplicitRegException>(() => From((name, value)));
        Assert.Equal(ErrorKind.BadInput, error.Kind);
        Assert.Equal($"the MPI launcher's environment variable {name} must be an integer {bound}, got '{value}'", error.Message);
    }

    [Fact]
    public void ARankNotBelowTheSizeIsBadInput()
    {
        var error = Assert.Throws<ImplicitRegException>(() => From(("OMPI_COMM_WORLD_SIZE", "2"), ("OMPI_COMM_WORLD_RANK", "2")));
        Assert.Equal(ErrorKind.BadInput, error.Kind);
        Assert.Contains("rank 2 is not below OMPI_COMM_WORLD_SIZE=2", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AMissingOpenMpiLibraryIsAOneLineErrorNamingTheLibraryAndThePackage()
    {
        var launch = From(("OMPI_COMM_WORLD_SIZE", "2"), ("OMPI_COMM_WORLD_RANK", "0"))!;
        var error = Assert.Throws<ImplicitRegException>(() => OpenMpiHandles.Load("libmpi-absent-for-this-test.so.40", launch.Description));
        Assert.Equal(ErrorKind.Unsupported, error.Kind);
        Assert.Equal(
            "this process was started by an MPI launcher (OMPI_COMM_WORLD_SIZE=2), but libmpi-absent-for-this-test.so.40 (Open MPI) " +
            "cannot be loaded: install Open MPI (Debian/Ubuntu: apt-get install openmpi-bin) or add its lib folder to LD_LIBRARY_PATH",
            error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }
}
