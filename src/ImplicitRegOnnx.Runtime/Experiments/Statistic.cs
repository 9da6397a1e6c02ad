namespace ImplicitRegOnnx.Runtime.Experiments;

/// <summary>Mean and sample standard deviation (n − 1 in the denominator) of n finite values; NaN where undefined.</summary>
public readonly record struct Statistic(double Mean, double StandardDeviation, int Count)
{
    /// <summary>The statistic of the finite values among <paramref name="values"/> (std NaN for fewer than two).</summary>
    public static Statistic Of(IEnumerable<double> values)
    {
        var finite = values.Where(double.IsFinite).ToList();
        if (finite.Count == 0)
        {
            return new Statistic(double.NaN, double.NaN, 0);
        }
        var mean = finite.Average();
        var std = finite.Count < 2 ? double.NaN : Math.Sqrt(finite.Sum(v => (v - mean) * (v - mean)) / (finite.Count - 1));
        return new Statistic(mean, std, finite.Count);
    }
}
