using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Runtime.Workflows;

namespace ImplicitRegOnnx.Cli;

/// <summary>Loading models for commands: every failure becomes one line naming the file.</summary>
internal static class ModelFiles
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

    /// <summary>Loads a model (<see cref="WorkflowFiles.Load"/>), warning through <paramref name="context"/> when its IR version is newer than this tool knows.</summary>
    public static Model Load(string path, CommandContext context)
    {
        var warnings = new List<string>();
        var model = WorkflowFiles.Load(path, warnings);
        context.Warn(warnings);
        return model;
    }
}
