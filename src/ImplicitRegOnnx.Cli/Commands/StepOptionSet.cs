using System.CommandLine;
using ImplicitRegOnnx.Runtime;
using ImplicitRegOnnx.Training;

namespace ImplicitRegOnnx.Cli.Commands;

/// <summary>
/// The options of a training-step model beyond what to differentiate (optimizer and its
/// hyper-parameters, optimization of the result), shared by <c>rewrite</c> and <c>convert</c>.
/// </summary>
internal sealed class StepOptionSet
{
    private readonly Option<string> _optimizer = new("--optimizer") { Description = "sgd, momentum or adam.", DefaultValueFactory = _ => "sgd" };
    private readonly Option<double?> _momentum = new("--momentum") { Description = "μ of --optimizer momentum (default 0.9)." };
    private readonly Option<bool> _nesterov = new("--nesterov") { Description = "Nesterov momentum (with --optimizer momentum)." };
    private readonly Option<double> _weightDecay = new("--weight-decay") { Description = "L2 weight decay added to the gradient, as in PyTorch." };
    private readonly Option<double> _beta1 = new("--beta1") { Description = "Adam β1.", DefaultValueFactory = _ => 0.9 };
    private readonly Option<double> _beta2 = new("--beta2") { Description = "Adam β2.", DefaultValueFactory = _ => 0.999 };
    private readonly Option<double> _epsilon = new("--epsilon") { Description = "Adam ε.", DefaultValueFactory = _ => 1e-8 };
    private readonly Option<bool> _noOptimize = new("--no-optimize") { Description = "Skip CSE, dead-code removal and constant folding of the step model." };

    /// <summary>The options, for a command's list.</summary>
    public IEnumerable<Option> Options => [_optimizer, _momentum, _nesterov, _weightDecay, _beta1, _beta2, _epsilon, _noOptimize];

    /// <summary>The step-model options for the given gradient options; the library checks them (StepModelOptions.Validate).</summary>
    public StepModelOptions Parse(ParseResult parsed, GradientModelOptions gradient, double? lambda) => new()
    {
        Gradient = gradient,
        Lambda = lambda,
        Optimize = !parsed.GetValue(_noOptimize),
        ConstantEvaluator = OrtConstantEvaluator.Instance,
        Optimizer = new OptimizerOptions
        {
            Kind = OptionNames.ParseOptimizer(parsed.GetValue(_optimizer)!),
            Nesterov = parsed.GetValue(_nesterov),
            WeightDecay = parsed.GetValue(_weightDecay),
            Beta1 = parsed.GetValue(_beta1),
            Beta2 = parsed.GetValue(_beta2),
            Epsilon = parsed.GetValue(_epsilon),
        }.WithMomentum(parsed.GetValue(_momentum)),
    };
}
