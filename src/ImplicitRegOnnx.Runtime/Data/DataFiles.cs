using System.IO.Compression;
using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Onnx.Numpy;

namespace ImplicitRegOnnx.Runtime.Data;

/// <summary>
/// Loads the data files of <c>train</c>, <c>eval</c> and <c>sweep</c> for a model's inputs, and holds the
/// file helpers the loaders share (gzip detection, one-line errors for I/O failures).
/// </summary>
public static class DataFiles
{
    /// <summary>
    /// Loads <paramref name="path"/> for a model with <paramref name="inputs"/> (<see cref="DataInput.Of(Model)"/>)
    /// and binds it to them (<see cref="Dataset.ForInputs"/>). A .npz archive holding an array named as
    /// a model input (always, for a model of several inputs) is read as named arrays: one per model
    /// input, named as the input, plus <c>target</c> (the batches of <c>implicitreg grad</c>); an array for
    /// a floating-point input may have any numeric type and is converted to the input's (NumPy's default
    /// is float64), one for an integer or bool input must have the input's type. Anything else is read as
    /// single-input data by <see cref="DataLoader.Load"/> (.npz/.npy x and y, CSV, IDX), whose features
    /// feed the model's one input.
    /// </summary>
    /// <exception cref="ImplicitRegException">
    /// Of kind BadInput, naming the file and the array: unreadable, a model input without an array, no
    /// target, first dimensions that differ, an element type or shape that does not fit the input.
    /// </exception>
    public static Dataset Load(string path, IReadOnlyList<DataInput> inputs, DataLoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(inputs);
        options ??= DataLoadOptions.Default;
        Dataset data;
        if (!Directory.Exists(path) && DataLoader.Sniff(path) == DataFormat.Npz)
        {
            var arrays = Guard(path, () => NpzArchive.Read(path));
            // One input named like the x of an (x, y) archive: without 'target' but with labels under one of
            // the single-input names the archive is the single-input form, as the docs promise.
            var named = inputs.Count > 1
                || (inputs.Any(i => arrays.ContainsKey(i.Name)) && (arrays.ContainsKey(NumpyData.TargetName) || !NumpyData.HasSingleInputLabels(arrays.Keys)));
            data = named
                ? ConvertToInputs(NumpyData.FromNamedArchive(arrays, path, options), inputs)
                : new Dataset(NumpyData.FromArchive(arrays, path, options).Arrays, path);
        }
        else
        {
            data = new Dataset(DataLoader.Load(path, options).Arrays, path);
        }
        return CheckValues(data.ForInputs(inputs), path);
    }

    /// <summary>
    /// A data file must hold examples, and floating-point arrays only finite numbers: a NaN or infinity in
    /// the data would otherwise surface as "training diverged" at the first step, blaming the learning rate.
    /// </summary>
    private static Dataset CheckValues(Dataset data, string path)
    {
        if (data.Count == 0)
        {
            throw ImplicitRegException.BadInput($"'{path}' holds no examples (its arrays have 0 rows); give a file with at least one example");
        }
        foreach (var array in data.Arrays)
        {
            var row = array.ElementType switch
            {
                ElementType.Float => FirstNonFinite(array.Values<float>(), float.IsFinite),
                ElementType.Double => FirstNonFinite(array.Values<double>(), double.IsFinite),
                ElementType.Float16 => FirstNonFinite(array.Values<Half>(), Half.IsFinite),
                _ => -1,
            };
            if (row >= 0)
            {
                var index = row / Math.Max(array.ValuesPerRow, 1);
                throw ImplicitRegException.BadInput(
                    $"'{path}': array '{array.Name}' holds a NaN or infinite value (example {index}); clean the data or leave those examples out");
            }
        }
        return data;
    }

    private static long FirstNonFinite<T>(ReadOnlySpan<T> values, Func<T, bool> isFinite)
    {
        for (var i = 0; i < values.Length; i++)
        {
            if (!isFinite(values[i]))
            {
                return i;
            }
        }
        return -1;
    }

    /// <summary>
    /// Loads a training file and an optional test file for a model (<see cref="Load"/>) and normalizes
    /// both with the statistics of the training data (<see cref="DataNormalization.Parse"/>: every
    /// floating-point input array).
    /// </summary>
    public static (Dataset Train, Dataset? Test) LoadTrainTest(string trainPath, string? testPath, IReadOnlyList<DataInput> inputs,
        string normalize = "none", DataLoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(normalize);
        var train = Load(trainPath, inputs, options);
        var test = testPath is null ? null : Load(testPath, inputs, options);
        var normalization = DataNormalization.Parse(normalize, train);
        return (normalization.Apply(train), test is null ? null : normalization.Apply(test));
    }

    /// <summary>Converts arrays for floating-point inputs to the input's type (any numeric array); the others stay as they are.</summary>
    private static Dataset ConvertToInputs(Dataset data, IReadOnlyList<DataInput> inputs)
    {
        foreach (var input in inputs)
        {
            if (input.ElementType is { } type && type.IsFloatingPoint() && data.Contains(input.Name)
                && data[input.Name] is { } array && array.ElementType != type
                && (array.ElementType.IsFloatingPoint() || array.ElementType.IsInteger() || array.ElementType == ElementType.Bool))
            {
                var tensor = array.ToTensor();
                data = data.With(DataArray.FromTensor(Tensor.FromDoubles(type, tensor.ToDoubles(), tensor.Dims, input.Name)));
            }
        }
        return data;
    }

    /// <summary>Opens a file for reading, decompressing it when it starts with the gzip magic bytes 1f 8b (RFC 1952).</summary>
    internal static Stream OpenMaybeGzip(string path)
    {
        var file = OpenRead(path);
        return MaybeGunzip(file);
    }

    /// <summary>
    /// Decompresses the stream when it starts with the gzip magic bytes. The result owns the stream
    /// unless <paramref name="leaveOpen"/>; disposing it then leaves the caller's stream open.
    /// </summary>
    internal static Stream MaybeGunzip(Stream stream, bool leaveOpen = false)
    {
        if (!stream.CanSeek)
        {
            var copy = new MemoryStream();
            stream.CopyTo(copy);
            if (!leaveOpen)
            {
                stream.Dispose();
            }
            leaveOpen = false;
            copy.Position = 0;
            stream = copy;
        }
        var start = stream.Position;
        Span<byte> magic = stackalloc byte[2];
        var read = stream.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
        stream.Position = start;
        if (read == 2 && magic[0] == 0x1f && magic[1] == 0x8b)
        {
            return new GZipStream(stream, CompressionMode.Decompress, leaveOpen);
        }
        return leaveOpen ? new NonClosingStream(stream) : stream;
    }

    internal static FileStream OpenRead(string path) => UserFiles.OpenRead(path);

    /// <summary>Runs a read and turns I/O and decompression failures into bad input naming the file (<see cref="UserFiles.CannotRead"/>).</summary>
    internal static T Guard<T>(string path, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            throw UserFiles.CannotRead(path, e);
        }
    }

    /// <summary>
    /// The first existing file among the names made from <paramref name="path"/>'s name by replacing
    /// one of its tokens (separated by '_', '-' or '.') per the map, e.g. x.npy → y.npy,
    /// train-images-idx3-ubyte.gz → train-labels-idx1-ubyte.gz, with or without a ".gz" suffix.
    /// </summary>
    internal static string? FindCompanion(string path, IReadOnlyDictionary<string, string> tokenMap, out List<string> tried)
    {
        tried = [];
        var folder = Path.GetDirectoryName(path) ?? "";
        var name = Path.GetFileName(path);
        var tokens = Tokenize(name);
        var replaced = false;
        for (var i = 0; i < tokens.Count; i++)
        {
            if (tokenMap.TryGetValue(tokens[i], out var other))
            {
                tokens[i] = other;
                replaced = true;
            }
        }
        if (!replaced)
        {
            return null;
        }
        var candidate = string.Concat(tokens);
        string[] names = candidate.EndsWith(".gz", StringComparison.Ordinal)
            ? [candidate, candidate[..^3]]
            : [candidate, candidate + ".gz"];
        foreach (var n in names)
        {
            var full = Path.Combine(folder, n);
            tried.Add(n);
            if (File.Exists(full))
            {
                return full;
            }
        }
        return null;
    }

    /// <summary>Splits a file name into word tokens and separators, keeping both so they concatenate back.</summary>
    private static List<string> Tokenize(string name)
    {
        var tokens = new List<string>();
        var start = 0;
        for (var i = 0; i <= name.Length; i++)
        {
            if (i == name.Length || name[i] is '_' or '-' or '.')
            {
                if (i > start)
                {
                    tokens.Add(name[start..i]);
                }
                if (i < name.Length)
                {
                    tokens.Add(name[i].ToString());
                }
                start = i + 1;
            }
        }
        return tokens;
    }
}

/// <summary>Forwards reads to a stream the caller keeps: disposing this leaves it open.</summary>
internal sealed class NonClosingStream(Stream inner) : Stream
{
    public override bool CanRead => inner.CanRead;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

    public override int Read(Span<byte> buffer) => inner.Read(buffer);

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
