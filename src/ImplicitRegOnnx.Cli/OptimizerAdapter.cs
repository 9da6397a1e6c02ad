using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Onnx.Passes;

namespace ImplicitRegOnnx.Cli;

/// <summary>What an optimization did, as the optimize command reports it.</summary>
/// <param name="NodesBefore">Nodes in the main graph and its subgraphs before.</param>
/// <param name="NodesAfter">Nodes after.</param>
/// <param name="InitializersBefore">Initializers in the main graph and its subgraphs before.</param>
/// <param name="InitializersAfter">Initializers after.</param>
/// <param name="Passes">Changes per pass, summed over rounds, in first-run order.</param>
public sealed record OptimizationSummary(int NodesBefore, int NodesAfter, int InitializersBefore, int InitializersAfter, IReadOnlyList<KeyValuePair<string, int>> Passes);

/// <summary>The one place that calls the passes library, so the command does not depend on its report's shape.</summary>
public static class OptimizerAdapter
{
    public static OptimizationSummary Optimize(Model model)
    {
        var report = ModelOptimizer.Optimize(model);
        return new OptimizationSummary(
            report.NodesBefore,
            report.NodesAfter,
            report.InitializersBefore,
            report.InitializersAfter,
            [.. report.ChangesByPass.Select(p => new KeyValuePair<string, int>(p.Pass, p.Changes))]);
    }
}
