using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Runtime.Data;
using ImplicitRegOnnx.TestSupport;

namespace ImplicitRegOnnx.Runtime.Tests.Data;

public class CsvDataTests
{
    [Fact]
    public void Headerless_comma_file_uses_the_last_column_as_label()
    {
        using var dir = new TempDirectory();
        var path = dir.File("plain.csv");
        DataFixtures.WriteText(path, "1,2,3,0\n4,5,6,1\n\n7,8,9,2\n");
        var data = CsvData.Load(path);
        Assert.Equal(3, data.Count);
        Assert.Equal([3L], data.ExampleShape);
        Assert.Equal([1f, 2, 3, 4, 5, 6, 7, 8, 9], data.FeatureValues.ToArray());
        Assert.Equal([0L, 1, 2], data.Labels.ToArray<long>());
    }

    [Fact]
    public void Header_is_detected_and_label_column_chosen_by_name_or_index()
    {
        using var dir = new TempDirectory();
        var path = dir.File("header.csv");
        DataFixtures.WriteText(path, "label;\"a\";b\n1;0.5;-2e-1\n0;1.5;3\n");
        var byName = CsvData.Load(path, new DataLoadOptions { LabelColumn = "label" });
        Assert.Equal([0.5f, -0.2f, 1.5f, 3f], byName.FeatureValues.ToArray());
        Assert.Equal([1L, 0], byName.Labels.ToArray<long>());
        var byIndex = CsvData.Load(path, new DataLoadOptions { LabelColumn = "0" });
        Assert.True(byName.Features.ContentEquals(byIndex.Features));
        var byNegative = CsvData.Load(path, new DataLoadOptions { LabelColumn = "-1" });
        Assert.Equal(ElementType.Float, byNegative.Labels.ElementType);
        Assert.Equal([-0.2f, 3f], byNegative.Labels.ToArray<float>());
    }

    [Fact]
    public void Tab_delimited_gzip_file_with_float_targets()
    {
        using var dir = new TempDirectory();
        var path = dir.File("reg.tsv.gz");
        DataFixtures.WriteText(path, "x1\tx2\ty\n1\t2\t0.25\n3\t4\t-1\n", gzip: true);
        var data = DataLoader.Load(path);
        Assert.Equal(2, data.Count);
        Assert.Equal([0.25f, -1f], data.Labels.ToArray<float>());
    }

    [Fact]
    public void Label_kind_float_and_class()
    {
        using var dir = new TempDirectory();
        var path = dir.File("k.csv");
        DataFixtures.WriteText(path, "1,2\n3,4\n");
        Assert.Equal(ElementType.Float, CsvData.Load(path, new DataLoadOptions { Labels = LabelKind.Float }).Labels.ElementType);
        DataFixtures.WriteText(path, "1,2\n3,4.5\n");
        var e = Assert.Throws<ImplicitRegException>(() => CsvData.Load(path, new DataLoadOptions { Labels = LabelKind.Class }));
        Assert.Contains("line 2", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("a,b,y\n1,2,0\n3,x,1\n", "line 3, column 2 ('b'): 'x' is not a number")]
    [InlineData("1,2,0\n3,,1\n", "line 2, column 2: missing value")]
    [InlineData("1,2,0\n3,4\n", "line 2 has 2 fields, expected 3")]
    [InlineData("1,2,0\n3,NaN,1\n", "line 2, column 2: 'NaN' is not a finite number")]
    [InlineData("a,b,c\n", "has a header but no data rows")]
    [InlineData("", "is empty")]
    [InlineData("1\n2\n", "single column")]
    public void Bad_values_are_reported_with_file_and_line(string text, string expected)
    {
        using var dir = new TempDirectory();
        var path = dir.File("bad.csv");
        DataFixtures.WriteText(path, text);
        var e = Assert.Throws<ImplicitRegException>(() => CsvData.Load(path));
        Assert.Contains("bad.csv", e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_label_column()
    {
        using var dir = new TempDirectory();
        var path = dir.File("h.csv");
        DataFixtures.WriteText(path, "a,b\n1,2\n");
        Assert.Contains("no column named 'z'", Assert.Throws<ImplicitRegException>(() => CsvData.Load(path, new DataLoadOptions { LabelColumn = "z" })).Message, StringComparison.Ordinal);
        Assert.Contains("outside the 2 columns", Assert.Throws<ImplicitRegException>(() => CsvData.Load(path, new DataLoadOptions { LabelColumn = "5" })).Message, StringComparison.Ordinal);
        DataFixtures.WriteText(path, "1,2\n");
        Assert.Contains("no header", Assert.Throws<ImplicitRegException>(() => CsvData.Load(path, new DataLoadOptions { LabelColumn = "a" })).Message, StringComparison.Ordinal);
    }
}
