using System.Globalization;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ImplicitRegOnnx.Onnx;
using ImplicitRegOnnx.Onnx.IO;
using ImplicitRegOnnx.Onnx.Numpy;
using ImplicitRegOnnx.Runtime.Data;

namespace ImplicitRegOnnx.Runtime.Training;

/// <summary>Where a run stands: after <see cref="Step"/> steps, the sampler at <see cref="Sampler"/>.</summary>
public sealed record TrainingPosition(long Step, SamplerState Sampler);

/// <summary>One checkpoint: the position, the parameters and optimizer states, and the configuration fingerprint.</summary>
public sealed record Checkpoint(TrainingPosition Position, IReadOnlyDictionary<string, Tensor> State, string Fingerprint, string Configuration)
{
    /// <summary>The best value of the monitored metric so far (early stopping, keep-best), so a resumed run keeps it; null when nothing is monitored.</summary>
    public MonitorState? Monitor { get; init; }

    /// <summary>The metric <see cref="Monitor"/> is about.</summary>
    public string? MonitorMetric { get; init; }
}

/// <summary>
/// Checkpoint files: a zip holding checkpoint.json (format, step, sampler state, configuration and
/// its fingerprint) and one .npy per parameter and state. Written by the one atomic writer
/// (<c>AtomicFile</c>: a temporary file, flushed to disk and renamed), so a run killed at any moment
/// leaves only complete checkpoints; the newest K are kept.
/// </summary>
public static class Checkpoints
{
    /// <summary>The format name recorded in, and required of, every checkpoint.</summary>
    public const string Format = "implicitreg-checkpoint/1";
    private const string Prefix = "checkpoint-";
    private const string Extension = ".ckpt";

    /// <summary>SHA-256 of the configuration text (which includes the model's bytes' hash).</summary>
    public static string Fingerprint(string configuration) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(configuration)));

    /// <summary>Writes <paramref name="checkpoint"/> atomically into <paramref name="directory"/> (created if missing), deletes all but the newest <paramref name="keep"/>, and returns the new file's path.</summary>
    public static string Write(string directory, Checkpoint checkpoint, int keep)
    {
        Directory.CreateDirectory(directory);
        var name = Prefix + checkpoint.Position.Step.ToString("D10", CultureInfo.InvariantCulture) + Extension;
        var path = Path.Combine(directory, name);
        using (var file = AtomicFile.Create(path))
        {
            using (var zip = new ZipArchive(file.Stream, ZipArchiveMode.Create, leaveOpen: true))
            {
                var meta = new Dictionary<string, object>
                {
                    ["format"] = Format,
                    ["step"] = checkpoint.Position.Step,
                    ["sampler_seed"] = checkpoint.Position.Sampler.Seed.ToString(CultureInfo.InvariantCulture),
                    ["sampler_epoch"] = checkpoint.Position.Sampler.Epoch,
                    ["sampler_position"] = checkpoint.Position.Sampler.Position,
                    ["fingerprint"] = checkpoint.Fingerprint,
                    ["configuration"] = checkpoint.Configuration,
                    ["tensors"] = checkpoint.State.Keys.ToArray(),
                };
                if (checkpoint.Monitor is { } monitor)
                {
                    meta["monitor_metric"] = checkpoint.MonitorMetric ?? "";
                    meta["monitor_best"] = monitor.Best;
                    meta["monitor_best_epoch"] = monitor.BestEpoch;
                    meta["monitor_epochs_without_improvement"] = monitor.EpochsWithoutImprovement;
                }
                using (var entry = zip.CreateEntry("checkpoint.json", CompressionLevel.NoCompression).Open())
                {
                    JsonSerializer.Serialize(entry, meta);
                }
                var index = 0;
                foreach (var tensor in checkpoint.State.Values)
                {
                    using var entry = zip.CreateEntry($"t{index++}.npy", CompressionLevel.NoCompression).Open();
                    NpyFormat.Write(entry, tensor);
                }
            }
            file.Commit();
        }
        foreach (var old in List(directory).SkipLast(Math.Max(keep, 1)))
        {
            File.Delete(old);
        }
        return path;
    }

    /// <summary>Checkpoint files of a directory, oldest first.</summary>
    public static IReadOnlyList<string> List(string directory) =>
        Directory.Exists(directory)
            ? [.. Directory.EnumerateFiles(directory, Prefix + "*" + Extension).Order(StringComparer.Ordinal)]
            : [];

    /// <summary>Reads a checkpoint file; a file that is not a complete checkpoint of <see cref="Format"/> is an <see cref="ImplicitRegException"/> of kind <see cref="ErrorKind.BadInput"/>.</summary>
    public static Checkpoint Read(string path)
    {
        try
        {
            using var zip = ZipFile.OpenRead(path);
            var metaEntry = zip.GetEntry("checkpoint.json") ?? throw ImplicitRegException.BadInput($"{path}: not an implicitreg checkpoint (no checkpoint.json)");
            using var metaStream = metaEntry.Open();
            using var meta = JsonDocument.Parse(metaStream);
            var root = meta.RootElement;
            if (!root.TryGetProperty("format", out var format) || format.GetString() != Format)
            {
                throw ImplicitRegException.BadInput($"{path}: not an implicitreg checkpoint of format {Format}");
            }
            var names = root.GetProperty("tensors").EnumerateArray().Select(e => e.GetString()!).ToArray();
            var state = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            for (var i = 0; i < names.Length; i++)
            {
                var entry = zip.GetEntry($"t{i}.npy") ?? throw ImplicitRegException.BadInput($"{path}: tensor '{names[i]}' is missing");
                using var stream = entry.Open();
                state[names[i]] = NpyFormat.Read(stream, $"{path}:{names[i]}").WithName(names[i]);
            }
            var position = new TrainingPosition(root.GetProperty("step").GetInt64(), new SamplerState(
                ulong.Parse(root.GetProperty("sampler_seed").GetString()!, CultureInfo.InvariantCulture),
                root.GetProperty("sampler_epoch").GetInt64(),
                root.GetProperty("sampler_position").GetInt32()));
            var monitor = root.TryGetProperty("monitor_best", out var best)
                ? new MonitorState(best.GetDouble(), root.GetProperty("monitor_best_epoch").GetInt64(), root.GetProperty("monitor_epochs_without_improvement").GetInt32())
                : null;
            return new Checkpoint(position, state, root.GetProperty("fingerprint").GetString()!, root.GetProperty("configuration").GetString()!)
            {
                Monitor = monitor,
                MonitorMetric = monitor is null ? null : root.GetProperty("monitor_metric").GetString(),
            };
        }
        catch (Exception e) when (e is InvalidDataException or JsonException or KeyNotFoundException or InvalidOperationException or FormatException or IOException)
        {
            throw ImplicitRegException.BadInput($"{path}: damaged checkpoint ({e.Message.ReplaceLineEndings(" ")}); delete it to resume from an older one", e);
        }
    }

    /// <summary>The newest checkpoint of a directory, or null when there is none.</summary>
    public static Checkpoint? Newest(string directory)
    {
        var files = List(directory);
        return files.Count == 0 ? null : Read(files[^1]);
    }
}
