using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Onnx.Numpy;

namespace ImplicitRegOnnx.Runtime.Data;

/// <summary>Loads examples from a .npz archive (features and labels arrays) or a pair of .npy files.</summary>
public static class NumpyData
{
    private static readonly string[] FeatureNames = ["x", "X", "input", "inputs", "features", "data", "images"];
    private static readonly string[] LabelNames = ["y", "Y", "target", "targets", "labels", "label"];

    /// <summary>The labels array of the named-arrays form.</summary>
    internal const string TargetName = "target";

    /// <summary>Whether an archive holds labels under a name of the single-input form other than 'target' (y, labels, ...).</summary>
    internal static bool HasSingleInputLabels(IEnumerable<string> names) =>
        names.Any(n => n != TargetName && LabelNames.Contains(n, StringComparer.Ordinal));

    private static readonly Dictionary<string, string> CompanionTokens = new(StringComparer.Ordinal)
    {
        ["x"] = "y",
        ["X"] = "y",
        ["input"] = "target",
        ["inputs"] = "targets",
        ["features"] = "labels",
        ["images"] = "labels",
    };

    /// <summary>
    /// Loads a .npz archive. The arrays are found by <see cref="DataLoadOptions.FeaturesName"/> and
    /// <see cref="DataLoadOptions.LabelsName"/>, else by the usual names (x/y, input/target, ...),
    /// else, once the labels are found, the only other array is the features.
    /// </summary>
    /// <exception cref="ImplicitRegException">The file is unreadable or lacks either array.</exception>
    public static Dataset LoadNpz(string path, DataLoadOptions? options = null)
    {
        options ??= DataLoadOptions.Default;
        return FromArchive(Read(path, () => NpzArchive.Read(path)), path, options);
    }

    /// <summary>
    /// Loads every array of a .npz archive under its own name, keeping its element type (no copy): the
    /// arrays named as a model's inputs feed them, and <c>target</c> holds the labels (int64 class
    /// labels for integer data, float32 targets otherwise, as <see cref="DataLoadOptions.Labels"/> says).
    /// </summary>
    /// <exception cref="ImplicitRegException">The file is unreadable, has no 'target' array, or its arrays differ in their first dimension.</exception>
    public static Dataset LoadNamed(string path, DataLoadOptions? options = null) =>
        FromNamedArchive(Read(path, () => NpzArchive.Read(path)), path, options ?? DataLoadOptions.Default);

    internal static Dataset FromNamedArchive(IReadOnlyDictionary<string, Tensor> arrays, string path, DataLoadOptions options)
    {
        var where = $"'{path}'";
        if (!arrays.ContainsKey(Dataset.TargetName))
        {
            throw ImplicitRegException.BadInput(
                $"{where} has no '{Dataset.TargetName}' array (the labels); it holds {Holds(arrays)}; save the labels as '{Dataset.TargetName}'");
        }
        var named = new List<DataArray>(arrays.Count);
        foreach (var (name, tensor) in arrays)
        {
            try
            {
                named.Add(DataArray.FromTensor(name == Dataset.TargetName ? TensorConversion.ToLabels(tensor, options.Labels, where) : tensor, name));
            }
            catch (ImplicitRegException e)
            {
                throw e.Within(where);
            }
        }
        return new Dataset(named, path);
    }

    internal static Dataset FromArchive(IReadOnlyDictionary<string, Tensor> arrays, string path, DataLoadOptions options)
    {
        var where = $"'{path}'";
        var labelsName = Pick(arrays, options.LabelsName, LabelNames, where, "labels")
            ?? throw ImplicitRegException.BadInput(
                $"{where} has no labels array: looked for {string.Join(", ", LabelNames)}; it holds {Holds(arrays)} (name it with the labels-name option)");
        var featuresName = Pick(arrays, options.FeaturesName, FeatureNames, where, "features");
        if (featuresName is null)
        {
            var others = arrays.Keys.Where(k => k != labelsName).ToList();
            featuresName = others.Count == 1
                ? others[0]
                : throw ImplicitRegException.BadInput(
                    $"{where} has no features array: looked for {string.Join(", ", FeatureNames)}; it holds {Holds(arrays)} (name it with the features-name option)");
        }
        return Build(arrays[featuresName], arrays[labelsName], where, options);
    }

    /// <summary>
    /// Loads features from one .npy file and labels from another (by default found next to it:
    /// x.npy → y.npy, train_x.npy → train_y.npy, input.npy → target.npy, ...).
    /// </summary>
    public static Dataset LoadNpyPair(string featuresPath, string? labelsPath = null, DataLoadOptions? options = null)
    {
        options ??= DataLoadOptions.Default;
        labelsPath ??= options.LabelsPath ?? FindLabelsFile(featuresPath);
        var features = Read(featuresPath, () => NpyFormat.Read(featuresPath));
        var labels = Read(labelsPath, () => NpyFormat.Read(labelsPath));
        return Build(features, labels, $"'{featuresPath}' and '{labelsPath}'", options);
    }

    /// <summary>A folder holding a features .npy and a labels .npy (x.npy and y.npy, input.npy and target.npy, ...).</summary>
    public static Dataset LoadNpyFolder(string folder, DataLoadOptions? options = null)
    {
        foreach (var (x, y) in FeatureNames.Zip(["y", "y", "target", "targets", "labels", "labels", "labels"]))
        {
            var xPath = Path.Combine(folder, x + ".npy");
            var yPath = Path.Combine(folder, y + ".npy");
            if (File.Exists(xPath) && File.Exists(yPath))
            {
                return LoadNpyPair(xPath, yPath, options);
            }
        }
        throw ImplicitRegException.BadInput($"'{folder}': folder has no x.npy and y.npy (or input.npy and target.npy) pair");
    }

    internal static string FindLabelsFile(string featuresPath) =>
        DataFiles.FindCompanion(featuresPath, CompanionTokens, out var tried)
        ?? throw ImplicitRegException.BadInput(tried.Count == 0
            ? $"'{featuresPath}': no labels file given, and its name (no x, input or features part) does not tell where it is"
            : $"'{featuresPath}': no labels file given and none next to it (looked for {string.Join(", ", tried)})");

    private static Dataset Build(Tensor features, Tensor labels, string where, DataLoadOptions options)
    {
        if (features.Dims.Length == 0 || labels.Dims.Length == 0 || features.Dims[0] != labels.Dims[0])
        {
            throw ImplicitRegException.BadInput(
                $"{where}: features of shape [{string.Join(",", features.Dims)}] and labels of shape [{string.Join(",", labels.Dims)}] do not have the same number of examples");
        }
        var data = new Dataset(TensorConversion.ToFeatures(features, where), TensorConversion.ToLabels(labels, options.Labels, where));
        return DataLoader.ApplyShape(data, options, where);
    }

    private static string? Pick(IReadOnlyDictionary<string, Tensor> arrays, string? given, string[] usual, string where, string role)
    {
        if (given is not null)
        {
            return arrays.ContainsKey(given)
                ? given
                : throw ImplicitRegException.BadInput($"{where} has no {role} array '{given}'; it holds {Holds(arrays)}");
        }
        return usual.FirstOrDefault(arrays.ContainsKey);
    }

    private static string Holds(IReadOnlyDictionary<string, Tensor> arrays) =>
        arrays.Count == 0 ? "no arrays" : string.Join(", ", arrays.Keys.Select(k => $"'{k}'"));

    /// <summary>Reads a NumPy file; its reader names the file in every message, I/O failures included.</summary>
    private static T Read<T>(string path, Func<T> read) => DataFiles.Guard(path, read);
}
