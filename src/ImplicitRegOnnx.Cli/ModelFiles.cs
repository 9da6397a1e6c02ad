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

    /// <summary>Reads an .npz file; a file that cannot be read is bad input naming it.</summary>
    public static IReadOnlyDictionary<string, Tensor> ReadNpz(string path) => Onnx.Numpy.NpzArchive.Read(path);

    /// <summary>Loads a model; every failure is bad input that names the file and says what to do.</summary>
    public static Model Load(string path)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            throw ImplicitRegException.BadInput("the model path is empty; give the path of an .onnx file");
        }
        return Model.Load(path);
    }
}
