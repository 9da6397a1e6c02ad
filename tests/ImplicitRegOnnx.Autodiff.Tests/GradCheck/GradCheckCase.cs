using ImplicitRegOnnx.Onnx.Building;

namespace ImplicitRegOnnx.Autodiff.Tests.GradCheck;

/// <summary>How the values of one input of a checked op are drawn.</summary>
/// <param name="Dims">Static shape of the input.</param>
/// <param name="Type">Element type: Double where ONNX Runtime has double kernels for the op, else Float.</param>
/// <param name="Differentiable">Whether the check differentiates with respect to this input.</param>
/// <param name="Low">Smallest value drawn (e.g. positive for Log).</param>
/// <param name="High">Largest value drawn.</param>
/// <param name="AwayFromZero">Keep |value| at least this large (for kinks at 0, e.g. Relu, Abs).</param>
/// <param name="Fixed">A constant payload instead of random values (indices, axes, masks).</param>
public sealed record InputSpec(long[] Dims, ElementType Type = ElementType.Double, bool Differentiable = true,
    double Low = -1, double High = 1, double AwayFromZero = 0, Tensor? Fixed = null)
{
    /// <summary>Axes the graph input declares as named symbols (dim_param) instead of sizes, so rules see run-time sizes.</summary>
    public IReadOnlyList<int> SymbolicAxes { get; init; } = [];

    /// <summary>The input's declared shape: <see cref="Dims"/> with the <see cref="SymbolicAxes"/> named "&lt;input&gt;_&lt;axis&gt;".</summary>
    public Shape GraphShape(string input) =>
        new(Dims.Select((d, axis) => SymbolicAxes.Contains(axis) ? Dim.Named($"{input}_{axis}") : Dim.Of(d)));

    /// <summary>The same input with run-time sizes along <paramref name="axes"/>.</summary>
    public InputSpec Symbolic(params int[] axes) => this with { SymbolicAxes = axes };

    public static InputSpec Of(params long[] dims) => new(dims);

    public static InputSpec Float(params long[] dims) => new(dims, ElementType.Float);

    public static InputSpec Positive(params long[] dims) => new(dims, Low: 0.5, High: 2);

    /// <summary>A constant, non-differentiable input (e.g. int64 indices, a bool condition).</summary>
    public static InputSpec Constant(Tensor value) => new(value.Dims, value.ElementType, Differentiable: false, Fixed: value);
}

/// <summary>
/// One row of the GradCheck table: an op applied to inputs, checked at order 1 and 2 against central
/// differences. <see cref="Build"/> receives the graph inputs (one per <see cref="Inputs"/>) and
/// returns the outputs to differentiate.
/// </summary>
public sealed record GradCheckCase(string Name, string OpType, InputSpec[] Inputs, Func<GraphBuilder, Value[], Value[]> Build)
{
    /// <summary>The ai.onnx opset the graph imports.</summary>
    public long Opset { get; init; } = 17;

    /// <summary>Check the second order too (off only for ops whose gradient is piecewise constant).</summary>
    public bool SecondOrder { get; init; } = true;

    /// <summary>Adds what the model needs beyond the ai.onnx import, e.g. model-local functions that define custom ops for ONNX Runtime.</summary>
    public Action<Model>? PrepareModel { get; init; }

    public override string ToString() => Name;

    /// <summary>A row whose graph is one node of <paramref name="opType"/> with the given attributes.</summary>
    public static GradCheckCase Op(string name, string opType, InputSpec[] inputs, params Attribute[] attributes) =>
        new(name, opType, inputs, (b, x) => [b.Op(opType, x, attributes)]);

    /// <summary>A row for a multi-output node whose outputs are all differentiated.</summary>
    public static GradCheckCase MultiOutput(string name, string opType, int outputs, InputSpec[] inputs, params Attribute[] attributes) =>
        new(name, opType, inputs, (b, x) => b.Op(opType, outputs, x, attributes));
}
