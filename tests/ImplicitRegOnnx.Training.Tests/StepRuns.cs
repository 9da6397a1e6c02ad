using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Runtime.Verification;
using ImplicitRegOnnx.TestSupport;
using Microsoft.ML.OnnxRuntime;

namespace ImplicitRegOnnx.Training.Tests;

/// <summary>Building step and gradient models of a reference case, and running models with arbitrary feeds.</summary>
internal static class StepRuns
{
    public static ReferenceCase Case(string name) =>
        ReferenceCase.Load(ReferenceCase.ProjectCaseFolders().First(f => f.EndsWith(name, StringComparison.Ordinal)));

    public static GradientModelOptions GradientOptions(ReferenceCase c, PenaltyMode mode, double? coefficient = null)
    {
        Assert.True(Losses.TryParse(c.Info.Loss, out var loss));
        return new GradientModelOptions
        {
            Loss = loss,
            Output = c.Info.Output,
            Penalty = new PenaltyOptions { Mode = mode, Coefficient = coefficient ?? c.Info.Coefficient, Microbatches = c.Info.Microbatches },
        };
    }

    public static StepModel Build(ReferenceCase c, OptimizerOptions optimizer, PenaltyMode mode = PenaltyMode.Exact,
        double? coefficient = null, StepModelForm form = StepModelForm.Fused) =>
        StepModelBuilder.Build(Model.Load(c.ModelPath), new StepModelOptions
        {
            Gradient = GradientOptions(c, mode, coefficient),
            Optimizer = optimizer,
            Form = form,
        });

    public static OptimizerOptions Optimizer(string kind, bool nesterov = false, double weightDecay = 0)
    {
        Assert.True(OptimizerOptions.TryParse(kind, out var optimizerKind));
        return new OptimizerOptions { Kind = optimizerKind, Nesterov = nesterov, WeightDecay = weightDecay, Momentum = 0.8 };
    }

    /// <summary>A session over a model that takes any feeds by name (overridable initializers included) and returns every output.</summary>
    public sealed class Session(Model model, GraphOptimizationLevel optimization = GraphOptimizationLevel.ORT_DISABLE_ALL) : IDisposable
    {
        private readonly ModelRunner _runner = ModelRunner.FromBytes(model.ToBytes(), optimization);

        public Dictionary<string, Tensor> Run(IReadOnlyDictionary<string, Tensor> feeds) =>
            _runner.Run([.. feeds.Select(f => f.Value.WithName(f.Key))]).ToDictionary(o => o.Name, o => o.Tensor!, StringComparer.Ordinal);

        public void Dispose() => _runner.Dispose();
    }

    /// <summary>
    /// The feeds of a model's inputs, looked up in the given dictionaries in order: every required input, and
    /// the inputs with a default (an initializer) that some dictionary holds.
    /// </summary>
    public static Dictionary<string, Tensor> Feeds(Model model, params IReadOnlyDictionary<string, Tensor>[] sources)
    {
        var feeds = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var input in model.Graph.Inputs)
        {
            var source = sources.FirstOrDefault(s => s.ContainsKey(input.Name));
            if (source is not null)
            {
                feeds[input.Name] = source[input.Name];
            }
            else if (!input.IsInitializer)
            {
                throw new InvalidOperationException($"no value for input '{input.Name}'");
            }
        }
        return feeds;
    }

    public static Dictionary<string, Tensor> Scalars(float learningRate, float? coefficient = null)
    {
        var scalars = new Dictionary<string, Tensor>(StringComparer.Ordinal) { [StepModelBuilder.LearningRate] = Tensor.Scalar(learningRate) };
        if (coefficient is { } c)
        {
            scalars[StepModelBuilder.PenaltyCoefficient] = Tensor.Scalar(c);
        }
        return scalars;
    }

    /// <summary>Optimizer states with random values (non-negative for Adam's second moment) and step 3, so the update depends on them.</summary>
    public static Dictionary<string, Tensor> RandomState(StepModel step, int seed)
    {
        var random = new Random(seed);
        var state = new Dictionary<string, Tensor>(step.InitialState, StringComparer.Ordinal);
        foreach (var (name, tensor) in step.InitialState)
        {
            if (step.Parameters.Contains(name))
            {
                continue;
            }
            if (name == StepModelBuilder.Step)
            {
                state[name] = Tensor.Scalar(3L, name);
                continue;
            }
            var scale = name.EndsWith(".exp_avg_sq", StringComparison.Ordinal) ? 1e-3 : 1e-2;
            var values = new float[tensor.ElementCount];
            for (var i = 0; i < values.Length; i++)
            {
                var u = random.NextDouble();
                values[i] = (float)(name.EndsWith(".exp_avg_sq", StringComparison.Ordinal) ? scale * (0.1 + u) : scale * ((2 * u) - 1));
            }
            state[name] = Tensor.FromArray(values, tensor.Dims, name);
        }
        return state;
    }

    /// <summary>Element-wise bit equality of two float tensors (same shape).</summary>
    public static bool BitEqual(Tensor a, Tensor b) =>
        a.ElementType == b.ElementType && a.Dims.AsSpan().SequenceEqual(b.Dims) && a.RawBytes.SequenceEqual(b.RawBytes);
}

/// <summary>
/// torch.optim.SGD (momentum, Nesterov, dampening 0) and torch.optim.Adam (L2 weight decay) in double,
/// one parameter at a time: the reference the step model's update is checked against.
/// </summary>
internal static class DirectOptimizer
{
    /// <summary>The next parameter and states from the parameter, its states ("momentum", "exp_avg", "exp_avg_sq"), its gradient and the steps taken so far.</summary>
    public static (double[] Next, Dictionary<string, double[]> States) Step(OptimizerOptions options, double[] parameter,
        IReadOnlyDictionary<string, double[]> states, double[] gradient, double learningRate, long stepsTaken)
    {
        var next = new double[parameter.Length];
        var nextStates = states.ToDictionary(s => s.Key, s => new double[s.Value.Length], StringComparer.Ordinal);
        var t = stepsTaken + 1;
        for (var i = 0; i < parameter.Length; i++)
        {
            var d = gradient[i] + (options.WeightDecay * parameter[i]);
            switch (options.Kind)
            {
                case OptimizerKind.Sgd:
                    next[i] = parameter[i] - (learningRate * d);
                    break;
                case OptimizerKind.Momentum:
                    {
                        var buffer = (options.Momentum * states["momentum"][i]) + d;
                        nextStates["momentum"][i] = buffer;
                        next[i] = parameter[i] - (learningRate * (options.Nesterov ? d + (options.Momentum * buffer) : buffer));
                        break;
                    }
                default:
                    {
                        var m = (options.Beta1 * states["exp_avg"][i]) + ((1 - options.Beta1) * d);
                        var v = (options.Beta2 * states["exp_avg_sq"][i]) + ((1 - options.Beta2) * d * d);
                        nextStates["exp_avg"][i] = m;
                        nextStates["exp_avg_sq"][i] = v;
                        var mHat = m / (1 - Math.Pow(options.Beta1, t));
                        var vHat = v / (1 - Math.Pow(options.Beta2, t));
                        next[i] = parameter[i] - (learningRate * mHat / (Math.Sqrt(vHat) + options.Epsilon));
                        break;
                    }
            }
        }
        return (next, nextStates);
    }
}
