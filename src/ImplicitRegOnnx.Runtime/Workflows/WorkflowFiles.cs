using ImplicitRegOnnx.Onnx;

namespace ImplicitRegOnnx.Runtime.Workflows;

/// <summary>Loading and saving the models a workflow is given (also the CLI's): one line naming the file for every failure, warnings collected for the caller.</summary>
internal static class WorkflowFiles
{
    /// <summary>Loads a model; a newer IR version than the toolkit knows adds a warning (the model still loads).</summary>
    /// <exception cref="ImplicitRegException">Of kind <see cref="ErrorKind.BadInput"/>: the path is empty, or the file is missing or not a valid model.</exception>
    public static Model Load(string path, ICollection<string>? warnings)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            throw ImplicitRegException.BadInput("the model path is empty; give the path of an .onnx file");
        }
        var model = Model.Load(path);
        if (model.IsNewerThanKnown)
        {
            warnings?.Add(NewerIrWarning(path, model));
        }
        return model;
    }

    /// <summary>The warning for a model whose IR version is newer than the toolkit knows.</summary>
    public static string NewerIrWarning(string path, Model model) =>
        $"{path}: IR version {model.IrVersion} is newer than this tool knows ({Model.MaxIrVersion}); fields it does not know are kept as they are";

    /// <summary>Collapses a message to one line.</summary>
    public static string OneLine(string message) =>
        VisibleControls(string.Join(' ', message.ReplaceLineEndings("\n").Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)));

    /// <summary>
    /// Control characters other than the line breaks <see cref="OneLine"/> joins (a tab, or an escape sequence
    /// in a hostile model's node or tensor name, which would recolour or rewrite the terminal) shown as \uXXXX.
    /// </summary>
    private static string VisibleControls(string text)
    {
        if (!text.Any(char.IsControl))
        {
            return text;
        }
        var sb = new System.Text.StringBuilder(text.Length + 16);
        foreach (var c in text)
        {
            if (char.IsControl(c))
            {
                sb.Append(System.Globalization.CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
            }
            else
            {
                sb.Append(c);
            }
        }
        return sb.ToString();
    }

    /// <summary>
    /// Runs work about <paramref name="what"/> (a model file): the libraries see the loaded model, not
    /// where it came from, so their errors get it in front (same kind and parameter).
    /// </summary>
    public static T About<T>(string what, Func<T> work)
    {
        try
        {
            return work();
        }
        catch (ImplicitRegException e)
        {
            throw e.Within(what);
        }
    }

    /// <summary>
    /// Checks where a workflow will write a model before it starts: never over the input model, not a
    /// folder, and into a folder that exists.
    /// </summary>
    /// <exception cref="ImplicitRegException">Of kind <see cref="ErrorKind.BadInput"/>, naming <paramref name="output"/>.</exception>
    public static void CheckOutput(string input, string output)
    {
        if (string.IsNullOrWhiteSpace(output))
        {
            throw ImplicitRegException.BadInput("an output path is empty; give the path of the .onnx file to write");
        }
        var full = Path.GetFullPath(output);
        if (string.Equals(Path.GetFullPath(input), full, StringComparison.Ordinal))
        {
            throw ImplicitRegException.BadInput($"{output}: is the input model; write to another path");
        }
        if (Directory.Exists(full))
        {
            throw ImplicitRegException.BadInput($"{output}: is a directory; give a file path inside it");
        }
        var folder = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(folder))
        {
            throw ImplicitRegException.BadInput($"{output}: the folder {folder} does not exist; create it first");
        }
    }

    /// <summary>The path beside <paramref name="path"/> with its extension replaced by <paramref name="suffix"/> (TRAIN.onnx → TRAIN.init.onnx).</summary>
    public static string Beside(string path, string suffix) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, Path.GetFileNameWithoutExtension(path) + suffix);

    /// <summary>Saves a model (atomically, through <see cref="Model.Save(string, Onnx.Serialization.ModelSaveOptions?)"/>); a path that cannot be written is bad input naming it.</summary>
    public static void Save(Model model, string output, string what = "the model")
    {
        try
        {
            model.Save(output);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw ImplicitRegException.BadInput($"{output}: cannot write {what} ({OneLine(e.Message)}); choose a writable path", e);
        }
    }
}
