using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Runtime;

namespace ImplicitRegOnnx.Training.Tests;

/// <summary>
/// The step model's input "penalty_coefficient" (design.md §4): fed, it is c of objective = C + c·R
/// and of the update; not fed, its initializer gives the coefficient the model was built with (or, with
/// <see cref="PenaltyCoefficientInput.Required"/>, there is no initializer and it must be fed).
/// </summary>
public class PenaltyCoefficientTests
{
    private const float LearningRate = 0.05f;

    /// <summary>Relative error allowed on an update P − P.next against the double-precision reference: the
    /// gradient model and the step model compute ∇(C + c·R) with the same float32 ops up to the passes'
    /// rearrangement (differences ≲ 1e-6 of the largest gradient), and Adam divides by √v̂ (which amplifies
    /// them at most a few times for the states of <see cref="StepRuns.RandomState"/>); 1e-4 bounds that.</summary>
    private const double UpdateTolerance = 1e-4;

    [Theory]
    [InlineData(PenaltyMode.Exact, "sgd")]
    [InlineData(PenaltyMode.Exact, "momentum")]
    [InlineData(PenaltyMode.Exact, "adam")]
    [InlineData(PenaltyMode.FiniteDifference, "sgd")]
    [InlineData(PenaltyMode.FiniteDifference, "momentum")]
    [InlineData(PenaltyMode.FiniteDifference, "adam")]
    public void AFedCoefficientGivesTheObjectiveAndTheUpdateOfThatCoefficient(PenaltyMode mode, string kind)
    {
        var c = StepRuns.Case("logsoftmax_nll");
        var optimizer = StepRuns.Optimizer(kind, nesterov: kind == "momentum", weightDecay: 0.01);
        var step = StepRuns.Build(c, optimizer, mode);
        Assert.Equal(0.3, c.Info.Coefficient);
        using var session = new StepRuns.Session(step.Model);
        var state = StepRuns.RandomState(step, seed: 7);
        var builtIn = ExpectedUpdate(c, mode, c.Info.Coefficient, optimizer, step, state);

        foreach (var coefficient in new[] { 0f, 0.05f, 1.5f })
        {
            var outputs = session.Run(StepRuns.Feeds(step.Model, c.Data, state, StepRuns.Scalars(LearningRate, coefficient)));
            var loss = outputs["loss"].ToArray<float>()[0];
            var penalty = outputs["penalty"].ToArray<float>()[0];
            var objective = outputs["objective"].ToArray<float>()[0];
            Assert.True(penalty > 0, $"penalty {penalty}");
            if (coefficient == 0)
            {
                Assert.Equal(loss, objective);
            }
            else
            {
                // objective = C + c·R in float32: the product and the sum each rounded once (≤ 2⁻²⁴ relative).
                var product = (double)coefficient * penalty;
                var expected = loss + product;
                Assert.True(Math.Abs(objective - expected) <= Math.Pow(2, -24) * (Math.Abs(product) + Math.Abs(expected)) * 1.01,
                    $"c = {coefficient}: objective {objective}, loss + c·penalty {expected}");
            }

            var reference = ExpectedUpdate(c, mode, coefficient, optimizer, step, state);
            foreach (var (name, expected) in reference)
            {
                var actual = outputs[name + ".next"].ToDoubles();
                var before = state[name].ToDoubles();
                var (worst, tolerance) = Compare(before, expected, actual);
                Assert.True(worst <= tolerance, $"{mode} {kind} c = {coefficient}: {name}.next off by {worst:g3} (tolerance {tolerance:g3})");
                // The test can fail: the built-in coefficient's update is far from this one.
                var (apart, _) = Compare(before, expected, builtIn[name]);
                Assert.True(step.Parameters.Contains(name) ? apart > 10 * tolerance : true,
                    $"{name}: the updates for c = {coefficient} and c = {c.Info.Coefficient} differ by only {apart:g3}");
            }
        }
    }

    /// <summary>Building with c₁ and feeding nothing runs the same graph on the same values as building with c₀ and feeding c₁.</summary>
    [Theory]
    [InlineData(PenaltyMode.Exact, "adam")]
    [InlineData(PenaltyMode.FiniteDifference, "momentum")]
    [InlineData(PenaltyMode.None, "sgd")]
    public void NotFeedingTheCoefficientGivesTheBuiltInOne(PenaltyMode mode, string kind)
    {
        var c = StepRuns.Case("logsoftmax_nll");
        var optimizer = StepRuns.Optimizer(kind);
        var built = StepRuns.Build(c, optimizer, mode, coefficient: 0.3);
        var other = StepRuns.Build(c, optimizer, mode, coefficient: 0.05);
        var input = built.Model.Graph.Inputs.Single(v => v.Name == StepModelBuilder.PenaltyCoefficient);
        Assert.Equal(ElementType.Float, input.ElementType);
        Assert.Equal(0, input.Shape!.Rank);
        Assert.Equal([0.3f], input.Initializer!.ToArray<float>());
        Assert.DoesNotContain(built.Model.Graph.RequiredInputs, v => v.Name == StepModelBuilder.PenaltyCoefficient);
        Assert.Contains(built.Model.MetadataProps, m => m.Key == "implicitreg.coefficient" && m.Value == "0.3");
        // The contract survives serialization: an input with an initializer of the same name.
        var reloaded = Model.Load(built.Model.ToBytes()).Graph;
        Assert.Equal([0.3f], reloaded.Inputs.Single(v => v.Name == StepModelBuilder.PenaltyCoefficient).Initializer!.ToArray<float>());

        var state = StepRuns.RandomState(built, seed: 3);
        var unfed = Run(other, c, state, null);
        var fed = Run(built, c, state, 0.05f);
        var builtInUnfed = Run(built, c, state, null);
        var builtInFed = Run(built, c, state, 0.3f);
        Assert.Equal(unfed.Keys.Order(), fed.Keys.Order());
        foreach (var name in unfed.Keys)
        {
            Assert.True(StepRuns.BitEqual(unfed[name], fed[name]), $"{name}: built with 0.05 and not fed differs from built with 0.3 and fed 0.05");
            Assert.True(StepRuns.BitEqual(builtInUnfed[name], builtInFed[name]), $"{name}: not fed differs from fed the built-in 0.3");
        }
        if (mode != PenaltyMode.None)
        {
            Assert.NotEqual(unfed["objective"].ToArray<float>()[0], builtInUnfed["objective"].ToArray<float>()[0]);
        }
    }

    /// <summary>
    /// <see cref="PenaltyCoefficientInput.Required"/>: the same step without the default, for clients that feed only
    /// required inputs (onnxruntime-node). Fed 0 the objective is the loss; fed c it is loss + c·penalty; and the
    /// outputs are bit-identical to those of the overridable model fed the same c, so nothing else changes.
    /// </summary>
    [Theory]
    [InlineData(PenaltyMode.Exact, StepModelForm.Fused)]
    [InlineData(PenaltyMode.FiniteDifference, StepModelForm.GradientsOut)]
    [InlineData(PenaltyMode.None, StepModelForm.Fused)]
    public void ARequiredCoefficientHasNoDefaultAndTheObjectiveFollowsTheFedValue(PenaltyMode mode, StepModelForm form)
    {
        var c = StepRuns.Case("logsoftmax_nll");
        var options = new StepModelOptions
        {
            Gradient = StepRuns.GradientOptions(c, mode, 0.3),
            Optimizer = StepRuns.Optimizer("momentum"),
            Form = form,
        };
        var overridable = StepModelBuilder.Build(Model.Load(c.ModelPath), options);
        var required = StepModelBuilder.Build(Model.Load(c.ModelPath), options with { PenaltyCoefficientInput = PenaltyCoefficientInput.Required });

        var graph = Model.Load(required.Model.ToBytes()).Graph;   // as a client reads it
        var input = graph.Inputs.Single(v => v.Name == StepModelBuilder.PenaltyCoefficient);
        Assert.False(input.IsInitializer);
        Assert.Contains(input, graph.RequiredInputs);
        Assert.Equal(ElementType.Float, input.ElementType);
        Assert.Equal(0, input.Shape!.Rank);
        Assert.DoesNotContain(graph.Initializers, v => v.Name == StepModelBuilder.PenaltyCoefficient);
        Assert.Equal(overridable.Model.Graph.Inputs.Select(v => v.Name), graph.Inputs.Select(v => v.Name));
        Assert.Contains(required.Model.MetadataProps, m => m.Key == StepModelBuilder.PenaltyCoefficientInputKey && m.Value == "required");
        Assert.Contains(overridable.Model.MetadataProps, m => m.Key == StepModelBuilder.PenaltyCoefficientInputKey && m.Value == "overridable");
        Assert.Contains(required.Model.MetadataProps, m => m.Key == "implicitreg.coefficient" && m.Value == "0.3");

        var state = StepRuns.RandomState(required, seed: 11);
        var missing = Assert.ThrowsAny<Exception>(() => Run(required, c, state, null));
        Assert.Contains(StepModelBuilder.PenaltyCoefficient, missing.Message, StringComparison.Ordinal);
        foreach (var coefficient in new[] { 0f, 0.3f, 2.5f })
        {
            var outputs = Run(required, c, state, coefficient);
            var loss = outputs["loss"].ToArray<float>()[0];
            var penalty = outputs["penalty"].ToArray<float>()[0];
            var objective = outputs["objective"].ToArray<float>()[0];
            Assert.True(mode == PenaltyMode.None ? penalty == 0 : penalty > 0, $"penalty {penalty}");
            if (coefficient == 0 || mode == PenaltyMode.None)
            {
                Assert.Equal(loss, objective);
            }
            else
            {
                // objective = C + c·R in float32: the product and the sum each rounded once (≤ 2⁻²⁴ relative).
                var product = (double)coefficient * penalty;
                var expected = loss + product;
                Assert.True(Math.Abs(objective - expected) <= Math.Pow(2, -24) * (Math.Abs(product) + Math.Abs(expected)) * 1.01,
                    $"c = {coefficient}: objective {objective}, loss + c·penalty {expected}");
                Assert.NotEqual(loss, objective);
            }
            var same = Run(overridable, c, state, coefficient);
            Assert.Equal(same.Keys.Order(), outputs.Keys.Order());
            foreach (var name in same.Keys)
            {
                Assert.True(StepRuns.BitEqual(same[name], outputs[name]), $"{name}: required fed {coefficient} differs from overridable fed {coefficient}");
            }
        }

        // Export drops the input as it drops the other training inputs.
        if (form == StepModelForm.Fused)
        {
            var exported = ModelExport.FromStepModel(required.Model, required.InitialState, "step.onnx");
            Assert.DoesNotContain(exported.Graph.Inputs, v => v.Name == StepModelBuilder.PenaltyCoefficient);
        }
    }

    /// <summary>Without a penalty R ≡ 0: the input exists (one interface for every step model) and no c changes anything.</summary>
    [Fact]
    public void ANoPenaltyModelAcceptsTheCoefficientAndIgnoresIt()
    {
        var c = StepRuns.Case("logsoftmax_nll");
        var step = StepRuns.Build(c, StepRuns.Optimizer("momentum"), PenaltyMode.None);
        var state = StepRuns.RandomState(step, seed: 5);
        var unfed = Run(step, c, state, null);
        Assert.Equal(0f, unfed["penalty"].ToArray<float>()[0]);
        Assert.Equal(unfed["loss"].ToArray<float>()[0], unfed["objective"].ToArray<float>()[0]);
        foreach (var coefficient in new[] { 0f, 2f })
        {
            var fed = Run(step, c, state, coefficient);
            foreach (var name in unfed.Keys)
            {
                Assert.True(StepRuns.BitEqual(unfed[name], fed[name]), $"{name} changes with c = {coefficient}");
            }
        }
    }

    /// <summary>The gradient model (what <c>grad</c> runs) takes the same input; feeding c there equals building with c.</summary>
    [Fact]
    public void TheGradientModelTakesTheCoefficientToo()
    {
        var c = StepRuns.Case("logsoftmax_nll");
        var built = GradientModelBuilder.Build(Model.Load(c.ModelPath), StepRuns.GradientOptions(c, PenaltyMode.Exact, 0.3));
        var other = GradientModelBuilder.Build(Model.Load(c.ModelPath), StepRuns.GradientOptions(c, PenaltyMode.Exact, 0.05));
        using var builtSession = new StepRuns.Session(built.Model);
        using var otherSession = new StepRuns.Session(other.Model);
        var fed = builtSession.Run(StepRuns.Feeds(built.Model, c.Data, StepRuns.Scalars(0, 0.05f)));
        var unfed = otherSession.Run(StepRuns.Feeds(other.Model, c.Data));
        foreach (var name in unfed.Keys)
        {
            Assert.True(StepRuns.BitEqual(unfed[name], fed[name]), $"{name}: built with 0.05 differs from fed 0.05");
        }
    }

    private static Dictionary<string, Tensor> Run(StepModel step, TestSupport.ReferenceCase c, IReadOnlyDictionary<string, Tensor> state, float? coefficient)
    {
        using var session = new StepRuns.Session(step.Model);
        return session.Run(StepRuns.Feeds(step.Model, c.Data, state, StepRuns.Scalars(LearningRate, coefficient)));
    }

    /// <summary>
    /// P.next and the next states from the double-precision optimizer over ∇(C + c·R) of a gradient model built
    /// with coefficient c (not fed), evaluated at the parameters of <paramref name="state"/>.
    /// </summary>
    private static Dictionary<string, double[]> ExpectedUpdate(TestSupport.ReferenceCase c, PenaltyMode mode, double coefficient,
        OptimizerOptions optimizer, StepModel step, IReadOnlyDictionary<string, Tensor> state)
    {
        var gradient = GradientModelBuilder.Build(Model.Load(c.ModelPath), StepRuns.GradientOptions(c, mode, coefficient));
        // The parameters become overridable defaults so one gradient model serves any weights.
        foreach (var parameter in gradient.Model.Graph.Initializers.Where(v => step.Parameters.Contains(v.Name)).ToList())
        {
            gradient.Model.Graph.AddInput(parameter);
        }
        using var session = new StepRuns.Session(gradient.Model);
        var feeds = new Dictionary<string, Tensor>(c.Data, StringComparer.Ordinal);
        foreach (var p in step.Parameters)
        {
            feeds[p] = state[p];
        }
        var grads = session.Run(feeds);
        var steps = state.TryGetValue(StepModelBuilder.Step, out var s) ? s.ToArray<long>()[0] : 0;
        var expected = new Dictionary<string, double[]>(StringComparer.Ordinal);
        foreach (var p in step.Parameters)
        {
            var states = optimizer.StateNames.ToDictionary(n => n, n => state[$"{p}.{n}"].ToDoubles(), StringComparer.Ordinal);
            var (next, nextStates) = DirectOptimizer.Step(optimizer, state[p].ToDoubles(), states, grads["objective_grad/" + p].ToDoubles(), LearningRate, steps);
            expected[p] = next;
            foreach (var (name, value) in nextStates)
            {
                expected[$"{p}.{name}"] = value;
            }
        }
        return expected;
    }

    /// <summary>
    /// The worst difference of two results of one update from <paramref name="before"/>, and its tolerance:
    /// <see cref="UpdateTolerance"/> of the largest change plus two float32 roundings of the largest value
    /// (the result is before − change, rounded to float32).
    /// </summary>
    private static (double Worst, double Tolerance) Compare(double[] before, double[] expected, double[] actual)
    {
        var change = expected.Select((e, i) => Math.Abs(e - before[i])).Max();
        var magnitude = expected.Max(Math.Abs);
        var worst = expected.Select((e, i) => Math.Abs(e - actual[i])).Max();
        return (worst, (UpdateTolerance * change) + (2 * Math.Pow(2, -24) * magnitude));
    }
}
