using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Runtime.Data;
using ImplicitRegOnnx.Training;

namespace ImplicitRegOnnx.Runtime.Training;

/// <summary>What <see cref="EvaluationWorkflow.EvaluateFromFiles"/> evaluates on what.</summary>
public sealed record EvaluateFromFilesOptions
{
    /// <summary>The inference model's path, or its name when <see cref="Model"/> is given; messages name it.</summary>
    public required string ModelPath { get; init; }

    /// <summary>The model already loaded; null: loaded from <see cref="ModelPath"/>.</summary>
    public Model? Model { get; init; }

    /// <summary>The data: .npz/.npy, CSV or IDX (<see cref="DataLoader"/>); or give <see cref="Data"/>.</summary>
    public string? DataPath { get; init; }

    /// <summary>The data already in memory, instead of <see cref="DataPath"/> (not normalized again).</summary>
    public Dataset? Data { get; init; }

    /// <summary>CSV label column (name or index; default the last).</summary>
    public string? LabelColumn { get; init; }

    /// <summary>none, scale, scale:D, standardize or minmax, as used in training (<see cref="Normalization.Parse"/>).</summary>
    public string Normalize { get; init; } = "none";

    /// <summary>The loss; null: cross-entropy for class labels, mse otherwise.</summary>
    public LossKind? Loss { get; init; }

    /// <summary>Checks the options that need no file.</summary>
    /// <exception cref="ImplicitRegException">Of kind <see cref="ErrorKind.BadInput"/>, naming the bad property.</exception>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(ModelPath))
        {
            throw ImplicitRegException.BadParameter("EvaluateFromFilesOptions.ModelPath", "is empty; give the path of an .onnx model");
        }
        if ((DataPath is null) == (Data is null))
        {
            throw ImplicitRegException.BadParameter("EvaluateFromFilesOptions.DataPath", DataPath is null
                ? $"is required: give the data to evaluate {ModelPath} on (or EvaluateFromFilesOptions.Data, data in memory)"
                : "and EvaluateFromFilesOptions.Data both give the data; give one");
        }
    }
}

/// <summary>Evaluation as one library call (<c>implicitreg eval</c>): load the model and the data, and compute the loss (and accuracy, for class labels).</summary>
public static class EvaluationWorkflow
{
    /// <summary>Evaluates the model of <paramref name="options"/> on its data with its own weights and no penalty.</summary>
    /// <param name="options">What to evaluate on what; validated first.</param>
    /// <exception cref="ImplicitRegException">Bad options, files or data (BadInput), naming the model or the file.</exception>
    public static Evaluation EvaluateFromFiles(EvaluateFromFilesOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var model = options.Model ?? Model.Load(options.ModelPath);
        var data = options.Data ?? DataFiles.LoadTrainTest(options.DataPath!, null, DataInput.Of(model), options.Normalize,
            new DataLoadOptions { LabelColumn = options.LabelColumn }).Train;
        var loss = options.Loss ?? (data.HasClassLabels ? LossKind.CrossEntropy : LossKind.Mse);
        return Workflows.WorkflowFiles.About(options.ModelPath, () =>
            ModelEvaluation.Run(model, data, new GradientModelOptions { Loss = loss, Penalty = new PenaltyOptions { Mode = PenaltyMode.None } }));
    }
}
