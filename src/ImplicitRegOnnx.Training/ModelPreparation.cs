using ImplicitRegOnnx.Onnx.Passes;

namespace ImplicitRegOnnx.Training;

/// <summary>
/// The copy of an inference model that training graphs start from: initializers of IR 3 models
/// leave the input list, and models older than opset 17 are upgraded to it.
/// </summary>
public static class ModelPreparation
{
    public static Model Prepare(Model inference)
    {
        var model = Model.Load(inference.ToBytes());
        if (model.IrVersion < 4)
        {
            // Before IR 4 every initializer had to be listed as an input too (ONNX IR spec); they are
            // the model's constants, not inputs a caller overrides.
            foreach (var value in model.Graph.Inputs.Where(v => v.IsInitializer).ToList())
            {
                model.Graph.RemoveInput(value);
            }
            model.IrVersion = 8;
        }
        var opset = model.OpsetVersion("") ?? throw new TrainingSetupException("the model imports no ai.onnx opset");
        if (opset < GradientModelBuilder.MinimumOpset)
        {
            try
            {
                OpsetUpgrade.Upgrade(model, GradientModelBuilder.MinimumOpset);
            }
            catch (OpsetUpgradeException e)
            {
                throw new TrainingSetupException(e.Message + "; re-export the model with opset 17 or newer", e);
            }
        }
        return model;
    }
}
