using System.Globalization;
using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Runtime.Verification;
using ImplicitRegOnnx.Training;

namespace ImplicitRegOnnx.Runtime;

/// <summary>What an .onnx file is to the trainer, read from its metadata and interface.</summary>
public enum ModelFileKind
{
    /// <summary>An ordinary model: the trainer builds its step model.</summary>
    Inference,

    /// <summary>A fused training-step model written by <c>rewrite</c> or <c>convert</c> (metadata <c>implicitreg.form</c> = fused).</summary>
    FusedStep,

    /// <summary>The gradients-out step model (outputs P.grad); its apply-update model completes the step.</summary>
    GradientsOutStep,

    /// <summary>The apply-update model of the gradients-out form.</summary>
    ApplyUpdate,

    /// <summary>The initial-state model beside a step model (no inputs, outputs the first parameters and states).</summary>
    InitialState,

    /// <summary>The evaluation model beside a step model (inputs "target" and the parameters, output "loss").</summary>
    Evaluation,
}

/// <summary>
/// The files <c>rewrite</c> and <c>convert</c> write for a step model, opened without rebuilding anything:
/// the step model TRAIN.onnx, its initial state TRAIN.init.onnx (run once to get the first parameters and
/// states) and, when there, the evaluation model TRAIN.eval.onnx and (gradients-out form) TRAIN.apply.onnx.
/// <c>convert</c> names them M.train.onnx, M.init.onnx, M.eval.onnx; both spellings are found.
/// </summary>
public sealed class TrainingArtifacts
{
    private TrainingArtifacts(string path, StepModel step, Model? eval, IReadOnlyList<string> modelInputs, IReadOnlyList<string> modelOutputs)
    {
        StepPath = path;
        Step = step;
        Eval = eval;
        ModelInputs = modelInputs;
        ModelOutputs = modelOutputs;
    }

    /// <summary>The step model's file.</summary>
    public string StepPath { get; }

    /// <summary>The step model, its parameters and its initial state (from the initial-state model).</summary>
    public StepModel Step { get; }

    /// <summary>The evaluation model, or null when none was found or given.</summary>
    public Model? Eval { get; }

    /// <summary>The inference model's inputs (recorded in the step model's metadata).</summary>
    public IReadOnlyList<string> ModelInputs { get; }

    /// <summary>The inference model's outputs (recorded in the step model's metadata); the loss is on the first unless the metadata says otherwise.</summary>
    public IReadOnlyList<string> ModelOutputs { get; }

    /// <summary>The step model's <c>implicitreg.*</c> metadata (loss, penalty, coefficient, microbatches, optimizer, ...), without the prefix.</summary>
    public IReadOnlyDictionary<string, string> Metadata =>
        Step.Model.MetadataProps.Where(e => e.Key.StartsWith("implicitreg.", StringComparison.Ordinal))
            .GroupBy(e => e.Key["implicitreg.".Length..], StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Last().Value, StringComparer.Ordinal);

    /// <summary>The loss the step model was built with, when it is one of <see cref="LossKind"/> (null for a model's own loss output).</summary>
    public LossKind? Loss => Metadata.TryGetValue("loss", out var name) && Losses.TryParse(name, out var kind) ? kind : null;

    /// <summary>The coefficient c built into the step model (its "penalty_coefficient" default).</summary>
    public double? BuiltInCoefficient => Metadata.TryGetValue("coefficient", out var text)
        && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var c) ? c : null;

    /// <summary>What a model is: a step model (by its <c>implicitreg.form</c> metadata), one of the models beside it, or an inference model.</summary>
    public static ModelFileKind KindOf(Model model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var form = model.MetadataProps.LastOrDefault(e => e.Key == StepModelBuilder.FormKey)?.Value;
        switch (form)
        {
            case StepModelBuilder.FusedForm:
                return ModelFileKind.FusedStep;
            case StepModelBuilder.GradientsOutForm:
                return ModelFileKind.GradientsOutStep;
            case StepModelBuilder.ApplyUpdateForm:
                return ModelFileKind.ApplyUpdate;
        }
        if (ModelExport.IsStepModel(model))
        {
            return ModelFileKind.FusedStep; // written before the form was recorded
        }
        var graph = model.Graph;
        if (!graph.RequiredInputs.Any() && graph.Outputs.Count > 0 && model.ProducerName == "implicitreg" && graph.Name == "initial_state")
        {
            return ModelFileKind.InitialState;
        }
        if (graph.Inputs.Any(v => v.Name == GradientModelBuilder.Target) && graph.Outputs.Count > 0 && graph.Outputs[0].Name.StartsWith("loss", StringComparison.Ordinal))
        {
            return ModelFileKind.Evaluation;
        }
        return ModelFileKind.Inference;
    }

    /// <summary>
    /// Opens a step model with the models beside it. <paramref name="initPath"/> defaults to TRAIN.init.onnx
    /// (or M.init.onnx for M.train.onnx), <paramref name="evalPath"/> to TRAIN.eval.onnx (or M.eval.onnx) when it exists.
    /// </summary>
    /// <exception cref="ImplicitRegException">BadInput when the file is no step model, the initial-state model is
    /// missing or does not fit, or the evaluation model does not fit; Unsupported for an apply-update model.</exception>
    public static TrainingArtifacts Load(string stepPath, string? initPath = null, string? evalPath = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(stepPath);
        return Open(stepPath, Model.Load(stepPath), initPath, evalPath);
    }

    /// <summary>Opens an already loaded step model whose file is <paramref name="stepPath"/> (where the models beside it are looked for).</summary>
    public static TrainingArtifacts Open(string stepPath, Model stepModel, string? initPath = null, string? evalPath = null)
    {
        ArgumentNullException.ThrowIfNull(stepModel);
        var kind = KindOf(stepModel);
        if (kind is not (ModelFileKind.FusedStep or ModelFileKind.GradientsOutStep))
        {
            throw ImplicitRegException.BadInput($"{stepPath}: {Describe(kind)}, not a training-step model; give the step model that rewrite or convert wrote (TRAIN.onnx), or an inference model");
        }
        string[] Read(string key) =>
            stepModel.MetadataProps.LastOrDefault(e => e.Key == key)?.Value.Split('\n', StringSplitOptions.RemoveEmptyEntries) ?? [];
        var parameters = Read(StepModelBuilder.ParametersKey);
        var modelInputs = Read(StepModelBuilder.OriginalInputsKey);
        var modelOutputs = Read(StepModelBuilder.OriginalOutputsKey);
        if (parameters.Length == 0)
        {
            throw ImplicitRegException.BadInput($"{stepPath}: the metadata names no trainable parameters ({StepModelBuilder.ParametersKey}); rewrite the model with this toolkit");
        }

        initPath ??= Beside(stepPath, ".init.onnx", mustExist: true)
            ?? throw ImplicitRegException.BadInput($"{stepPath}: the initial-state model {BesideName(stepPath, ".init.onnx")} is missing; give its path (initPath) or rewrite the model again");
        var initialState = InitialState(stepPath, stepModel, initPath, parameters, modelInputs);

        var form = kind == ModelFileKind.GradientsOutStep ? StepModelForm.GradientsOut : StepModelForm.Fused;
        Model? applyUpdate = null;
        if (form == StepModelForm.GradientsOut && Beside(stepPath, ".apply.onnx", mustExist: true) is { } applyPath)
        {
            applyUpdate = Model.Load(applyPath);
        }
        var step = new StepModel(stepModel, parameters, initialState, 0, stepModel.Graph.Nodes.Count) { Form = form, ApplyUpdate = applyUpdate };

        evalPath ??= Beside(stepPath, ".eval.onnx", mustExist: true);
        Model? eval = null;
        if (evalPath is not null)
        {
            eval = Model.Load(evalPath);
            var missing = parameters.Where(p => !eval.Graph.Inputs.Any(v => v.Name == p)).ToList();
            if (KindOf(eval) != ModelFileKind.Evaluation || missing.Count > 0)
            {
                throw ImplicitRegException.BadInput($"{evalPath}: not the evaluation model of {stepPath}"
                    + (missing.Count > 0 ? $" (it takes no input {string.Join(", ", missing.Select(m => $"'{m}'"))})" : " (it needs inputs 'target' and the parameters, and output 'loss' first)")
                    + "; write it with rewrite --eval-out, or leave evalPath unset");
            }
        }
        return new TrainingArtifacts(stepPath, step, eval, modelInputs, modelOutputs);
    }

    private static string Describe(ModelFileKind kind) => kind switch
    {
        ModelFileKind.ApplyUpdate => "an apply-update model (the second half of a gradients-out step)",
        ModelFileKind.InitialState => "an initial-state model (what a step model's first parameters are)",
        ModelFileKind.Evaluation => "an evaluation model",
        _ => "an inference model",
    };

    /// <summary>Runs the initial-state model and checks that it gives every parameter and state the step model reads.</summary>
    private static Dictionary<string, Tensor> InitialState(string stepPath, Model stepModel, string initPath, IReadOnlyList<string> parameters, IReadOnlyList<string> modelInputs)
    {
        var init = Model.Load(initPath);
        if (init.Graph.RequiredInputs.Any())
        {
            throw ImplicitRegException.BadInput($"{initPath}: not an initial-state model (it has inputs {string.Join(", ", init.Graph.RequiredInputs.Select(v => v.Name))}); give the TRAIN.init.onnx that rewrite wrote");
        }
        IReadOnlyList<RunOutput> outputs;
        using (var runner = ModelRunner.FromBytes(init.ToBytes()))
        {
            outputs = runner.Run([]);
        }
        var state = outputs.Where(o => o.Tensor is not null).ToDictionary(o => o.Name, o => o.Tensor!.WithName(o.Name), StringComparer.Ordinal);
        var stepInputs = stepModel.Graph.Inputs.ToDictionary(v => v.Name, StringComparer.Ordinal);
        var foreign = state.Keys.Where(n => !stepInputs.ContainsKey(n)).ToList();
        if (foreign.Count > 0)
        {
            throw ImplicitRegException.BadInput($"{initPath}: outputs {string.Join(", ", foreign.Select(n => $"'{n}'"))}, which {stepPath} does not take; is it the initial state of another step model?");
        }
        var batch = new HashSet<string>(modelInputs, StringComparer.Ordinal) { GradientModelBuilder.Target, StepModelBuilder.LearningRate };
        var missing = stepModel.Graph.RequiredInputs.Select(v => v.Name).Where(n => !batch.Contains(n) && !state.ContainsKey(n))
            .Concat(parameters.Where(p => !state.ContainsKey(p))).Distinct().ToList();
        if (missing.Count > 0)
        {
            throw ImplicitRegException.BadInput($"{initPath}: gives no initial value for {string.Join(", ", missing.Select(n => $"'{n}'"))} of {stepPath}; is it the initial state of another step model?");
        }
        // In the order of the step model's inputs, as a step model built in memory has them.
        return stepModel.Graph.Inputs.Where(v => state.ContainsKey(v.Name)).ToDictionary(v => v.Name, v => state[v.Name], StringComparer.Ordinal);
    }

    /// <summary>The file beside a step model with <paramref name="suffix"/>: TRAIN.onnx → TRAIN{suffix}, and M.train.onnx → M{suffix} too.</summary>
    private static string? Beside(string stepPath, string suffix, bool mustExist)
    {
        var candidates = new List<string> { BesideName(stepPath, suffix) };
        var name = Path.GetFileName(stepPath);
        if (name.EndsWith(".train.onnx", StringComparison.Ordinal))
        {
            candidates.Add(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(stepPath))!, name[..^".train.onnx".Length] + suffix));
        }
        return candidates.FirstOrDefault(p => !mustExist || File.Exists(p));
    }

    private static string BesideName(string stepPath, string suffix) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(stepPath))!, Path.GetFileNameWithoutExtension(stepPath) + suffix);
}
