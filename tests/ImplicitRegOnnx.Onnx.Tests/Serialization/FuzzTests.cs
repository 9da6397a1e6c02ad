using CsCheck;
using ImplicitRegOnnx.Onnx.Serialization;
using Proto = ImplicitRegOnnx.Onnx.Serialization.Proto;
using ImplicitRegOnnx.TestSupport;

namespace ImplicitRegOnnx.Onnx.Tests.Serialization;

/// <summary>
/// Damaged models must fail with an <see cref="ImplicitRegException"/> of kind <see cref="ErrorKind.BadInput"/> (one clear line for the user),
/// never with another exception type. Inputs: truncated prefixes and bit-flipped copies of every
/// committed model.
/// </summary>
public class FuzzTests
{
    private const int TruncationsPerModel = 150;
    private const int FlipsPerModel = 250;

    public static TheoryData<string> CommittedModels() => [.. TestPaths.CommittedModels()];

    [Theory]
    [MemberData(nameof(CommittedModels))]
    public void TruncatedModelsLoadOrFailWithAFormatError(string relativePath)
    {
        var bytes = File.ReadAllBytes(TestPaths.Model(relativePath));
        Gen.Int[0, bytes.Length - 1].Sample(
            length => LoadsOrFailsCleanly(bytes.AsSpan(0, length)),
            iter: TruncationsPerModel,
            seed: "0N0XIzNsQ0O2");
    }

    [Theory]
    [MemberData(nameof(CommittedModels))]
    public void BitFlippedModelsLoadOrFailWithAFormatError(string relativePath)
    {
        var bytes = File.ReadAllBytes(TestPaths.Model(relativePath));
        // 1 to 8 flipped bits; one flip in a varint or tag is the common real-world corruption.
        var flips = Gen.Int[0, bytes.Length * 8 - 1].Array[1, 8];
        flips.Sample(
            positions =>
            {
                var copy = (byte[])bytes.Clone();
                foreach (var bit in positions)
                {
                    copy[bit / 8] ^= (byte)(1 << (bit % 8));
                }
                LoadsOrFailsCleanly(copy);
            },
            iter: FlipsPerModel,
            seed: "0N0XIzNsQ0O2");
    }

    [Theory]
    [MemberData(nameof(CommittedModels))]
    public void BytesOverwrittenWithExtremeValuesLoadOrFailWithAFormatError(string relativePath)
    {
        // 0xFF runs make varints huge (lengths, dims, element types); 0x00 runs make them zero.
        var bytes = File.ReadAllBytes(TestPaths.Model(relativePath));
        Gen.Select(Gen.Int[0, bytes.Length - 1], Gen.Int[1, 10], Gen.Bool).Sample(
            (at, run, ones) =>
            {
                var copy = (byte[])bytes.Clone();
                copy.AsSpan(at, Math.Min(run, copy.Length - at)).Fill(ones ? (byte)0xFF : (byte)0x00);
                LoadsOrFailsCleanly(copy);
            },
            iter: FlipsPerModel / 2,
            seed: "0N0XIzNsQ0O2");
    }

    public static TheoryData<long[], int> HugeTensors() => new()
    {
        { [1L << 61], 1 },
        { [1L << 40, 1L << 23], 11 },
        { [long.MaxValue], 9 },
        { [1L << 62], 21 },
        { [-1], 1 },
        { [3], 99 },
    };

    [Theory]
    [MemberData(nameof(HugeTensors))]
    public void InitializersWithImpossibleShapesOrTypesFailWithAFormatError(long[] dims, int dataType)
    {
        var tensor = new Proto.TensorProto { Name = "w", DataType = dataType };
        tensor.Dims.AddRange(dims);
        var sparse = new Proto.SparseTensorProto { Values = new Proto.TensorProto { Name = "s", DataType = dataType } };
        sparse.Values.Dims.Add(1);
        sparse.Values.FloatData.Add(1);
        sparse.Dims.AddRange(dims);
        foreach (var build in new Action<Proto.GraphProto>[] { g => g.Initializer.Add(tensor), g => g.SparseInitializer.Add(sparse) })
        {
            var graph = new Proto.GraphProto { Name = "g" };
            build(graph);
            var model = new Proto.ModelProto { IrVersion = 8, Graph = graph };
            model.OpsetImport.Add(new Proto.OperatorSetIdProto { Domain = "", Version = 17 });
            var bytes = Google.Protobuf.MessageExtensions.ToByteArray(model);
            LoadsOrFailsCleanly(bytes);
        }
    }

    private static void LoadsOrFailsCleanly(ReadOnlySpan<byte> bytes)
    {
        try
        {
            _ = ModelSerializer.Load(bytes);
        }
        catch (ImplicitRegException e) when (e.Kind == ErrorKind.BadInput)
        {
            // Names quoted from a damaged file may hold control characters; the CLI folds messages to one line.
            Assert.False(string.IsNullOrWhiteSpace(e.Message));
        }
    }
}
