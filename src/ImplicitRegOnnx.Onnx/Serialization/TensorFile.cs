using Google.Protobuf;
using ImplicitRegOnnx.Onnx.Serialization.Proto;

namespace ImplicitRegOnnx.Onnx.Serialization;

/// <summary>
/// Reads a file holding one serialized TensorProto, the format of the inputs and expected outputs of
/// ONNX's backend tests (test_data_set_N/input_K.pb, output_K.pb).
/// </summary>
internal static class TensorFile
{
    /// <summary>The tensor in the file, named as its TensorProto. Payloads must be inline (no external data).</summary>
    public static Tensor Load(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw UserFiles.CannotRead(path, e);
        }
        TensorProto proto;
        try
        {
            proto = TensorProto.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw ImplicitRegException.BadInput($"{path}: not a TensorProto: the protobuf data is invalid or truncated", e);
        }
        if (proto.DataLocation == TensorProto.Types.DataLocation.External)
        {
            throw ImplicitRegException.BadInput($"{path}: the tensor keeps its data in an external file, which a tensor file cannot resolve");
        }
        try
        {
            return TensorCodec.Decode(proto, null);
        }
        catch (ImplicitRegException e)
        {
            throw e.Within(path);
        }
    }
}
