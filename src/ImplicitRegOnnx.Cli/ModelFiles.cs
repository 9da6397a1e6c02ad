using ImplicitRegOnnx.Onnx;

namespace ImplicitRegOnnx.Cli;

/// <summary>Loading models for commands: every failure becomes one line naming the file.</summary>
public static class ModelFiles
{
    /// <summary>How messages name the embedded default model.</summary>
    public const string DefaultModelName = "embedded default model (models/mlp_tanh.onnx)";

    /// <summary>The small model shipped inside the tool, used when a command is given no MODEL.</summary>
    public static Model LoadDefault()
    {
        using var stream = typeof(ModelFiles).Assembly.GetManifestResourceStream("ImplicitRegOnnx.Cli.DefaultModel.onnx")
            ?? throw new InvalidOperationException("The embedded default model is missing from this build.");
        return Model.Load(stream);
    }

    /// <summary>Loads a model, warning through <paramref name="context"/> when its IR version is newer than this tool knows.</summary>
    public static Model Load(string path, CommandContext context)
    {
        var model = Load(path);
        if (model.IsNewerThanKnown)
        {
            context.Warn($"{path}: IR version {model.IrVersion} is newer than this tool knows ({Model.MaxIrVersion}); fields it does not know are kept as they are");
        }
        return model;
    }

    /// <summary>Reads an .npz file (what: "batch", "weights"...); a file that cannot be read is a one-line usage error.</summary>
    public static IReadOnlyDictionary<string, Tensor> ReadNpz(string path, string what)
    {
        try
        {
            return Onnx.Numpy.NpzArchive.Read(path);
        }
        catch (Exception e) when (e is OnnxFormatException or IOException or UnauthorizedAccessException or InvalidDataException)
        {
            throw CliException.Usage($"{path}: cannot read the {what} ({ErrorHandling.OneLine(e.Message)}); give an .npz file written by numpy.savez", e);
        }
    }

    public static Model Load(string path)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            throw CliException.Usage("the model path is empty; give the path of an .onnx file");
        }
        try
        {
            return Model.Load(path);
        }
        catch (OnnxFormatException e)
        {
            // Load(path) names the file already; make sure of it for messages from deeper layers.
            var message = e.Message.StartsWith(path, StringComparison.Ordinal) ? e.Message : $"{path}: {e.Message}";
            throw CliException.Usage(message + Hint(e.Message), e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw CliException.Usage($"{path}: cannot be read ({e.Message})", e);
        }
    }

    private static string Hint(string message) =>
        message.Contains("file not found", StringComparison.Ordinal) ? "; check the path"
        : message.Contains("is a directory", StringComparison.Ordinal) ? "; give the path of an .onnx file inside it"
        : message.Contains("not an ONNX model", StringComparison.Ordinal) || message.Contains("is empty", StringComparison.Ordinal)
            ? "; give an .onnx model file (ModelProto)"
        : message.Contains("has a cycle", StringComparison.Ordinal) ? "; ONNX graphs must be acyclic, re-export the model"
        : message.Contains("which no input, initializer or node defines", StringComparison.Ordinal) ? "; the graph is incomplete, re-export the model"
        : "";
}
