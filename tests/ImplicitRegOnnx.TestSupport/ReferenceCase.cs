using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Onnx.Numpy;

namespace ImplicitRegOnnx.TestSupport;

/// <summary>
/// Tolerances of a reference case, by kind: "loss", "penalty", "grad", "objective_grad" (the keys
/// of case.json's "tolerance"). case.json gives none for "objective"; see <see cref="For"/>.
/// </summary>
public sealed record ReferenceTolerances(IReadOnlyDictionary<string, double> ByKind)
{
    public double Loss => ByKind["loss"];

    public double Penalty => ByKind["penalty"];

    public double Grad => ByKind["grad"];

    public double ObjectiveGrad => ByKind["objective_grad"];

    /// <summary>
    /// The tolerance for an expected.npz key: its kind ("grad/fc.weight" → "grad"). "objective"
    /// uses its own entry when case.json has one, else the larger of the loss and penalty
    /// tolerances: objective = loss + c·penalty, so its relative error is bounded by the larger
    /// relative error of its two (non-negative) terms.
    /// </summary>
    public double For(string key)
    {
        var kind = ReferenceCase.KindOf(key);
        if (ByKind.TryGetValue(kind, out var tolerance))
        {
            return tolerance;
        }
        if (kind == "objective")
        {
            return Math.Max(Loss, Penalty);
        }
        throw new KeyNotFoundException($"case.json has no tolerance for '{key}' (kinds: {string.Join(", ", ByKind.Keys)})");
    }
}

/// <summary>The fields of a reference case's case.json (format of ../shared/oracle/&lt;case&gt;/case.json).</summary>
/// <param name="Loss">cross-entropy, mse, bce-with-logits, l1 or nll.</param>
/// <param name="Coefficient">c in objective = C + c·R.</param>
/// <param name="Microbatches">n: the batch splits into n consecutive equal slices.</param>
/// <param name="Trainable">Parameter (initializer) names, in expected.npz order.</param>
/// <param name="Batch">Batch size of data.npz.</param>
/// <param name="Inputs">Model input names (each an array of data.npz).</param>
/// <param name="Output">The model output the loss is attached to.</param>
/// <param name="Ops">Op types of the model.</param>
/// <param name="Producer">e.g. "pytorch 1.13.0".</param>
/// <param name="Opset">ai.onnx opset of the model.</param>
/// <param name="BatchNormTrainingMode">Whether BatchNormalization runs with batch statistics.</param>
/// <param name="Tolerance">Tolerances by kind.</param>
/// <param name="ErrorFormula">The error formula text, as case.json states it.</param>
/// <param name="Note">Free text.</param>
public sealed record ReferenceCaseInfo(
    string Loss,
    double Coefficient,
    int Microbatches,
    IReadOnlyList<string> Trainable,
    int Batch,
    IReadOnlyList<string> Inputs,
    string Output,
    IReadOnlyList<string> Ops,
    string Producer,
    int Opset,
    bool BatchNormTrainingMode,
    ReferenceTolerances Tolerance,
    string ErrorFormula,
    string Note);

/// <summary>How far one actual array is from its expected value, by the case's error formula.</summary>
/// <param name="Key">The expected.npz key, e.g. "loss" or "objective_grad/fc.weight".</param>
/// <param name="Error">The error; +∞ when missing or of the wrong shape, NaN when the actual value has NaNs.</param>
/// <param name="Tolerance">The case's tolerance for this key.</param>
/// <param name="Detail">Why the error is infinite, or empty.</param>
public sealed record ReferenceError(string Key, double Error, double Tolerance, string Detail = "")
{
    /// <summary>Within tolerance (NaN never is).</summary>
    public bool Passes => Error <= Tolerance;

    public override string ToString() =>
        $"{Key}: error {Error.ToString("G4", CultureInfo.InvariantCulture)} (tolerance {Tolerance.ToString("G4", CultureInfo.InvariantCulture)})"
        + (Detail.Length > 0 ? $" {Detail}" : "");
}

/// <summary>
/// A reference-case folder: model.onnx, data.npz (model inputs by name, plus "target"), case.json
/// and expected.npz ("loss", "penalty", "objective", "grad/&lt;param&gt;", "objective_grad/&lt;param&gt;").
/// Used for ../shared/oracle/* and for the project's own tests/ReferenceCases/*.
/// </summary>
public sealed partial class ReferenceCase
{
    private readonly double _relativeFloor;
    private readonly double _scalarFloor;
    private readonly Dictionary<string, double> _largestByKind = new(StringComparer.Ordinal);

    private ReferenceCase(string folder, ReferenceCaseInfo info, JsonElement raw,
        IReadOnlyDictionary<string, Tensor> data, IReadOnlyDictionary<string, Tensor> expected)
    {
        Folder = folder;
        Info = info;
        Raw = raw;
        Data = data;
        Expected = expected;
        (_relativeFloor, _scalarFloor) = ParseErrorFormula(info.ErrorFormula, folder);
        foreach (var (key, tensor) in expected)
        {
            if (tensor.Dims.Length > 0)
            {
                var kind = KindOf(key);
                _largestByKind[kind] = Math.Max(_largestByKind.GetValueOrDefault(kind), MaxAbs(tensor.ToDoubles()));
            }
        }
    }

    /// <summary>The case's folder name, e.g. "mlp_tanh".</summary>
    public string Name => Path.GetFileName(Folder);

    public string Folder { get; }

    public string ModelPath => Path.Combine(Folder, "model.onnx");

    /// <summary>case.json, typed.</summary>
    public ReferenceCaseInfo Info { get; }

    /// <summary>case.json as parsed (a detached clone), for fields <see cref="Info"/> does not model.</summary>
    public JsonElement Raw { get; }

    /// <summary>data.npz: one array per model input, named as the input, plus "target".</summary>
    public IReadOnlyDictionary<string, Tensor> Data { get; }

    /// <summary>expected.npz, in file order.</summary>
    public IReadOnlyDictionary<string, Tensor> Expected { get; }

    /// <summary>The case folders (those holding case.json) directly under <paramref name="root"/>, by name.</summary>
    public static IEnumerable<string> FoldersUnder(string root) =>
        Directory.Exists(root)
            ? Directory.EnumerateDirectories(root)
                .Where(d => File.Exists(Path.Combine(d, "case.json")))
                .Order(StringComparer.Ordinal)
            : [];

    /// <summary>The project's own cases: tests/ReferenceCases/*.</summary>
    public static IEnumerable<string> ProjectCaseFolders() =>
        FoldersUnder(Path.Combine(TestPaths.RepositoryRoot, "tests", "ReferenceCases"));

    /// <summary>../shared/oracle/*, or nothing when ../shared is absent.</summary>
    public static IEnumerable<string> OracleCaseFolders() =>
        TestPaths.Shared is { } shared ? FoldersUnder(Path.Combine(shared, "oracle")) : [];

    /// <summary>Loads a case folder; throws when a file is missing or case.json lacks a field.</summary>
    public static ReferenceCase Load(string folder)
    {
        var json = File.ReadAllText(Path.Combine(folder, "case.json"));
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        var tolerances = root.GetProperty("tolerance").EnumerateObject()
            .ToDictionary(p => p.Name, p => p.Value.GetDouble(), StringComparer.Ordinal);
        var info = new ReferenceCaseInfo(
            Loss: root.GetProperty("loss").GetString()!,
            Coefficient: root.GetProperty("coefficient").GetDouble(),
            Microbatches: root.GetProperty("microbatches").GetInt32(),
            Trainable: Strings(root, "trainable"),
            Batch: root.TryGetProperty("batch", out var batch) ? batch.GetInt32() : 0,
            Inputs: Strings(root, "inputs"),
            Output: root.TryGetProperty("output", out var output) ? output.GetString()! : "",
            Ops: Strings(root, "ops"),
            Producer: root.TryGetProperty("producer", out var producer) ? producer.GetString()! : "",
            Opset: root.TryGetProperty("opset", out var opset) ? opset.GetInt32() : 0,
            BatchNormTrainingMode: root.TryGetProperty("batchnorm_training_mode", out var bn) && bn.GetBoolean(),
            Tolerance: new ReferenceTolerances(tolerances),
            ErrorFormula: root.GetProperty("error").GetString()!,
            Note: root.TryGetProperty("note", out var note) ? note.GetString() ?? "" : "");
        return new ReferenceCase(
            Path.GetFullPath(folder), info, root.Clone(),
            NpzArchive.Read(Path.Combine(folder, "data.npz")),
            NpzArchive.Read(Path.Combine(folder, "expected.npz")));
    }

    /// <summary>"grad/fc.weight" → "grad"; "loss" → "loss".</summary>
    public static string KindOf(string key)
    {
        var slash = key.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? key : key[..slash];
    }

    /// <summary>
    /// The error of <paramref name="actual"/> against expected[<paramref name="key"/>], exactly as
    /// case.json's "error" states it:
    /// per tensor, max|got − expected| / (max|expected| + 0.001 · largest max|expected| over all
    /// tensors of that kind) (kind: "grad" or "objective_grad"); scalars, |got − expected| /
    /// max(|expected|, 1e-6). The two constants are read from the formula text.
    /// </summary>
    public ReferenceError Error(string key, Tensor? actual)
    {
        var tolerance = Info.Tolerance.For(key);
        if (!Expected.TryGetValue(key, out var expectedTensor))
        {
            throw new KeyNotFoundException($"{Name}: expected.npz has no '{key}'");
        }
        if (actual is null)
        {
            return new ReferenceError(key, double.PositiveInfinity, tolerance, "(missing)");
        }
        if (!actual.Dims.AsSpan().SequenceEqual(expectedTensor.Dims))
        {
            return new ReferenceError(key, double.PositiveInfinity, tolerance,
                $"(shape [{string.Join(",", actual.Dims)}], expected [{string.Join(",", expectedTensor.Dims)}])");
        }
        var got = actual.ToDoubles();
        var expected = expectedTensor.ToDoubles();
        if (expectedTensor.Dims.Length == 0)
        {
            var error = Math.Abs(got[0] - expected[0]) / Math.Max(Math.Abs(expected[0]), _scalarFloor);
            return new ReferenceError(key, error, tolerance);
        }
        var maxDiff = 0.0;
        for (var i = 0; i < got.Length; i++)
        {
            var diff = Math.Abs(got[i] - expected[i]);
            maxDiff = double.IsNaN(diff) ? double.NaN : Math.Max(maxDiff, diff);
        }
        var denominator = MaxAbs(expected) + (_relativeFloor * _largestByKind[KindOf(key)]);
        // 0/0 (an all-zero expected kind matched exactly) is no error.
        return new ReferenceError(key, maxDiff == 0 ? 0 : maxDiff / denominator, tolerance);
    }

    /// <summary>
    /// The error of every key in <paramref name="keys"/> (default: all of expected.npz) against the
    /// arrays of <paramref name="actual"/> (e.g. a RESULT.npz read with <see cref="NpzArchive"/>).
    /// </summary>
    public IReadOnlyList<ReferenceError> Compare(IReadOnlyDictionary<string, Tensor> actual, IEnumerable<string>? keys = null) =>
        (keys ?? Expected.Keys).Select(k => Error(k, actual.GetValueOrDefault(k))).ToList();

    public override string ToString() => Name;

    private static double MaxAbs(double[] values)
    {
        var max = 0.0;
        foreach (var v in values)
        {
            max = Math.Max(max, Math.Abs(v));
        }
        return max;
    }

    private static string[] Strings(JsonElement root, string name) =>
        root.TryGetProperty(name, out var array) ? array.EnumerateArray().Select(e => e.GetString()!).ToArray() : [];

    private static (double RelativeFloor, double ScalarFloor) ParseErrorFormula(string formula, string folder)
    {
        var match = ErrorFormulaPattern().Match(formula);
        if (!match.Success)
        {
            throw new NotSupportedException(
                $"{Path.GetFileName(folder)}: case.json states an error formula this loader does not implement: \"{formula}\"");
        }
        return (double.Parse(match.Groups["relative"].Value, CultureInfo.InvariantCulture),
                double.Parse(match.Groups["floor"].Value, CultureInfo.InvariantCulture));
    }

    [GeneratedRegex(@"^per tensor: max\|got - expected\| / \(max\|expected\| \+ (?<relative>[0-9.eE+-]+) \* largest max\|expected\| over all tensors of that kind\); scalars: \|got - expected\| / max\(\|expected\|, (?<floor>[0-9.eE+-]+)\)$")]
    private static partial Regex ErrorFormulaPattern();
}
