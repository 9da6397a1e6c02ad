using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace ImplicitRegOnnx.Onnx.Tests.Passes;

/// <summary>Runs models in ONNX Runtime (CPU) on seeded random feeds and compares their outputs.</summary>
internal static class OrtHarness
{
    /// <summary>Sizes of symbolic dims that the committed models need larger than the default 2.</summary>
    private static readonly Dictionary<string, long> SymbolicSizes = new(StringComparer.Ordinal) { ["samples"] = 1024 };

    public static InferenceSession Open(string path) => new(path, Options());

    public static InferenceSession Open(byte[] model) => new(model, Options());

    private static SessionOptions Options() => new()
    {
        LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        IntraOpNumThreads = 1,
        InterOpNumThreads = 1,
    };

    /// <summary>
    /// Random feeds for the session's inputs: symbolic or unknown dims become 2; floats in [-1, 1);
    /// integers in [0, 4) so that token ids and indices stay valid; bools at random.
    /// </summary>
    public static Dictionary<string, OrtValue> RandomFeeds(InferenceSession session, int seed)
    {
        var random = new Random(seed);
        var feeds = new Dictionary<string, OrtValue>(StringComparer.Ordinal);
        foreach (var (name, meta) in session.InputMetadata)
        {
            if (!meta.IsTensor)
            {
                throw new NotSupportedException($"input '{name}' is not a tensor");
            }
            // Symbolic dims get 2, except those a committed model needs larger: models/audio_conv512.onnx's first
            // Conv has a 512-sample kernel, so its `samples` must be at least 512.
            var dims = meta.Dimensions.Select((d, i) => d >= 0 ? d
                : SymbolicSizes.TryGetValue(meta.SymbolicDimensions[i] ?? "", out var size) ? size : 2L).ToArray();
            var count = (int)dims.Aggregate(1L, (a, b) => a * b);
            feeds[name] = meta.ElementDataType switch
            {
                TensorElementType.Float => OrtValue.CreateTensorValueFromMemory(Fill(count, () => (float)(random.NextDouble() * 2 - 1)), dims),
                TensorElementType.Double => OrtValue.CreateTensorValueFromMemory(Fill(count, () => random.NextDouble() * 2 - 1), dims),
                TensorElementType.Float16 => OrtValue.CreateTensorValueFromMemory(Fill(count, () => (Float16)(float)(random.NextDouble() * 2 - 1)), dims),
                TensorElementType.Int64 => OrtValue.CreateTensorValueFromMemory(Fill(count, () => (long)random.Next(4)), dims),
                TensorElementType.Int32 => OrtValue.CreateTensorValueFromMemory(Fill(count, () => random.Next(4)), dims),
                TensorElementType.Bool => OrtValue.CreateTensorValueFromMemory(Fill(count, () => random.Next(2) == 1), dims),
                var other => throw new NotSupportedException($"input '{name}' of type {other} has no random feed"),
            };
        }
        return feeds;
    }

    private static T[] Fill<T>(int count, Func<T> next)
    {
        var data = new T[count];
        for (var i = 0; i < count; i++)
        {
            data[i] = next();
        }
        return data;
    }

    /// <summary>Outputs by name: element type, dims, and either raw bytes or strings.</summary>
    public static Dictionary<string, Result> Run(InferenceSession session, Dictionary<string, OrtValue> feeds)
    {
        using var runOptions = new RunOptions();
        var names = session.OutputMetadata.Keys.ToArray();
        using var values = session.Run(runOptions, feeds.Keys.ToArray(), feeds.Values.ToArray(), names);
        var results = new Dictionary<string, Result>(StringComparer.Ordinal);
        var index = 0;
        foreach (var value in values)
        {
            if (!value.IsTensor)
            {
                throw new NotSupportedException($"output '{names[index]}' is not a tensor");
            }
            var info = value.GetTensorTypeAndShape();
            results[names[index++]] = info.ElementDataType == TensorElementType.String
                ? new Result(info.ElementDataType, info.Shape, [], value.GetStringTensorAsArray())
                : new Result(info.ElementDataType, info.Shape, info.ElementCount == 0 ? [] : value.GetTensorMutableRawData().ToArray(), null);
        }
        return results;
    }

    /// <summary>Asserts equal outputs: float32 within 1e-5 relative (1e-5 absolute for magnitudes below 1), everything else exactly.</summary>
    public static void AssertClose(Dictionary<string, Result> expected, Dictionary<string, Result> actual, string label)
    {
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), actual.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, e) in expected)
        {
            var a = actual[name];
            Assert.True(e.Type == a.Type, $"{label}: output '{name}' type {a.Type}, expected {e.Type}");
            Assert.True(e.Dims.SequenceEqual(a.Dims), $"{label}: output '{name}' shape [{string.Join(",", a.Dims)}], expected [{string.Join(",", e.Dims)}]");
            if (e.Strings is not null)
            {
                Assert.Equal(e.Strings, a.Strings);
            }
            else if (e.Type == TensorElementType.Float)
            {
                var x = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(e.Bytes);
                var y = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(a.Bytes);
                for (var i = 0; i < x.Length; i++)
                {
                    var close = (float.IsNaN(x[i]) && float.IsNaN(y[i])) || Math.Abs(x[i] - y[i]) <= 1e-5 * Math.Max(1.0, Math.Abs(x[i]));
                    Assert.True(close, $"{label}: output '{name}'[{i}] = {y[i]}, expected {x[i]}");
                }
            }
            else
            {
                Assert.True(e.Bytes.AsSpan().SequenceEqual(a.Bytes), $"{label}: output '{name}' ({e.Type}) differs");
            }
        }
    }

    public sealed record Result(TensorElementType Type, long[] Dims, byte[] Bytes, string[]? Strings);
}
