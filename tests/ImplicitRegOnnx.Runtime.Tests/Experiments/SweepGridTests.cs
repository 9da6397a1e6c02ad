using ImplicitRegOnnx.Runtime.Experiments;

namespace ImplicitRegOnnx.Runtime.Tests.Experiments;

public class SweepGridTests
{
    private static KeyValuePair<string, IReadOnlyList<string>> List(string name, params string[] values) => KeyValuePair.Create(name, (IReadOnlyList<string>)values);

    [Fact]
    public void CrossesEveryListTheLastVaryingFastest()
    {
        var points = SweepGrid.Expand(SweepGrid.Axes([List("lr", "0.1", "0.2"), List("lambda", "0", "0.2"), List("seed", "1", "2", "3")]));

        Assert.Equal(12, points.Count);
        Assert.Equal(12, points.Select(p => p.Key).Distinct().Count());
        Assert.Equal(("0.1", "0", "1"), (points[0]["lr"], points[0]["lambda"], points[0]["seed"]));
        Assert.Equal(("0.1", "0", "2"), (points[1]["lr"], points[1]["lambda"], points[1]["seed"]));
        Assert.Equal(("0.2", "0.2", "3"), (points[^1]["lr"], points[^1]["lambda"], points[^1]["seed"]));
    }

    [Fact]
    public void ZippedListsGoTogether()
    {
        var axes = SweepGrid.Axes([List("batch-size", "32", "64", "128"), List("lr", "0.1", "0.2", "0.4"), List("seed", "1", "2")], [["batch-size", "lr"]]);
        var points = SweepGrid.Expand(axes);

        Assert.Equal(2, axes.Count);
        Assert.Equal(6, points.Count);
        Assert.All(points, p => Assert.Equal(double.Parse(p["batch-size"]!, System.Globalization.CultureInfo.InvariantCulture) / 320,
            double.Parse(p["lr"]!, System.Globalization.CultureInfo.InvariantCulture), 12));
    }

    [Fact]
    public void ZippedListsOfDifferentLengthsAreRefusedNamingThem()
    {
        var e = Assert.Throws<ImplicitRegException>(() => SweepGrid.Axes([List("batch-size", "32", "64"), List("lr", "0.1")], [["batch-size", "lr"]]));
        Assert.Equal(ErrorKind.BadInput, e.Kind);
        Assert.Contains("'batch-size' has 2", e.Message, StringComparison.Ordinal);
        Assert.Contains("'lr' has 1", e.Message, StringComparison.Ordinal);
        Assert.Contains("'seed' is zipped but has no values", Assert.Throws<ImplicitRegException>(() => SweepGrid.Axes([List("lr", "0.1")], [["lr", "seed"]])).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheKeyDoesNotDependOnTheOrderOfTheOptions()
    {
        var a = new SweepPoint([KeyValuePair.Create("lr", "0.1"), KeyValuePair.Create("seed", "1")]);
        var b = new SweepPoint([KeyValuePair.Create("seed", "1"), KeyValuePair.Create("lr", "0.1")]);
        var c = new SweepPoint([KeyValuePair.Create("seed", "1"), KeyValuePair.Create("lr", "0.10")]);

        Assert.Equal("lr=0.1 seed=1", a.Key);
        Assert.Equal(a.Key, b.Key);
        Assert.Equal(a.FolderName, b.FolderName);
        Assert.NotEqual(a.FolderName, c.FolderName);
    }

    [Fact]
    public void FolderNamesAreSafeAndDistinctForKeysThatSanitizeAlike()
    {
        var slash = new SweepPoint([KeyValuePair.Create("loss", "a/b")]);
        var colon = new SweepPoint([KeyValuePair.Create("loss", "a:b")]);

        Assert.DoesNotContain('/', slash.FolderName);
        Assert.NotEqual(slash.FolderName, colon.FolderName);
    }

    [Fact]
    public void DuplicatePointsAreRunOnce() =>
        Assert.Single(SweepGrid.Expand(SweepGrid.Axes([List("lr", "0.1", "0.1")])));

    [Theory]
    [InlineData("0.1,0.2, 0.4", 3)]
    [InlineData("7", 1)]
    public void SplitsLists(string list, int count) => Assert.Equal(count, SweepGrid.SplitList(list).Count);

    [Theory]
    [InlineData("0.1,,0.2")]
    [InlineData("0.1,")]
    public void EmptyItemsAreRefused(string list) => Assert.Equal(ErrorKind.BadInput, Assert.Throws<ImplicitRegException>(() => SweepGrid.SplitList(list)).Kind);
}
