using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using ImplicitRegOnnx.Onnx;

namespace ImplicitRegOnnx.Runtime.Verification;

/// <summary>How <see cref="RandomFeeds"/> fills in sizes and values.</summary>
public sealed record FeedOptions
{
    /// <summary>Sizes for symbolic dimensions, by symbol name.</summary>
    public IReadOnlyDictionary<string, long> Dims { get; init; } = new Dictionary<string, long>(StringComparer.Ordinal);

    /// <summary>Full shapes for some inputs, by input name; they override the declared dimensions (the rank must match).</summary>
    public IReadOnlyDictionary<string, long[]> Shapes { get; init; } = new Dictionary<string, long[]>(StringComparer.Ordinal);

    /// <summary>Inputs filled with one value instead of random data, by input name (e.g. a sample rate the model checks).</summary>
    public IReadOnlyDictionary<string, double> Values { get; init; } = new Dictionary<string, double>(StringComparer.Ordinal);

    /// <summary>Size of symbolic dimensions not in <see cref="Dims"/> and of unknown dimensions.</summary>
    public long DefaultDim { get; init; } = 2;

    /// <summary>Integer inputs are drawn from 0 to this value inclusive (small, so they are valid indices).</summary>
    public long MaxInteger { get; init; } = 1;

    /// <summary>Seed of the generated values (the same seed gives the same feeds).</summary>
    public int Seed { get; init; } = 1234;

    /// <summary>
    /// Feed options from the specs a tool or a script writes: <c>NAME=SIZE</c> for <see cref="Dims"/> (<c>*=SIZE</c>
    /// sets <see cref="DefaultDim"/>), <c>INPUT=D0,D1,...</c> for <see cref="Shapes"/> (<c>INPUT=</c> a scalar),
    /// <c>INPUT=NUMBER</c> for <see cref="Values"/>. A later spec of the same name wins.
    /// </summary>
    /// <param name="dims">Sizes of symbolic dimensions, e.g. <c>batch=4</c>.</param>
    /// <param name="shapes">Whole shapes of inputs, e.g. <c>input=1,512</c>.</param>
    /// <param name="values">Fixed values of inputs, e.g. <c>sr=16000</c>.</param>
    /// <param name="seed">The <see cref="Seed"/>.</param>
    /// <exception cref="ImplicitRegException">Of kind <see cref="ErrorKind.BadInput"/> naming the property and the spec that does not parse.</exception>
    public static FeedOptions Parse(IEnumerable<string>? dims, IEnumerable<string>? shapes = null, IEnumerable<string>? values = null, int seed = 1234)
    {
        var sizes = new Dictionary<string, long>(StringComparer.Ordinal);
        long defaultDim = 2;
        foreach (var spec in dims ?? [])
        {
            var (name, text) = Split(spec);
            if (name is null || !long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var size))
            {
                throw ImplicitRegException.BadParameter("FeedOptions.Dims", $"'{spec}': expected NAME=SIZE with a non-negative integer SIZE, e.g. batch=4");
            }
            if (name == "*")
            {
                defaultDim = size;
            }
            else
            {
                sizes[name] = size;
            }
        }
        var whole = new Dictionary<string, long[]>(StringComparer.Ordinal);
        foreach (var spec in shapes ?? [])
        {
            var (name, text) = Split(spec);
            var parts = text.Length == 0 ? [] : text.Split(',', StringSplitOptions.TrimEntries);
            var parsed = parts.Select(d => long.TryParse(d, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : -1).ToArray();
            if (name is null || parsed.Any(v => v < 0))
            {
                throw ImplicitRegException.BadParameter("FeedOptions.Shapes", $"'{spec}': expected INPUT=D0,D1,... with non-negative integer sizes, e.g. input=1,512");
            }
            whole[name] = parsed;
        }
        var fixedValues = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var spec in values ?? [])
        {
            var (name, text) = Split(spec);
            if (name is null || !double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value))
            {
                throw ImplicitRegException.BadParameter("FeedOptions.Values", $"'{spec}': expected INPUT=NUMBER, e.g. sr=16000");
            }
            fixedValues[name] = value;
        }
        return new FeedOptions { Dims = sizes, Shapes = whole, Values = fixedValues, DefaultDim = defaultDim, Seed = seed };
    }

    /// <summary>NAME and the text after the last '='; a null name when there is no '=' or nothing before it.</summary>
    private static (string? Name, string Text) Split(string spec)
    {
        var eq = spec.LastIndexOf('=');
        return eq <= 0 ? (null, "") : (spec[..eq], spec[(eq + 1)..]);
    }
}

/// <summary>
/// Random inputs for a model, built from the declared types of its graph inputs: floats uniform in
/// [-1, 1), integers small and non-negative, bools random, unless <see cref="FeedOptions.Values"/> fixes
/// an input's value. The same seed gives the same feeds.
/// </summary>
internal static class RandomFeeds
{
    /// <summary>One tensor per input the caller must feed (graph inputs that are not initializers).</summary>
    /// <exception cref="ImplicitRegException">Of kind <see cref="ErrorKind.BadInput"/>: with <see cref="ImplicitRegException.Parameter"/>
    /// set when <paramref name="options"/> name an input the model lacks or give a shape of the wrong rank, without it when an input
    /// cannot be filled (not a tensor, unknown rank, an unsupported element type, too large).</exception>
    public static IReadOnlyList<Tensor> Create(Model model, FeedOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        options ??= new FeedOptions();
        CheckInputNames(model, options.Shapes.Keys, "FeedOptions.Shapes");
        CheckInputNames(model, options.Values.Keys, "FeedOptions.Values");
        var random = new Random(options.Seed);
        var feeds = new List<Tensor>();
        foreach (var input in model.Graph.RequiredInputs)
        {
            if (input.Type is not TensorType tensorType)
            {
                throw ImplicitRegException.BadInput($"input '{input.Name}' has type {Describe(input.Type)}; only tensor inputs can be filled with random data");
            }
            if (options.Shapes.TryGetValue(input.Name, out var given))
            {
                if (tensorType.Shape is not null && tensorType.Shape.Rank != given.Length)
                {
                    throw ImplicitRegException.BadParameter("FeedOptions.Shapes", $"{input.Name}: the model declares input '{input.Name}' with rank {tensorType.Shape.Rank} {tensorType.Shape}, but {given.Length} sizes were given");
                }
                feeds.Add(Fill(input.Name, tensorType.ElementType, given, random, options));
                continue;
            }
            if (tensorType.Shape is null)
            {
                throw ImplicitRegException.BadInput($"input '{input.Name}' has no declared shape (unknown rank), so no random data can be made for it; give its shape in FeedOptions.Shapes");
            }
            var dims = tensorType.Shape.Select(d => Size(d, options, input.Name)).ToArray();
            feeds.Add(Fill(input.Name, tensorType.ElementType, dims, random, options));
        }
        return feeds;
    }

    private static void CheckInputNames(Model model, IEnumerable<string> names, string parameter)
    {
        var inputs = model.Graph.RequiredInputs.Select(v => v.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var name in names.Where(n => !inputs.Contains(n)))
        {
            throw ImplicitRegException.BadParameter(parameter, $"{name}: the model has no input named '{name}'; its inputs are {string.Join(", ", inputs.Order(StringComparer.Ordinal))}");
        }
    }

    private static long Size(Dim dim, FeedOptions options, string input)
    {
        var size = dim.Value
            ?? (dim.Symbol is not null && options.Dims.TryGetValue(dim.Symbol, out var given) ? given : options.DefaultDim);
        return size >= 0 ? size : throw ImplicitRegException.BadInput($"input '{input}' has a negative dimension {size}");
    }

    private static Tensor Fill(string name, ElementType type, long[] dims, Random random, FeedOptions options)
    {
        long count = 1;
        foreach (var d in dims)
        {
            count = checked(count * d);
        }
        if (count > 1 << 28)
        {
            throw ImplicitRegException.BadInput($"input '{name}' would have {count} elements; give smaller sizes in FeedOptions.Dims");
        }
        var n = (int)count;
        if (type == ElementType.String)
        {
            var strings = new byte[n][];
            for (var i = 0; i < n; i++)
            {
                strings[i] = Encoding.UTF8.GetBytes("s" + random.Next(10).ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
            return Tensor.FromStrings(dims, strings, name);
        }
        var width = type.BitWidth();
        if (width < 8 || type is ElementType.Complex64 or ElementType.Complex128 || (!type.IsFloatingPoint() && !type.IsInteger() && type != ElementType.Bool)
            || type is ElementType.Float8E4M3FN or ElementType.Float8E4M3FNUZ or ElementType.Float8E5M2 or ElementType.Float8E5M2FNUZ or ElementType.Float8E8M0)
        {
            throw ImplicitRegException.BadInput($"input '{name}' has element type {type.Name()}, which random feeds do not support");
        }
        var size = width / 8;
        var floating = type.IsFloatingPoint();
        var reals = floating ? new double[n] : [];
        var bytes = floating ? [] : new byte[n * size];
        var span = bytes.AsSpan();
        Span<byte> le = stackalloc byte[8];
        for (var i = 0; i < n; i++)
        {
            var real = random.NextDouble() * 2 - 1;
            var integer = random.NextInt64(options.MaxInteger + 1);
            var flag = random.Next(2);
            if (options.Values.TryGetValue(name, out var value))
            {
                (real, integer, flag) = (value, (long)value, value != 0 ? 1 : 0);
            }
            if (floating)
            {
                reals[i] = real;
                continue;
            }
            var at = span[(i * size)..];
            if (type == ElementType.Bool)
            {
                at[0] = (byte)flag;
            }
            else
            {
                // Integers: little-endian two's complement of a small non-negative value.
                BinaryPrimitives.WriteInt64LittleEndian(le, integer);
                le[..size].CopyTo(at);
            }
        }
        // Floating-point values round as every typed constant of the toolkit does (Tensor.FromDoubles).
        return floating ? Tensor.FromDoubles(type, reals, dims, name) : new Tensor(type, dims, bytes, name);
    }

    internal static string Describe(OnnxType? type) => type switch
    {
        null => "unknown",
        TensorType t => $"tensor({t.ElementType.Name()})",
        SparseTensorType t => $"sparse_tensor({t.ElementType.Name()})",
        SequenceType s => $"seq({Describe(s.ElementType)})",
        MapType m => $"map({m.KeyType.Name()},{Describe(m.ValueType)})",
        OptionalType o => $"optional({Describe(o.ElementType)})",
        OpaqueType o => $"opaque({o.Domain}.{o.Name})",
        _ => "unspecified",
    };
}
