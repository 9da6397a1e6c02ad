namespace ImplicitRegOnnx.Onnx.Passes;

/// <summary>A rewrite of a model in place. Passes are small, one per file, and run in a <see cref="PassPipeline"/>.</summary>
internal interface IModelPass
{
    /// <summary>A short name for reports, e.g. "dead-code".</summary>
    string Name { get; }

    /// <summary>Rewrites the model; returns how many nodes or values it changed (0: nothing to do).</summary>
    int Run(Model model);
}
