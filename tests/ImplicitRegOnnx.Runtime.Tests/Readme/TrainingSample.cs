using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Runtime.Data;
using ImplicitRegOnnx.Training;
using ImplicitRegOnnx.Runtime.Training;

namespace ImplicitRegOnnx.Runtime.Tests.Readme;

public partial class ReadmeSampleTests
{
    private static void TrainingSample()
    {
        // README begin
        var (train, test) = DigitsData.Load("models/data/digits.csv.gz");
        using var trainer = new Trainer(Model.Load("models/mlp_tanh.onnx"), new TrainerOptions
        {
            Step = new StepModelOptions
            {
                Gradient = new GradientModelOptions
                {
                    Loss = LossKind.CrossEntropy,
                    Penalty = new PenaltyOptions { Microbatches = 2 }, // c(t) = ε(t)/4 each step; TrainerOptions.PenaltyCoefficient fixes it
                },
                Optimizer = new OptimizerOptions { Kind = OptimizerKind.Momentum },
            },
            LearningRate = 0.05f,
            Epochs = 10,
        });
        trainer.Fit(train, test, onEpoch: e => Console.WriteLine($"epoch {e.Epoch}: test accuracy {e.Test?.Accuracy:P1}"));
        trainer.ExportInferenceModel().Save("trained.onnx");
        // README end
    }
}
