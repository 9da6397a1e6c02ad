using ImplicitRegOnnx.Onnx.Building;
using ImplicitRegOnnx.Runtime.Verification;

namespace ImplicitRegOnnx.Autodiff.Tests.GradCheck;

/// <summary>
/// Checks a <see cref="GradCheckCase"/> the way JAX's check_grads does: along a random direction v,
/// the central difference (f(x+εv) − f(x−εv)) / 2ε of a scalar f must match ⟨∇f, v⟩ from our
/// backward graph. Order 1 uses f = Σ_j ⟨w_j, y_j⟩ (random weights w); order 2 differentiates
/// the gradient again with f₂ = Σ_i ⟨u_i, ∂f/∂x_i⟩. Everything runs in ONNX Runtime.
///
/// The step is ε = ∛(machine ε) times the input scale, which balances truncation (∝ ε²) and rounding
/// (∝ machine ε / ε); the tolerance is 10·(machine ε/ε + ε²) times the magnitude S of the summed terms.
/// </summary>
public static class GradChecker
{
    public sealed record Outcome(int Order, double Numeric, double Analytic, double Tolerance, string Model)
    {
        public bool Passed => Math.Abs(Numeric - Analytic) <= Tolerance;

        public override string ToString() =>
            $"order {Order}: numeric {Numeric:R} vs analytic {Analytic:R} (|diff| {Math.Abs(Numeric - Analytic):g3}, tolerance {Tolerance:g3})";
    }

    /// <summary>Builds the checked graph up to the given order; exposed for the closure test.</summary>
    public static (Model Model, GraphBuilder Builder, Value[] Inputs) BuildBackward(GradCheckCase c, int order, IReadOnlyList<long[]> outputDims)
    {
        var graph = new Graph(c.Name);
        var model = new Model(graph) { IrVersion = 8 };
        model.Opsets.Add(new OpsetId("", c.Opset));
        c.PrepareModel?.Invoke(model);
        var b = new GraphBuilder(graph, c.Opset);
        var xs = c.Inputs.Select((s, i) => graph.AddInput(b.FreshName($"x{i}"), new TensorType(s.Type, s.GraphShape($"x{i}")))).ToArray();
        var ys = c.Build(b, xs);
        var diff = Enumerable.Range(0, xs.Length).Where(i => c.Inputs[i].Differentiable).ToArray();

        // f = Σ_j ⟨w_j, y_j⟩ over floating-point outputs, and S = Σ_j Σ |w_j·y_j| for the tolerance.
        var terms = new List<Value>();
        var magnitudes = new List<Value>();
        for (var j = 0; j < ys.Length; j++)
        {
            if (!ys[j].ElementType.IsFloatingPoint())
            {
                continue;
            }
            // With run-time input sizes the output weights keep the output's inferred (non-static) shape too.
            var wShape = ys[j].Shape is { IsStatic: false } inferred ? inferred : new Shape(outputDims[j]);
            var w = graph.AddInput(b.FreshName($"w{j}"), new TensorType(ys[j].ElementType, wShape));
            var product = b.Mul(ys[j], w);
            terms.Add(ToDouble(b, b.ReduceSum(product, [], keepDims: false)));
            magnitudes.Add(ToDouble(b, b.ReduceSum(b.Op("Abs", [product]), [], keepDims: false)));
        }
        if (terms.Count == 0)
        {
            // An output whose type inference does not know would otherwise make the row check nothing.
            throw new InvalidOperationException($"{c.Name}: no output has an inferred floating-point type, so nothing would be checked");
        }
        var f = Total(b, terms);
        graph.Outputs.Add(Named(b, f, "f"));
        graph.Outputs.Add(Named(b, Total(b, magnitudes), "f_scale"));

        var grads = ReverseMode.Vjp(b, [f], [null], [.. diff.Select(i => xs[i])]);
        var gradValues = new Value[diff.Length];
        for (var k = 0; k < diff.Length; k++)
        {
            gradValues[k] = grads[k] ?? b.Op("Mul", [xs[diff[k]], b.Constant(ZeroScalar(c.Inputs[diff[k]].Type))]);
            graph.Outputs.Add(Named(b, gradValues[k], $"g{k}"));
        }
        if (order >= 2)
        {
            var secondTerms = new List<Value>();
            var secondMagnitudes = new List<Value>();
            for (var k = 0; k < diff.Length; k++)
            {
                var u = graph.AddInput(b.FreshName($"u{k}"), new TensorType(c.Inputs[diff[k]].Type, c.Inputs[diff[k]].GraphShape($"x{diff[k]}")));
                var product = b.Mul(gradValues[k], u);
                secondTerms.Add(ToDouble(b, b.ReduceSum(product, [], keepDims: false)));
                secondMagnitudes.Add(ToDouble(b, b.ReduceSum(b.Op("Abs", [product]), [], keepDims: false)));
            }
            var f2 = Total(b, secondTerms);
            graph.Outputs.Add(Named(b, f2, "f2"));
            graph.Outputs.Add(Named(b, Total(b, secondMagnitudes), "f2_scale"));
            var second = ReverseMode.Vjp(b, [f2], [null], [.. diff.Select(i => xs[i])]);
            for (var k = 0; k < diff.Length; k++)
            {
                var h = second[k] ?? b.Op("Mul", [xs[diff[k]], b.Constant(ZeroScalar(c.Inputs[diff[k]].Type))]);
                graph.Outputs.Add(Named(b, h, $"h{k}"));
            }
        }
        return (model, b, xs);
    }

    private static Tensor ZeroScalar(ElementType type) =>
        type == ElementType.Double ? Tensor.Scalar(0.0) : Tensor.Scalar(0f);

    private static Value ToDouble(GraphBuilder b, Value v) => v.ElementType == ElementType.Double ? v : b.Cast(v, ElementType.Double);

    private static Value Total(GraphBuilder b, List<Value> parts) =>
        parts.Count == 0 ? b.Constant(Tensor.Scalar(0.0)) : parts.Count == 1 ? parts[0] : b.Op("Sum", parts);

    /// <summary>An Identity whose output has a fixed name ("f", "g0", ...) the check reads back.</summary>
    private static Value Named(GraphBuilder b, Value v, string name)
    {
        var output = b.Identity(v);
        output.Name = b.FreshName(name);
        return output;
    }

    /// <summary>Runs the check at the given order (1 or 2).</summary>
    public static Outcome Run(GradCheckCase c, int order)
    {
        var random = new Random(StableSeed(c.Name));
        var x = c.Inputs.Select(s => s.Fixed ?? RandomTensor(s, random)).ToArray();
        var outputDims = ForwardOutputDims(c, x);

        var (model, _, _) = BuildBackward(c, order, outputDims);
        var bytes = model.ToBytes();
        var diff = Enumerable.Range(0, x.Length).Where(i => c.Inputs[i].Differentiable).ToArray();
        var w = outputDims.Select((d, j) => RandomTensor(new InputSpec(d, OutputType(model, j)), random)).ToArray();
        var u = diff.Select(i => RandomTensor(c.Inputs[i] with { Low = -1, High = 1, AwayFromZero = 0 }, random)).ToArray();
        var v = diff.Select(i => RandomTensor(c.Inputs[i] with { Low = -1, High = 1, AwayFromZero = 0 }, random)).ToArray();

        var type = diff.Length > 0 ? c.Inputs[diff[0]].Type : ElementType.Double;
        var machineEpsilon = type == ElementType.Double ? Math.Pow(2, -52) : Math.Pow(2, -23);
        var scale = diff.Select(i => c.Inputs[i]).Max(s => Math.Max(Math.Abs(s.Low), Math.Abs(s.High)));
        var step = Math.Cbrt(machineEpsilon) * Math.Max(scale, 1);
        // Stay inside the inputs' domain (e.g. Log's positive inputs) and away from kinks.
        foreach (var i in diff)
        {
            var spec = c.Inputs[i];
            var room = Math.Min(spec.Low > 0 ? spec.Low / 2 : double.MaxValue, spec.AwayFromZero > 0 ? spec.AwayFromZero / 2 : double.MaxValue);
            step = Math.Min(step, room);
        }

        using var runner = ModelRunner.FromBytes(bytes);
        var feedsAt = (double t) => Feeds(model, x, diff, v, t, w, order >= 2 ? u : []);
        var center = Outputs(runner.Run(feedsAt(0)));
        var plus = Outputs(runner.Run(feedsAt(step)));
        var minus = Outputs(runner.Run(feedsAt(-step)));

        var (fName, gPrefix, scaleName) = order == 1 ? ("f", "g", "f_scale") : ("f2", "h", "f2_scale");
        var numeric = (Scalar(plus, fName) - Scalar(minus, fName)) / (2 * step);
        double analytic = 0;
        double magnitude = 1 + Math.Abs(Scalar(center, scaleName));
        for (var k = 0; k < diff.Length; k++)
        {
            var g = center[gPrefix + k].ToDoubles();
            var dir = v[k].ToDoubles();
            for (var e = 0; e < g.Length; e++)
            {
                analytic += g[e] * dir[e];
                magnitude += Math.Abs(g[e] * dir[e]);
            }
        }
        var tolerance = 10 * (machineEpsilon / step + step * step) * magnitude;
        return new Outcome(order, numeric, analytic, tolerance, c.Name);
    }

    private static ElementType OutputType(Model model, int j) =>
        model.Graph.Inputs.FirstOrDefault(i => i.Name == $"w{j}")?.ElementType ?? ElementType.Double;

    private static List<Tensor> Feeds(Model model, Tensor[] x, int[] diff, Tensor[] v, double t, Tensor[] w, Tensor[] u)
    {
        var byName = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        for (var i = 0; i < x.Length; i++)
        {
            var k = Array.IndexOf(diff, i);
            byName[$"x{i}"] = k >= 0 && t != 0 ? Axpy(x[i], v[k], t) : x[i];
        }
        for (var j = 0; j < w.Length; j++)
        {
            byName[$"w{j}"] = w[j];
        }
        for (var k = 0; k < u.Length; k++)
        {
            byName[$"u{k}"] = u[k];
        }
        return [.. model.Graph.Inputs.Select(i => byName[i.Name].WithName(i.Name))];
    }

    private static Dictionary<string, Tensor> Outputs(IReadOnlyList<RunOutput> outputs) =>
        outputs.ToDictionary(o => o.Name, o => o.Tensor!, StringComparer.Ordinal);

    private static double Scalar(Dictionary<string, Tensor> outputs, string name) => outputs[name].ToDoubles()[0];

    private static long[][] ForwardOutputDims(GradCheckCase c, Tensor[] x)
    {
        var graph = new Graph(c.Name + "_forward");
        var model = new Model(graph) { IrVersion = 8 };
        model.Opsets.Add(new OpsetId("", c.Opset));
        c.PrepareModel?.Invoke(model);
        var b = new GraphBuilder(graph, c.Opset);
        var xs = c.Inputs.Select((s, i) => graph.AddInput($"x{i}", new TensorType(s.Type, new Shape(s.Dims)))).ToArray();
        var ys = c.Build(b, xs);
        graph.Outputs.AddRange(ys);
        using var runner = ModelRunner.FromBytes(model.ToBytes());
        var outputs = runner.Run([.. x.Select((t, i) => t.WithName($"x{i}"))]);
        return [.. ys.Select(y => outputs.Single(o => o.Name == y.Name).Tensor!.Dims)];
    }

    private static Tensor Axpy(Tensor x, Tensor v, double t)
    {
        var a = x.ToDoubles();
        var d = v.ToDoubles();
        var result = new double[a.Length];
        for (var i = 0; i < a.Length; i++)
        {
            result[i] = a[i] + t * d[i];
        }
        return Make(x.ElementType, x.Dims, result);
    }

    private static Tensor RandomTensor(InputSpec spec, Random random)
    {
        var n = (int)spec.Dims.Aggregate(1L, (a, b) => a * b);
        var values = new double[n];
        for (var i = 0; i < n; i++)
        {
            double value;
            do
            {
                value = spec.Low + (spec.High - spec.Low) * random.NextDouble();
            }
            while (Math.Abs(value) < spec.AwayFromZero);
            values[i] = value;
        }
        return Make(spec.Type, spec.Dims, values);
    }

    private static Tensor Make(ElementType type, long[] dims, double[] values) => type switch
    {
        ElementType.Double => Tensor.FromArray(values, dims),
        ElementType.Float => Tensor.FromArray(Array.ConvertAll(values, v => (float)v), dims),
        _ => throw new NotSupportedException($"GradCheck draws float and double inputs, not {type.Name()}"),
    };

    private static int StableSeed(string name)
    {
        var hash = 17;
        foreach (var ch in name)
        {
            hash = unchecked((hash * 31) + ch);
        }
        return hash;
    }
}
