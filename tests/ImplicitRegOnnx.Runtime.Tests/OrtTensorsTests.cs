using System.Text;
using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Runtime.Verification;
using Microsoft.ML.OnnxRuntime;
using Tensor = ImplicitRegOnnx.Onnx.Tensor;

namespace ImplicitRegOnnx.Runtime.Tests;

public class OrtTensorsTests
{
    /// <summary>Every element type the IR knows.</summary>
    private static IEnumerable<ElementType> AllTypes() =>
        Enumerable.Range(1, 26).Select(code => (ElementType)code);

    public static TheoryData<ElementType> SupportedTypes() => [.. AllTypes().Where(OrtTensors.Supports)];

    public static TheoryData<ElementType> UnsupportedTypes() => [.. AllTypes().Where(t => !OrtTensors.Supports(t))];

    /// <summary>A [2, 3] tensor whose bytes differ element by element (strings: including bytes that are not UTF-8).</summary>
    private static Tensor Sample(ElementType type, string name = "t")
    {
        if (type == ElementType.String)
        {
            byte[][] strings = [[], "a"u8.ToArray(), "héllo"u8.ToArray(), [0xFF, 0xFE, 0x00, 0x41], [0x80], "z"u8.ToArray()];
            return Tensor.FromStrings([2, 3], strings, name);
        }
        var bytes = new byte[type.ByteCount(6)];
        for (var i = 0; i < bytes.Length; i++)
        {
            // Small values keep bool 0/1 and float8 finite; every element still differs from the next.
            bytes[i] = type == ElementType.Bool ? (byte)(i % 2) : (byte)((i * 7 + 3) % 0x38);
        }
        return new Tensor(type, [2, 3], bytes, name);
    }

    private static void AssertSame(Tensor expected, Tensor actual)
    {
        Assert.Equal(expected.ElementType, actual.ElementType);
        Assert.Equal(expected.Dims, actual.Dims);
        Assert.True(expected.ContentEquals(actual), $"{expected.ElementType.Name()} payload changed");
    }

    [Theory]
    [MemberData(nameof(SupportedTypes))]
    public void EverySupportedTypeRoundTripsThroughAnOrtValue(ElementType type)
    {
        var tensor = Sample(type);
        using var value = OrtTensors.ToOrtValue(tensor);
        Assert.Equal((int)type, (int)value.GetTensorTypeAndShape().ElementDataType);
        var back = OrtTensors.ToTensor(value, "back");
        Assert.Equal("back", back.Name);
        AssertSame(tensor, back);
    }

    [Theory]
    [MemberData(nameof(SupportedTypes))]
    public void EmptyTensorsRoundTrip(ElementType type)
    {
        var tensor = type == ElementType.String ? Tensor.FromStrings([0, 4], []) : new Tensor(type, [0, 4], []);
        using var value = OrtTensors.ToOrtValue(tensor);
        AssertSame(tensor, OrtTensors.ToTensor(value, "empty"));
    }

    /// <summary>ONNX Runtime itself reads what we write: an Identity model (opset 19 covers float8) returns the feed unchanged.</summary>
    [Theory]
    [MemberData(nameof(SupportedTypes))]
    public void OnnxRuntimeReadsAndWritesEverySupportedType(ElementType type)
    {
        var graph = new Graph("identity");
        var x = graph.AddInput("x", new TensorType(type, new Shape(2, 3)));
        var node = graph.Append(new Node("", "Identity", [x], ["y"]));
        graph.Outputs.Add(node.Output);
        var model = new Model(graph) { IrVersion = 9 };
        model.SetOpsetVersion("", 19);

        using var runner = ModelRunner.FromBytes(model.ToBytes());
        var output = runner.Run([Sample(type, "x")]).Single();
        Assert.Null(output.Unsupported);
        AssertSame(Sample(type), output.Tensor!);
    }

    [Theory]
    [MemberData(nameof(UnsupportedTypes))]
    public void OtherTypesAreRefusedByName(ElementType type)
    {
        var error = Assert.Throws<NotSupportedException>(() => OrtTensors.ToOrtValue(new Tensor(type, [2], new byte[type.ByteCount(2)], "odd")));
        Assert.Contains("'odd'", error.Message, StringComparison.Ordinal);
        Assert.Contains(type.Name(), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CopyIntoReusesABuffer()
    {
        using var value = OrtTensors.ToOrtValue(Tensor.FromArray([1f, 2f, 3f], [3]));
        OrtTensors.CopyInto(Tensor.FromArray([4f, 5f, 6f], [3]), value);
        Assert.Equal([4f, 5f, 6f], OrtTensors.ToTensor(value, "v").ToArray<float>());
    }

    [Fact]
    public void NonTensorsAreRefused()
    {
        // The sequence takes ownership of its element.
        var members = new List<OrtValue> { OrtTensors.ToOrtValue(Tensor.FromArray([1f], [1])) };
        using var sequence = OrtValue.CreateSequence(members);
        var error = Assert.Throws<NotSupportedException>(() => OrtTensors.ToTensor(sequence, "seq"));
        Assert.Contains("'seq'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void StringsKeepTheirBytes()
    {
        using var value = OrtTensors.ToOrtValue(Sample(ElementType.String));
        var back = OrtTensors.ToTensor(value, "s");
        Assert.Equal([0xFF, 0xFE, 0x00, 0x41], back.Strings[3]);
        Assert.Equal("héllo", Encoding.UTF8.GetString(back.Strings[2]));
    }
}
