using Google.Protobuf;
using ImplicitRegOnnx.Onnx.IO;
using ImplicitRegOnnx.Onnx.Serialization.Proto;

namespace ImplicitRegOnnx.Onnx.Serialization;

/// <summary>
/// Reads and writes ONNX model files. Every failure to read becomes an <see cref="ImplicitRegException"/>
/// of kind <see cref="ErrorKind.BadInput"/> with a one-line message that names the file and what to do; writes go to a temporary file that is renamed into place only when complete.
/// </summary>
internal static class ModelSerializer
{
    /// <summary>Nesting depth allowed for subgraphs inside subgraphs.</summary>
    private const int RecursionLimit = 200;

    public static Model Load(string path, ModelLoadOptions? options = null)
    {
        if (Directory.Exists(path))
        {
            throw ImplicitRegException.BadInput($"{path}: is a directory, not a model file; give the path of an .onnx file inside it");
        }
        if (!File.Exists(path))
        {
            throw ImplicitRegException.BadInput($"{path}: file not found; check the path");
        }
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw UserFiles.CannotRead(path, e);
        }
        var baseDirectory = options?.BaseDirectory ?? Path.GetDirectoryName(Path.GetFullPath(path));
        try
        {
            return Parse(bytes, baseDirectory);
        }
        catch (ImplicitRegException e)
        {
            throw e.Within(path);
        }
    }

    public static Model Load(Stream stream, ModelLoadOptions? options = null)
    {
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return Parse(buffer.ToArray(), options?.BaseDirectory);
    }

    public static Model Load(ReadOnlySpan<byte> bytes, ModelLoadOptions? options = null) =>
        Parse(bytes.ToArray(), options?.BaseDirectory);

    private static Model Parse(byte[] bytes, string? baseDirectory)
    {
        if (bytes.Length == 0)
        {
            throw ImplicitRegException.BadInput("file is empty, not an ONNX model; " + NotAModelHint);
        }
        ModelProto proto;
        try
        {
            proto = ModelProto.Parser.WithDiscardUnknownFields(false).ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw ImplicitRegException.BadInput($"not an ONNX model: the protobuf data is invalid or truncated ({FirstLine(e.Message)}); {NotAModelHint}", e);
        }
        try
        {
            return new ProtoReader(baseDirectory).ReadModel(proto);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw ImplicitRegException.BadInput($"not an ONNX model: {FirstLine(e.Message)}; {NotAModelHint}", e);
        }
    }

    /// <summary>What to do about a file that is not a model.</summary>
    internal const string NotAModelHint = "give an .onnx model file (ModelProto)";

    private static string FirstLine(string message)
    {
        var end = message.IndexOfAny(['\r', '\n']);
        return (end < 0 ? message : message[..end]).TrimEnd('.');
    }

    /// <summary>Writes the model to a stream with every payload inline.</summary>
    public static void Save(Model model, Stream stream)
    {
        var proto = ProtoWriter.Inline.WriteModel(model);
        proto.WriteTo(stream);
    }

    /// <summary>
    /// Writes the model (and side files for external data) atomically with <c>AtomicFile</c>:
    /// side files first, then the model, each renamed into place once complete. Side files are written
    /// only inside the model's folder and never through a symbolic link.
    /// </summary>
    public static void Save(Model model, string path, ModelSaveOptions? options = null)
    {
        options ??= new ModelSaveOptions();
        var fullPath = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(fullPath)!;
        var sideFile = options.ExternalFileName ?? Path.GetFileName(fullPath) + ".data";
        if (options.ExternalData == ExternalDataPolicy.AllExternal && ExternalData.Locate(sideFile, directory).Problem is { } problem)
        {
            throw ImplicitRegException.BadParameter("ModelSaveOptions.ExternalFileName", $"'{sideFile}' {problem}");
        }
        Func<Tensor, string?> locate = options.ExternalData switch
        {
            ExternalDataPolicy.Inline => _ => null,
            ExternalDataPolicy.AllExternal => t => t.RawBytes.Length >= options.ExternalThresholdBytes ? sideFile : null,
            _ => t => t.External?.Location,
        };
        using var file = AtomicFile.Create(fullPath);
        using var sink = new ExternalDataSink(directory, fullPath);
        var proto = new ProtoWriter(locate, sink).WriteModel(model);
        proto.WriteTo(file.Stream);
        sink.Commit();
        file.Commit();
    }
}
