namespace ImplicitRegOnnx.Runtime.Data;

/// <summary>
/// The scikit-learn digits data shipped as models/data/digits.csv.gz (see models/data/README.md):
/// 1797 8×8 images of handwritten digits, pixel values 0..16, 10 classes; a headerless CSV of 64
/// pixel columns and the label. Features are scaled to [0, 1] (÷16).
/// </summary>
public static class DigitsData
{
    /// <summary>Examples in the data set.</summary>
    public const int ExampleCount = 1797;
    /// <summary>Features per example (8×8 pixels).</summary>
    public const int FeatureCount = 64;
    /// <summary>Classes (the digits 0 to 9).</summary>
    public const int ClassCount = 10;

    /// <summary>The file name under models/data/.</summary>
    public const string FileName = "digits.csv.gz";

    /// <summary>The normalization applied: ÷16, the largest pixel value.</summary>
    public static Normalization Normalization { get; } = Normalization.ScaleBy(16);

    private static readonly DataLoadOptions CsvOptions = new() { HasHeader = false, Delimiter = ',', Labels = LabelKind.Class };

    /// <summary>All 1797 examples: features [N, 64] (or [N, 1, 8, 8] with <paramref name="imageShape"/>) in [0, 1], labels int64 [N].</summary>
    /// <exception cref="ImplicitRegException">The file is missing or is not the digits data.</exception>
    public static Dataset LoadAll(string path, bool imageShape = false) => Prepare(CsvData.Load(path, CsvOptions), path, imageShape);

    /// <summary>As <see cref="LoadAll(string, bool)"/>, from a (gzip-compressed or plain) stream, e.g. an embedded resource.</summary>
    public static Dataset LoadAll(Stream stream, string source, bool imageShape = false) =>
        Prepare(CsvData.Load(stream, source, CsvOptions), source, imageShape);

    /// <summary>
    /// A deterministic stratified train/test split (<see cref="Dataset.Split"/>): with the defaults,
    /// 1438 training and 359 test examples.
    /// </summary>
    public static (Dataset Train, Dataset Test) Load(string path, double testFraction = 0.2, ulong seed = 0, bool imageShape = false) =>
        LoadAll(path, imageShape).Split(testFraction, seed);

    /// <summary>As <see cref="Load(string, double, ulong, bool)"/>, from a stream.</summary>
    public static (Dataset Train, Dataset Test) Load(Stream stream, string source, double testFraction = 0.2, ulong seed = 0, bool imageShape = false) =>
        LoadAll(stream, source, imageShape).Split(testFraction, seed);

    /// <summary>
    /// The digits data embedded in this library (models/data/digits.csv.gz), split as <see cref="Load(string, double, ulong, bool)"/>
    /// with the defaults: 1438 training and 359 test examples (what <c>implicitreg train</c> and <c>eval</c> use with no data given).
    /// </summary>
    public static (Dataset Train, Dataset Test) LoadEmbedded()
    {
        using var stream = typeof(DigitsData).Assembly.GetManifestResourceStream(EmbeddedResource)
            ?? throw new InvalidOperationException("The embedded digits data is missing from this build.");
        return Load(stream, "embedded digits data");
    }

    private const string EmbeddedResource = "ImplicitRegOnnx.Runtime.Digits.csv.gz";

    private static Dataset Prepare(Dataset data, string source, bool imageShape)
    {
        if (data.FeaturesPerExample != FeatureCount || data.LabelsPerExample != 1)
        {
            throw ImplicitRegException.BadInput($"'{source}' is not the digits data: {data.FeaturesPerExample + 1} columns instead of {FeatureCount + 1}");
        }
        var labels = data.Labels.ToArray<long>();
        if (labels.Any(l => l is < 0 or >= ClassCount))
        {
            throw ImplicitRegException.BadInput($"'{source}' is not the digits data: labels outside 0..{ClassCount - 1}");
        }
        var values = data.FeatureValues;
        foreach (var v in values)
        {
            if (v is < 0 or > 16)
            {
                throw ImplicitRegException.BadInput($"'{source}' is not the digits data: a pixel value {v} outside 0..16");
            }
        }
        var scaled = Normalization.Apply(data);
        return imageShape ? scaled.Reshape(1, 8, 8) : scaled;
    }
}
