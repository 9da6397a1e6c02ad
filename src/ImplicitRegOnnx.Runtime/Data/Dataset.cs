using System.Runtime.InteropServices;
using ImplicitRegOnnx.Onnx;

namespace ImplicitRegOnnx.Runtime.Data;

/// <summary>
/// Examples held in memory as named arrays (<see cref="DataArray"/>) of any numeric element type that
/// share the first dimension: row i of every array is example i. The arrays named as a model's inputs
/// feed those inputs, and the array named <see cref="TargetName"/> ("target", as in the batches of
/// <c>implicitreg grad</c>) holds the labels. Batches and shuffles take the same rows of every array
/// (<see cref="Gather"/>, with <see cref="EpochSampler"/>'s permutations).
/// <para>
/// Single-input data (CSV, IDX, .npz/.npy with x and y) is the special case of one input array,
/// <see cref="FeaturesName"/>, of float32 features and a target of int64 class labels or float32
/// targets; the members under "single input" (<see cref="Features"/>, <see cref="GatherBatch(ReadOnlySpan{int})"/>,
/// ...) serve it, and <see cref="ForInputs"/> feeds its one array to a model's one input whatever
/// the input's name.
/// </para>
/// </summary>
public sealed class Dataset
{
    /// <summary>The name of the labels array (the input name the loss of a training graph reads).</summary>
    public const string TargetName = ImplicitRegOnnx.Training.GradientModelBuilder.Target;

    /// <summary>The name of the one input array of single-input data.</summary>
    public const string FeaturesName = "features";

    private readonly DataArray[] _arrays;
    private readonly DataArray[] _inputs;
    private int? _classCount;

    /// <summary>
    /// A data set of named arrays (no copies). <paramref name="source"/> names where they came from
    /// (a file) in error messages.
    /// </summary>
    /// <exception cref="ImplicitRegException">Of kind BadInput: no arrays, two arrays of one name, or first dimensions that differ.</exception>
    public Dataset(IEnumerable<DataArray> arrays, string? source = null)
    {
        ArgumentNullException.ThrowIfNull(arrays);
        _arrays = [.. arrays];
        Source = source;
        var where = source is null ? "the data set" : $"'{source}'";
        if (_arrays.Length == 0)
        {
            throw ImplicitRegException.BadInput($"{where} has no arrays");
        }
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var array in _arrays)
        {
            ArgumentNullException.ThrowIfNull(array);
            if (!names.Add(array.Name))
            {
                throw ImplicitRegException.BadInput($"{where} has two arrays named '{array.Name}'");
            }
            if (array.Count != _arrays[0].Count)
            {
                throw ImplicitRegException.BadInput(
                    $"{where}: array '{array.Name}' has {array.Count} rows along axis 0 but '{_arrays[0].Name}' has {_arrays[0].Count}; every array needs one row per example");
            }
        }
        Count = _arrays[0].Count;
        Target = _arrays.FirstOrDefault(a => a.Name == TargetName);
        _inputs = [.. _arrays.Where(a => a.Name != TargetName)];
    }

    /// <summary>A data set of named tensors (no copies): each keeps its name, the labels are the one named "target".</summary>
    public static Dataset FromTensors(IEnumerable<Tensor> arrays, string? source = null) =>
        new(arrays.Select(t => DataArray.FromTensor(t)), source);

    /// <summary>A data set of tensors by name (no copies), e.g. an .npz archive as read.</summary>
    public static Dataset FromTensors(IEnumerable<KeyValuePair<string, Tensor>> arrays, string? source = null) =>
        new(arrays.Select(p => DataArray.FromTensor(p.Value, p.Key)), source);

    /// <summary>
    /// Single-input data: features, a float32 tensor [N, ...], and labels, an int64 (class labels) or
    /// float32 (targets) tensor [N, ...], held as the arrays <see cref="FeaturesName"/> and <see cref="TargetName"/>.
    /// </summary>
    public Dataset(Tensor features, Tensor labels)
        : this([DataArray.FromTensor(CheckFeatures(features, labels), FeaturesName), DataArray.FromTensor(labels, TargetName)])
    {
    }

    private static Tensor CheckFeatures(Tensor features, Tensor labels)
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
        return features;
    }

    /// <summary>A data set from float32 features of shape [N, exampleShape...] and class labels [N].</summary>
    public static Dataset FromArrays(float[] features, long[] exampleShape, long[] classLabels) =>
        new(Tensor.FromArray(features, [classLabels.LongLength, .. exampleShape], FeaturesName),
            Tensor.FromArray(classLabels, [classLabels.LongLength], TargetName));

    /// <summary>A data set from float32 features of shape [N, exampleShape...] and float targets [N, targetShape...].</summary>
    public static Dataset FromArrays(float[] features, long[] exampleShape, float[] targets, long[] targetShape)
    {
        var n = (long)targets.Length / Math.Max(1, Product(targetShape));
        return new(Tensor.FromArray(features, [n, .. exampleShape], FeaturesName), Tensor.FromArray(targets, [n, .. targetShape], TargetName));
    }

    /// <summary>Where the arrays came from (a file), for error messages; null when built in memory.</summary>
    public string? Source { get; }

    /// <summary>Every array: the inputs, then the target where it is (in the order given).</summary>
    public IReadOnlyList<DataArray> Arrays => _arrays;

    /// <summary>The arrays other than the target, in the order given.</summary>
    public IReadOnlyList<DataArray> Inputs => _inputs;

    /// <summary>The labels array ("target"), or null.</summary>
    public DataArray? Target { get; }

    /// <summary>The array named <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">No such array.</exception>
    public DataArray this[string name] => _arrays.FirstOrDefault(a => a.Name == name)
        ?? throw new KeyNotFoundException($"The data set has no array '{name}'; it holds {Holds}.");

    /// <summary>Whether an array is named <paramref name="name"/>.</summary>
    public bool Contains(string name) => _arrays.Any(a => a.Name == name);

    /// <summary>Number of examples N.</summary>
    public int Count { get; }

    /// <summary>Whether the target holds int64 class indices.</summary>
    public bool HasClassLabels => Target?.ElementType == ElementType.Int64;

    /// <summary>1 + the largest class label (0 without class labels or examples).</summary>
    public int ClassCount => _classCount ??= ComputeClassCount();

    /// <summary>The arrays' names, quoted, for messages.</summary>
    internal string Holds => string.Join(", ", _arrays.Select(a => $"'{a.Name}'"));

    /// <summary>Gathers the examples at <paramref name="indices"/>, in that order, from every array: one tensor [B, ...] per array, named as it.</summary>
    public IReadOnlyDictionary<string, Tensor> Gather(ReadOnlySpan<int> indices)
    {
        var batch = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var array in _arrays)
        {
            batch[array.Name] = array.Gather(indices);
        }
        return batch;
    }

    /// <summary>Examples [start, start + count) of every array (one block copy each), e.g. for evaluation batches.</summary>
    public IReadOnlyDictionary<string, Tensor> Range(int start, int count)
    {
        CheckRange(start, count);
        var batch = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var array in _arrays)
        {
            batch[array.Name] = array.Range(start, count);
        }
        return batch;
    }

    /// <summary>The examples at <paramref name="indices"/>, in that order, as a new data set (copies).</summary>
    public Dataset Subset(ReadOnlySpan<int> indices)
    {
        var arrays = new List<DataArray>(_arrays.Length);
        foreach (var array in _arrays)
        {
            arrays.Add(DataArray.FromTensor(array.Gather(indices)));
        }
        return new Dataset(arrays, Source);
    }

    /// <summary>Examples [start, start + count) as a data set over the same memory (no copy).</summary>
    public Dataset Slice(int start, int count)
    {
        CheckRange(start, count);
        return new Dataset(_arrays.Select(a => a.Rows(start, count)), Source);
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
        IEnumerable<int[]> groups = stratify && HasClassLabels && Target!.ValuesPerRow == 1
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

    /// <summary>The same examples with <paramref name="array"/> added, or replacing the array of its name.</summary>
    public Dataset With(DataArray array)
    {
        ArgumentNullException.ThrowIfNull(array);
        var replaced = false;
        var arrays = _arrays.Select(a =>
        {
            if (a.Name != array.Name)
            {
                return a;
            }
            replaced = true;
            return array;
        }).ToList();
        if (!replaced)
        {
            arrays.Add(array);
        }
        return new Dataset(arrays, Source);
    }

    /// <summary>
    /// The arrays that feed <paramref name="inputs"/> (named as them, in their order) and the target:
    /// an array named as each input, or, for a model with one input and data with one input array
    /// (single-input data), that array under the input's name. Rows are reshaped (no copy) to an input's
    /// declared shape when they hold as many values (e.g. [784] for [batch, 1, 28, 28]; one symbolic
    /// dimension is inferred). Arrays no input reads are left out.
    /// </summary>
    /// <param name="inputs">The model's inputs (<see cref="DataInput.Of(Model)"/>).</param>
    /// <param name="target">
    /// The loss's target input of a training or evaluation model (its graph input "target"), when known:
    /// the target is then converted to its element type where that loses nothing a loss can use (integer
    /// labels to int64; any numbers to a floating-point target, e.g. float32 targets for a float16 model) and
    /// reshaped to its shape when it holds as many values (targets [N] for an output [N, 1]).
    /// </param>
    /// <exception cref="ImplicitRegException">
    /// Of kind BadInput, naming <see cref="Source"/> and the array: an input without an array, an element
    /// type other than the input's, a shape that does not fit it, a target the loss cannot take.
    /// </exception>
    public Dataset ForInputs(IReadOnlyList<DataInput> inputs, DataInput? target = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var where = Source is null ? "the data" : $"'{Source}'";
        var bound = new List<DataArray>(inputs.Count + 1);
        var byName = inputs.All(i => Contains(i.Name));
        if (!byName && !(inputs.Count == 1 && _inputs.Length == 1))
        {
            var missing = inputs.Where(i => !Contains(i.Name)).Select(i => $"'{i.Name}'");
            throw ImplicitRegException.BadInput(
                $"{where} has no array for model input {string.Join(", ", missing)}; it holds {Holds}; give one array per model input, named as the input ({string.Join(", ", inputs.Select(i => i.Name))}), plus '{TargetName}'");
        }
        foreach (var input in inputs)
        {
            var array = byName ? this[input.Name] : _inputs[0];
            bound.Add(Fit(array, input, where).WithName(input.Name));
        }
        if (Target is { } labels)
        {
            bound.Add(target is null ? labels : FitTarget(labels, target, where));
        }
        var result = new Dataset(bound, Source);
        return result._arrays.SequenceEqual(_arrays) ? this : result;
    }

    private static DataArray FitTarget(DataArray labels, DataInput target, string where)
    {
        if (target.ElementType is { } type && type != ElementType.Undefined && type != labels.ElementType)
        {
            var integral = labels.ElementType.IsInteger() || labels.ElementType == ElementType.Bool;
            if (type == ElementType.Int64 && !integral)
            {
                throw ImplicitRegException.BadInput(
                    $"{where}: array '{TargetName}' is {labels.ElementType.Name()} but the loss needs int64 class labels (cross-entropy and nll do); give integer labels or another loss");
            }
            if (!(type.IsFloatingPoint() || type == ElementType.Int64) || !(integral || labels.ElementType.IsFloatingPoint()))
            {
                throw ImplicitRegException.BadInput(
                    $"{where}: array '{TargetName}' is {labels.ElementType.Name()} but the loss needs {type.Name()}; save the target as {type.Name()}");
            }
            var tensor = labels.ToTensor();
            labels = DataArray.FromTensor(Tensor.FromDoubles(type, tensor.ToDoubles(), tensor.Dims, TargetName));
        }
        labels = Fit(labels, target, where, "the loss's target");
        if (target.Classes is { } classes && labels.ElementType == ElementType.Int64)
        {
            // Cross-entropy and nll gather the score of each label (ONNX SoftmaxCrossEntropyLoss, NegativeLogLikelihoodLoss):
            // a label outside [0, C) would fail inside ONNX Runtime's kernel, or silently read nothing.
            var values = labels.Values<long>();
            for (var i = 0; i < values.Length; i++)
            {
                if (values[i] < 0 || values[i] >= classes)
                {
                    var example = i / Math.Max(labels.ValuesPerRow, 1);
                    throw ImplicitRegException.BadInput(
                        $"{where}: array '{TargetName}' holds the class label {values[i]} (example {example}) but the model scores {classes} classes; labels must be 0 to {classes - 1}");
                }
            }
        }
        return labels;
    }

    private static DataArray Fit(DataArray array, DataInput input, string where, string? role = null)
    {
        role ??= $"model input '{input.Name}'";
        var what = array.Name == input.Name ? $"array '{array.Name}'" : $"array '{array.Name}' (for model input '{input.Name}')";
        if (input.ElementType is { } type && type != ElementType.Undefined && type != array.ElementType)
        {
            throw ImplicitRegException.BadInput(
                $"{where}: {what} is {array.ElementType.Name()} but {role} is {type.Name()}; save the array as {type.Name()}");
        }
        if (input.Dims is not { } dims)
        {
            return array;
        }
        if (dims.Count == 0)
        {
            throw ImplicitRegException.BadInput($"{where}: {role} is a scalar, not a batch of examples");
        }
        var shape = dims.Skip(1).Select(d => d > 0 ? d : -1).ToArray();
        var row = array.RowShape;
        if (row.Length == shape.Length && shape.Zip(row).All(p => p.First < 0 || p.First == p.Second))
        {
            return array;
        }
        var values = array.ValuesPerRow;
        var unknown = shape.Count(d => d < 0);
        var known = shape.Where(d => d >= 0).Aggregate(1L, (a, d) => a * d);
        if (unknown <= 1 && known > 0 && values % known == 0 && (unknown == 1 || known == values))
        {
            return array.WithRowShape([.. shape.Select(d => d < 0 ? values / known : d)]);
        }
        throw ImplicitRegException.BadInput(
            $"{where}: {what} has rows of shape [{string.Join(",", row)}] ({values} values) but {role} needs [{string.Join(",", dims.Select(d => d < 0 ? "?" : d.ToString(System.Globalization.CultureInfo.InvariantCulture)))}]");
    }

    /// <summary>The example count and each array's name, element type and per-example shape.</summary>
    public override string ToString() =>
        $"{Count} examples: {string.Join(", ", _arrays.Select(a => $"{a.Name} {a.ElementType.Name()}[{string.Join(",", a.RowShape)}]"))}";

    // Single input: data with one input array (CSV, IDX, x/y files, FromArrays).

    /// <summary>Single input: the one input array as a tensor [N, ...].</summary>
    /// <exception cref="InvalidOperationException">The data set has several input arrays (use <see cref="Arrays"/>).</exception>
    public Tensor Features => SingleInput.ToTensor();

    /// <summary>The target array as a tensor [N, ...].</summary>
    /// <exception cref="InvalidOperationException">The data set has no target.</exception>
    public Tensor Labels => RequiredTarget.ToTensor();

    /// <summary>Single input: the shape of one example's features (the features' dims after the first).</summary>
    public long[] ExampleShape => SingleInput.RowShape;

    /// <summary>The shape of one example's label (empty for one class label per example).</summary>
    public long[] LabelShape => RequiredTarget.RowShape;

    /// <summary>Single input: values per example.</summary>
    public int FeaturesPerExample => SingleInput.ValuesPerRow;

    /// <summary>Values per example of the target.</summary>
    public int LabelsPerExample => RequiredTarget.ValuesPerRow;

    /// <summary>Single input: the features as a float span (row-major, <see cref="FeaturesPerExample"/> per example).</summary>
    public ReadOnlySpan<float> FeatureValues => SingleInput.Values<float>();

    private DataArray SingleInput => _inputs.Length == 1
        ? _inputs[0]
        : throw new InvalidOperationException($"The data set has {_inputs.Length} input arrays ({string.Join(", ", _inputs.Select(a => a.Name))}), not one; use Arrays or Gather.");

    private DataArray RequiredTarget => Target ?? throw new InvalidOperationException($"The data set has no '{TargetName}' array; it holds {Holds}.");

    /// <summary>Single input: gathers the examples at <paramref name="indices"/>, in that order, into new tensors [B, ...].</summary>
    public (Tensor Features, Tensor Labels) GatherBatch(ReadOnlySpan<int> indices) =>
        (SingleInput.Gather(indices).WithName(FeaturesName), RequiredTarget.Gather(indices).WithName("labels"));

    /// <summary>
    /// Single input: gathers the examples at <paramref name="indices"/> into caller-owned buffers (e.g.
    /// pinned ONNX Runtime input buffers): little-endian features and labels.
    /// </summary>
    public void GatherBatch(ReadOnlySpan<int> indices, Span<byte> features, Span<byte> labels)
    {
        var input = SingleInput;
        var target = RequiredTarget;
        if (features.Length < (long)indices.Length * input.RowBytes || labels.Length < (long)indices.Length * target.RowBytes)
        {
            throw new ArgumentException($"The destination buffers are too small for a batch of {indices.Length}.");
        }
        input.Gather(indices, features);
        target.Gather(indices, labels);
    }

    /// <summary>Single input: examples [start, start + count) as new tensors (one block copy each).</summary>
    public (Tensor Features, Tensor Labels) GetRange(int start, int count)
    {
        CheckRange(start, count);
        return (SingleInput.Range(start, count).WithName(FeaturesName), RequiredTarget.Range(start, count).WithName("labels"));
    }

    /// <summary>
    /// Single input: the same examples with features of another example shape holding as many values,
    /// e.g. [784] → [1, 28, 28]. One dimension may be -1 (inferred).
    /// </summary>
    /// <exception cref="ImplicitRegException">The shapes hold different numbers of values.</exception>
    public Dataset Reshape(params long[] exampleShape)
    {
        var input = SingleInput;
        var values = input.ValuesPerRow;
        var shape = (long[])exampleShape.Clone();
        var unknown = Array.FindAll(Enumerable.Range(0, shape.Length).ToArray(), i => shape[i] < 0);
        if (unknown.Length > 1)
        {
            throw ImplicitRegException.BadInput($"example shape [{string.Join(",", exampleShape)}] has more than one unknown dimension");
        }
        if (unknown.Length == 1)
        {
            var known = shape.Where(d => d >= 0).Aggregate(1L, (a, d) => a * d);
            if (known == 0 || values % known != 0)
            {
                throw ShapeMismatch(exampleShape);
            }
            shape[unknown[0]] = values / known;
        }
        if (Product(shape) != values)
        {
            throw ShapeMismatch(exampleShape);
        }
        return With(input.WithRowShape(shape));
    }

    /// <summary>
    /// Single input: reshapes the examples to a model input's shape [batch, d1, d2, ...]: the batch
    /// dimension is ignored and one other symbolic dimension (≤ 0) is inferred.
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

    /// <summary>The same inputs with other labels (same number of examples).</summary>
    public Dataset WithLabels(Tensor labels) => With(DataArray.FromTensor(labels, TargetName));

    /// <summary>Single input: the same labels with other features (same number of examples).</summary>
    public Dataset WithFeatures(Tensor features) => With(DataArray.FromTensor(features, SingleInput.Name));

    private ImplicitRegException ShapeMismatch(long[] exampleShape) =>
        ImplicitRegException.BadInput($"examples of shape [{string.Join(",", ExampleShape)}] ({FeaturesPerExample} values) cannot take the shape [{string.Join(",", exampleShape)}]");

    private void CheckRange(int start, int count)
    {
        if (start < 0 || count < 0 || start > Count - count)
        {
            throw new ArgumentOutOfRangeException(nameof(count), $"Range [{start}, {start}+{count}) is outside the {Count} examples.");
        }
    }

    private List<int[]> ClassGroups()
    {
        var labels = Target!.Values<long>().ToArray();
        return Enumerable.Range(0, Count).GroupBy(i => labels[i]).OrderBy(g => g.Key).Select(g => g.ToArray()).ToList();
    }

    private int ComputeClassCount()
    {
        if (!HasClassLabels || Target!.Bytes.Length == 0)
        {
            return 0;
        }
        var max = long.MinValue;
        foreach (var label in Target.Values<long>())
        {
            max = Math.Max(max, label);
        }
        return max < 0 ? 0 : checked((int)(max + 1));
    }

    internal static long Product(IEnumerable<long> dims)
    {
        long product = 1;
        foreach (var d in dims)
        {
            product = checked(product * d);
        }
        return product;
    }
}
