using System.Globalization;

namespace ImplicitRegOnnx.Runtime.Experiments;

/// <summary>What a preset fixes besides its experiments: model, data, subset sizes.</summary>
/// <param name="Model">The inference model, relative to the repository root (models/).</param>
/// <param name="Data">The training images (IDX).</param>
/// <param name="TestData">The test images (IDX).</param>
/// <param name="TrainSize">The first N training examples used.</param>
/// <param name="TestSize">The first N test examples used.</param>
/// <param name="Normalize">The normalization (<see cref="Data.Normalization.Parse"/>).</param>
public sealed record SweepPresetSetup(string Model, string Data, string TestData, int TrainSize, int TestSize, string Normalize);

/// <summary>
/// The experiments of docs/reproduction.md (Smith et al., ICLR 2021): (a) plain SGD learning-rate sweep,
/// (b) the same with the explicit penalty, (c) batch-size sweep at fixed ε/B and at fixed ε, (d) large batch
/// with the penalty on microbatches against small-batch SGD, (e) full-batch gradient descent with and
/// without (ε/4)||∇C||². Every run uses plain SGD (no momentum) and a constant learning rate, and the
/// penalty, where present, is exact (double backward). λ is the toolkit's: c = λ/4 multiplies the mean
/// over microbatches of ||∇C_j||², so λ = ε with microbatches of the SGD batch size is the paper's term.
/// </summary>
public static class SweepPresets
{
    /// <summary>Where Debian's dataset-fashion-mnist package puts Fashion-MNIST, the presets' data.</summary>
    public const string FashionMnist = "/usr/share/datasets/fashion-mnist";

    /// <summary>The preset names: quick (about 20 minutes on 2 cores) and full (hours).</summary>
    public static IReadOnlyList<string> Names { get; } = ["quick", "full"];

    /// <summary>Model, data and subset sizes of a preset.</summary>
    /// <param name="preset">One of <see cref="Names"/>.</param>
    /// <exception cref="ImplicitRegException">Of kind <see cref="ErrorKind.BadInput"/>, naming <c>SweepFromFilesOptions.Preset</c>: an unknown preset.</exception>
    public static SweepPresetSetup Setup(string preset) => preset switch
    {
        "quick" => new SweepPresetSetup("models/mlp_relu.onnx", $"{FashionMnist}/train-images-idx3-ubyte.gz", $"{FashionMnist}/t10k-images-idx3-ubyte.gz", 4096, 5000, "scale"),
        "full" => new SweepPresetSetup("models/mlp_relu.onnx", $"{FashionMnist}/train-images-idx3-ubyte.gz", $"{FashionMnist}/t10k-images-idx3-ubyte.gz", 16384, 10000, "scale"),
        _ => throw ImplicitRegException.BadParameter("SweepFromFilesOptions.Preset", $"{preset}: unknown preset; use one of {string.Join(", ", Names)}"),
    };

    /// <summary>The experiments of a preset; <paramref name="seeds"/> replaces the preset's seeds when given.</summary>
    /// <param name="preset">One of <see cref="Names"/>.</param>
    /// <param name="seeds">The seeds of every run of experiments a to d (e runs one seed); null: the preset's (3 quick, 5 full).</param>
    /// <exception cref="ImplicitRegException">Of kind <see cref="ErrorKind.BadInput"/>: an unknown preset.</exception>
    public static IReadOnlyList<SweepExperiment> Experiments(string preset, IReadOnlyList<string>? seeds = null)
    {
        var setup = Setup(preset);
        var quick = preset == "quick";
        var s = seeds ?? (quick ? ["1", "2", "3"] : ["1", "2", "3", "4", "5"]);
        var epochs = quick ? "30" : "60";
        string[] lrs = quick
            ? ["0.0125", "0.025", "0.05", "0.1", "0.2", "0.4", "0.8"]
            : ["0.00625", "0.0125", "0.025", "0.05", "0.1", "0.2", "0.4", "0.8", "1.6"];
        string[] penaltyLrs = quick ? ["0.0125", "0.025", "0.05", "0.1", "0.2"] : lrs[..^2];
        string[] lambdas = quick ? ["0.4"] : ["0.1", "0.4", "1.6"];
        string[] batches = quick ? ["16", "32", "64", "128", "256", "512", "1024"] : ["16", "32", "64", "128", "256", "512", "1024", "2048", "4096"];
        const double referenceLr = 0.1;
        const int referenceBatch = 32;
        var scaledLrs = batches.Select(b => Format(referenceLr * int.Parse(b, CultureInfo.InvariantCulture) / referenceBatch)).ToArray();
        var fullBatch = setup.TrainSize.ToString(CultureInfo.InvariantCulture);
        var fullBatchSteps = quick ? "300" : "2000";
        string[] fullBatchLrs = quick ? ["0.2", "0.8"] : ["0.1", "0.2", "0.4", "0.8", "1.6"];
        const string large = "256";
        const string microbatchesOf32 = "8";
        var equalStepEpochs = (int.Parse(epochs, CultureInfo.InvariantCulture) * 8).ToString(CultureInfo.InvariantCulture);

        static IReadOnlyList<SweepPoint> Grid(params (string Name, string[] Values)[] lists) =>
            SweepGrid.Expand(SweepGrid.Axes([.. lists.Select(l => KeyValuePair.Create(l.Name, (IReadOnlyList<string>)l.Values))]));

        static IReadOnlyList<SweepPoint> Zipped(string[] zip, params (string Name, string[] Values)[] lists) =>
            SweepGrid.Expand(SweepGrid.Axes([.. lists.Select(l => KeyValuePair.Create(l.Name, (IReadOnlyList<string>)l.Values))], [zip]));

        (string, string[]) Plain() => ("penalty", ["none"]);
        (string, string[]) Sgd() => ("optimizer", ["sgd"]);
        (string, string[]) Epochs() => ("epochs", [epochs]);
        (string, string[]) Seeds() => ("seed", [.. s]);

        var plainSweep = new SweepSeries("plain SGD, B = 32", Grid(Sgd(), Epochs(), ("batch-size", ["32"]), Plain(), ("lr", lrs), Seeds()));
        var penaltySeries = lambdas.Select(l => new SweepSeries($"SGD + penalty λ = {l}, B = 32",
            Grid(Sgd(), Epochs(), ("batch-size", ["32"]), ("penalty", ["exact"]), ("microbatches", ["1"]), ("lambda", [l]), ("lr", penaltyLrs), Seeds())));
        return
        [
            new SweepExperiment("a-lr-sweep", "a. plain SGD: learning-rate sweep (B = 32)", "lr", "learning rate ε", LogX: true, [plainSweep]),
            new SweepExperiment("b-explicit-penalty", "b. learning-rate sweep with the explicit penalty (B = 32)", "lr", "learning rate ε", LogX: true,
                [plainSweep, .. penaltySeries]),
            new SweepExperiment("c-batch-scaling", "c. batch-size sweep: fixed ε/B against fixed ε", "batch-size", "batch size B", LogX: true,
            [
                new SweepSeries($"fixed ε/B = {Format(referenceLr)}/{referenceBatch}",
                    Zipped(["batch-size", "lr"], Sgd(), Epochs(), Plain(), ("batch-size", batches), ("lr", scaledLrs), Seeds())),
                new SweepSeries($"fixed ε = {Format(referenceLr)}", Grid(Sgd(), Epochs(), Plain(), ("batch-size", batches), ("lr", [Format(referenceLr)]), Seeds())),
            ]),
            new SweepExperiment("d-microbatch-penalty", $"d. B = {large} with the penalty on microbatches of 32 against B = 32", "batch-size", "batch size B", LogX: true,
            [
                new SweepSeries($"SGD, ε = {Format(referenceLr)}", Grid(Sgd(), Epochs(), Plain(), ("batch-size", ["32", large]), ("lr", [Format(referenceLr)]), Seeds())),
                new SweepSeries($"SGD + penalty on microbatches of 32, λ = ε = {Format(referenceLr)}",
                    Grid(Sgd(), Epochs(), ("penalty", ["exact"]), ("microbatches", [microbatchesOf32]), ("batch-size", [large]), ("lr", [Format(referenceLr)]), Seeds())),
                new SweepSeries($"SGD, linear scaling ε = {Format(referenceLr * 8)}", Grid(Sgd(), Epochs(), Plain(), ("batch-size", [large]), ("lr", [Format(referenceLr * 8)]), Seeds())),
                // B = 256 takes 8× fewer steps per epoch than B = 32; these two give it as many steps as B = 32 gets.
                new SweepSeries($"SGD, ε = {Format(referenceLr)}, as many steps as B = 32", Grid(Sgd(), ("epochs", [equalStepEpochs]), Plain(), ("batch-size", [large]), ("lr", [Format(referenceLr)]), Seeds())),
                new SweepSeries($"SGD + penalty on microbatches of 32, as many steps as B = 32",
                    Grid(Sgd(), ("epochs", [equalStepEpochs]), ("penalty", ["exact"]), ("microbatches", [microbatchesOf32]), ("batch-size", [large]), ("lr", [Format(referenceLr)]), Seeds())),
            ]),
            new SweepExperiment("e-full-batch", $"e. full-batch gradient descent (B = N = {fullBatch}, {fullBatchSteps} steps)", "lr", "learning rate ε", LogX: true,
            [
                new SweepSeries("GD", Grid(Sgd(), ("epochs", [fullBatchSteps]), Plain(), ("batch-size", [fullBatch]), ("lr", fullBatchLrs), ("seed", ["1"]))),
                new SweepSeries("GD + (ε/4)‖∇C‖² (λ = ε, n = 1)",
                    Grid(Sgd(), ("epochs", [fullBatchSteps]), ("penalty", ["exact"]), ("microbatches", ["1"]), ("batch-size", [fullBatch]), ("lr", fullBatchLrs), ("seed", ["1"]))),
            ]),
        ];
    }

    private static string Format(double value) => value.ToString("0.####", CultureInfo.InvariantCulture);
}
