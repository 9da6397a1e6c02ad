using System.Runtime.InteropServices;
using ImplicitRegOnnx.Onnx;

namespace ImplicitRegOnnx.Runtime.Data;

/// <summary>
/// Examples held in memory: features, a float32 tensor [N, ...], and labels, an int64 (class
/// labels) or float32 (targets) tensor [N, ...]. Row i of both is example i. Batches are gathered
/// with one block copy per example row.
/// </summary>
public sealed class Dataset
{
    private int? _classCount;

    public Dataset(Tensor features, Tensor labels)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(labels);
        if (features.ElementType != ElementType.Float)
        {
            throw new ArgumentException($"Features must be float32, not {features.ElementType.Name()}.", nameof(features));
        }
        if (labels.ElementType is not (ElementType.Int64 or ElementType.Float))
        {
            throw new ArgumentException($"Labels must be int64 or float32, not {labels.ElementType.Name()}.", nameof(labels));
        }
        if (features.Dims.Length == 0 || labels.Dims.Length == 0)
        {
            throw new ArgumentException("Features and labels need a leading example axis (rank ≥ 1).");
        }
        if (features.Dims[0] != labels.Dims[0])
        {
            throw new ArgumentException($"{features.Dims[0]} feature rows but {labels.Dims[0]} labels.");
        }
        if (features.Dims[0] > int.MaxValue)
        {
            throw new ArgumentException($"{features.Dims[0]} examples are more than this data set holds.");
        }
        Features = features;
        Labels = labels;
        Count = (int)features.Dims[0];
        FeaturesPerExample = checked((int)Product(ExampleShape));
        LabelsPerExample = checked((int)Product(LabelShape));
    }

    /// <summary>A data set from float32 features of shape [N, exampleShape...] and class labels [N].</summary>
    public static Dataset FromArrays(float[] features, long[] exampleShape, long[] classLabels) =>
        new(Tensor.FromArray(features, [classLabels.LongLength, .. exampleShape], "features"),
            Tensor.FromArray(classLabels, [classLabels.LongLength], "labels"));

    /// <summary>A data set from float32 features of shape [N, exampleShape...] and float targets [N, targetShape...].</summary>
    public static Dataset FromArrays(float[] features, long[] exampleShape, float[] targets, long[] targetShape)
    {
        var n = (long)targets.Length / Math.Max(1, Product(targetShape));
        return new(Tensor.FromArray(features, [n, .. exampleShape], "features"), Tensor.FromArray(targets, [n, .. targetShape], "labels"));
    }

    public Tensor Features { get; }

    public Tensor Labels { get; }

    /// <summary>Number of examples N.</summary>
    public int Count { get; }

    /// <summary>The shape of one example's features (the features' dims after the first).</summary>
    public long[] ExampleShape => Features.Dims[1..];

    /// <summary>The shape of one example's label (empty for one class label per example).</summary>
    public long[] LabelShape => Labels.Dims[1..];

    public int FeaturesPerExample { get; }

    public int LabelsPerExample { get; }

    /// <summary>Whether the labels are int64 class indices.</summary>
    public bool HasClassLabels => Labels.ElementType == ElementType.Int64;

    /// <summary>1 + the largest class label (0 without class labels or examples).</summary>
    public int ClassCount => _classCount ??= ComputeClassCount();

    /// <summary>The features as a float span (row-major, <see cref="FeaturesPerExample"/> per example).</summary>
    public ReadOnlySpan<float> FeatureValues => MemoryMarshal.Cast<byte, float>(Features.RawBytes);

    private int FeatureRowBytes => FeaturesPerExample * sizeof(float);

    private int LabelRowBytes => LabelsPerExample * Labels.ElementType.BitWidth() / 8;

    /// <summary>Gathers the examples at <paramref name="indices"/>, in that order, into new tensors [B, ...].</summary>
    public (Tensor Features, Tensor Labels) GatherBatch(ReadOnlySpan<int> indices)
    {
        var features = new byte[(long)indices.Length * FeatureRowBytes];
        var labels = new byte[(long)indices.Length * LabelRowBytes];
        GatherBatch(indices, features, labels);
        return (new Tensor(ElementType.Float, [indices.Length, .. ExampleShape], features, "features"),
                new Tensor(Labels.ElementType, [indices.Length, .. LabelShape], labels, "labels"));
    }

    /// <summary>
    /// Gathers the examples at <paramref name="indices"/> into caller-owned buffers (e.g. pinned
    /// ONNX Runtime input buffers): little-endian features (float32) and labels (int64 or float32).
    /// </summary>
    public void GatherBatch(ReadOnlySpan<int> indices, Span<byte> features, Span<byte> labels)
    {
        int fRow = FeatureRowBytes, lRow = LabelRowBytes;
        if (features.Length < (long)indices.Length * fRow || labels.Length < (long)indices.Length * lRow)
        {
            throw new ArgumentException($"The destination buffers are too small for a batch of {indices.Length}.");
        }
        var sourceFeatures = Features.RawBytes;
        var sourceLabels = Labels.RawBytes;
        for (var i = 0; i < indices.Length; i++)
        {
            var index = indices[i];
            if ((uint)index >= (uint)Count)
            {
                throw new ArgumentOutOfRangeException(nameof(indices), $"Example index {index} is outside 0..{Count - 1}.");
            }
            sourceFeatures.Slice(index * fRow, fRow).CopyTo(features.Slice(i * fRow, fRow));
            sourceLabels.Slice(index * lRow, lRow).CopyTo(labels.Slice(i * lRow, lRow));
        }
    }

    /// <summary>Examples [start, start + count) as new tensors (one block copy each), e.g. for evaluation batches.</summary>
    public (Tensor Features, Tensor Labels) GetRange(int start, int count)
    {
        if (start < 0 || count < 0 || start > Count - count)
        {
            throw new ArgumentOutOfRangeException(nameof(count), $"Range [{start}, {start}+{count}) is outside the {Count} examples.");
        }
        var features = Features.RawBytes.Slice(start * FeatureRowBytes, count * FeatureRowBytes).ToArray();
        var labels = Labels.RawBytes.Slice(start * LabelRowBytes, count * LabelRowBytes).ToArray();
        return (new Tensor(ElementType.Float, [count, .. ExampleShape], features, "features"),
                new Tensor(Labels.ElementType, [count, .. LabelShape], labels, "labels"));
    }

    /// <summary>The examples at <paramref name="indices"/>, in that order, as a new data set.</summary>
    public Dataset Subset(ReadOnlySpan<int> indices)
    {
        var (features, labels) = GatherBatch(indices);
        return new Dataset(features, labels);
    }

    /// <summary>Examples [start, start + count) as a new data set.</summary>
    public Dataset Slice(int start, int count)
    {
        var (features, labels) = GetRange(start, count);
        return new Dataset(features, labels);
    }

    /// <summary>The first <paramref name="count"/> examples (all of them when there are fewer).</summary>
    public Dataset Take(int count) => Slice(0, Math.Min(Math.Max(count, 0), Count));

    /// <summary>
    /// A deterministic train/test split: a fraction of the examples (rounded to nearest) goes to the
    /// test set, chosen by a <see cref="SplitMix64"/> shuffle from <paramref name="seed"/>. With
    /// class labels (one per example) and <paramref name="stratify"/>, each class is split
    /// separately so both sets keep the class proportions. Both sets keep the original order.
    /// </summary>
    public (Dataset Train, Dataset Test) Split(double testFraction, ulong seed, bool stratify = true)
    {
        if (double.IsNaN(testFraction) || testFraction is < 0 or >= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(testFraction), $"The test fraction {testFraction} is not in [0, 1).");
        }
        var rng = new SplitMix64(seed);
        var isTest = new bool[Count];
        IEnumerable<int[]> groups = stratify && HasClassLabels && LabelsPerExample == 1
            ? ClassGroups()
            : [Enumerable.Range(0, Count).ToArray()];
        foreach (var group in groups)
        {
            rng.Shuffle(group.AsSpan());
            var testCount = (int)Math.Round(testFraction * group.Length, MidpointRounding.AwayFromZero);
            foreach (var index in group.AsSpan(0, testCount))
            {
                isTest[index] = true;
            }
        }
        var test = Enumerable.Range(0, Count).Where(i => isTest[i]).ToArray();
        var train = Enumerable.Range(0, Count).Where(i => !isTest[i]).ToArray();
        return (Subset(train), Subset(test));
    }

    /// <summary>
    /// The same examples with features of another example shape holding as many values, e.g.
    /// [784] → [1, 28, 28]. One dimension may be -1 (inferred).
    /// </summary>
    /// <exception cref="ImplicitRegException">The shapes hold different numbers of values.</exception>
    public Dataset Reshape(params long[] exampleShape)
    {
        var shape = (long[])exampleShape.Clone();
        var unknown = Array.FindAll(Enumerable.Range(0, shape.Length).ToArray(), i => shape[i] < 0);
        if (unknown.Length > 1)
        {
            throw ImplicitRegException.BadInput($"example shape [{string.Join(",", exampleShape)}] has more than one unknown dimension");
        }
        if (unknown.Length == 1)
        {
            var known = shape.Where(d => d >= 0).Aggregate(1L, (a, d) => a * d);
            if (known == 0 || FeaturesPerExample % known != 0)
            {
                throw ShapeMismatch(exampleShape);
            }
            shape[unknown[0]] = FeaturesPerExample / known;
        }
        if (Product(shape) != FeaturesPerExample)
        {
            throw ShapeMismatch(exampleShape);
        }
        var features = new Tensor(ElementType.Float, [Count, .. shape], Features.RawBytes.ToArray(), Features.Name);
        return new Dataset(features, Labels);
    }

    /// <summary>
    /// Reshapes the examples to a model input's shape [batch, d1, d2, ...]: the batch dimension is
    /// ignored and one other symbolic dimension (≤ 0) is inferred.
    /// </summary>
    public Dataset ReshapeForInput(IReadOnlyList<long> inputDims)
    {
        if (inputDims.Count == 0)
        {
            throw ImplicitRegException.BadInput("the model input is a scalar, not a batch of examples");
        }
        var shape = inputDims.Skip(1).Select(d => d > 0 ? d : -1).ToArray();
        return shape.AsSpan().SequenceEqual(ExampleShape) ? this : Reshape(shape);
    }

    /// <summary>The same features with other labels (same number of examples).</summary>
    public Dataset WithLabels(Tensor labels) => new(Features, labels);

    /// <summary>The same labels with other features (same number of examples).</summary>
    public Dataset WithFeatures(Tensor features) => new(features, Labels);

    public override string ToString() =>
        $"{Count} examples of [{string.Join(",", ExampleShape)}] float32, labels [{string.Join(",", LabelShape)}] {Labels.ElementType.Name()}";

    private ImplicitRegException ShapeMismatch(long[] exampleShape) =>
        ImplicitRegException.BadInput($"examples of shape [{string.Join(",", ExampleShape)}] ({FeaturesPerExample} values) cannot take the shape [{string.Join(",", exampleShape)}]");

    private List<int[]> ClassGroups()
    {
        var labels = MemoryMarshal.Cast<byte, long>(Labels.RawBytes).ToArray();
        return Enumerable.Range(0, Count).GroupBy(i => labels[i]).OrderBy(g => g.Key).Select(g => g.ToArray()).ToList();
    }

    private int ComputeClassCount()
    {
        if (!HasClassLabels || Labels.ElementCount == 0)
        {
            return 0;
        }
        var max = long.MinValue;
        foreach (var label in MemoryMarshal.Cast<byte, long>(Labels.RawBytes))
        {
            max = Math.Max(max, label);
        }
        return max < 0 ? 0 : checked((int)(max + 1));
    }

    internal static long Product(long[] dims)
    {
        long product = 1;
        foreach (var d in dims)
        {
            product = checked(product * d);
        }
        return product;
    }
}
