using Google.Protobuf;
using ImplicitRegOnnx.Onnx.Serialization.Proto;
using ImplicitRegOnnx.TestSupport;

namespace ImplicitRegOnnx.Onnx.Tests.Serialization;

public class RoundTripTests
{
    public static TheoryData<string> CommittedModels() => [.. TestPaths.CommittedModels()];

    [Theory]
    [MemberData(nameof(CommittedModels))]
    public void SavingAfterLoadingGivesTheSameModelProto(string relativePath)
    {
        var path = TestPaths.Model(relativePath);
        var original = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));

        using var temp = new TempDirectory();
        var output = temp.File(Path.GetFileName(path));
        Onnx.Model.Load(path).Save(output);

        var saved = ModelProto.Parser.ParseFrom(File.ReadAllBytes(output));
        Assert.Equal(original.ToString(), saved.ToString());
        Assert.Equal(original, saved);
    }

    [Theory]
    [MemberData(nameof(CommittedModels))]
    public void StreamRoundTripIsStableAfterOneSave(string relativePath)
    {
        var first = Onnx.Model.Load(TestPaths.Model(relativePath)).ToBytes();
        var second = Onnx.Model.Load(first).ToBytes();
        Assert.Equal(first, second);
    }
}
