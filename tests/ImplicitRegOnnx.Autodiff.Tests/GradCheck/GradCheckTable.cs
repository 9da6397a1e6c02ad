namespace ImplicitRegOnnx.Autodiff.Tests.GradCheck;

/// <summary>
/// The GradCheck table: one or more rows per gradient rule, one file per op family (mirroring
/// src/ImplicitRegOnnx.Autodiff/Rules). Shapes are small, odd and broadcasting where the op allows.
/// </summary>
public static partial class GradCheckTable
{
    public static IEnumerable<GradCheckCase> All() =>
        Elementwise().Concat(Activations()).Concat(Reductions()).Concat(Linear()).Concat(Convolution())
            .Concat(Pooling()).Concat(Normalization()).Concat(ShapeOps()).Concat(Indexing()).Concat(Losses()).Concat(MoreActivations());

    public static TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        foreach (var c in All())
        {
            data.Add(c.Name);
        }
        return data;
    }

    public static GradCheckCase Get(string name) => All().Single(c => c.Name == name);

    /// <summary>Int64 constant input (indices, axes, shapes).</summary>
    public static InputSpec Ints(long[] dims, params long[] values) => InputSpec.Constant(Tensor.FromArray(values, dims));

    /// <summary>Bool constant input (conditions, masks).</summary>
    public static InputSpec Bools(long[] dims, params bool[] values) => InputSpec.Constant(Tensor.FromArray(values, dims));
}
