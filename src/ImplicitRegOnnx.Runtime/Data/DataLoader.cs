namespace ImplicitRegOnnx.Runtime.Data;

/// <summary>Loads a data set from a path, recognising the format from the content (after gunzip when compressed).</summary>
public static class DataLoader
{
    /// <summary>
    /// Loads <paramref name="path"/>: a .npz archive; a .npy file (labels from
    /// <see cref="DataLoadOptions.LabelsPath"/> or the file next to it); a folder with x.npy and
    /// y.npy; an IDX images file (labels likewise); anything else is read as CSV.
    /// </summary>
    /// <exception cref="ImplicitRegException">The file is missing, malformed or incomplete; the message names it.</exception>
    public static Dataset Load(string path, DataLoadOptions? options = null)
    {
        options ??= DataLoadOptions.Default;
        if (Directory.Exists(path))
        {
            return NumpyData.LoadNpyFolder(path, options);
        }
        return Sniff(path) switch
        {
            DataFormat.Npz => NumpyData.LoadNpz(path, options),
            DataFormat.Npy => NumpyData.LoadNpyPair(path, null, options),
            DataFormat.Idx => IdxData.Load(path, null, options),
            _ => CsvData.Load(path, options),
        };
    }

    /// <summary>The format of a data file judged from its first bytes (after gunzip when compressed).</summary>
    public static DataFormat Sniff(string path) =>
        DataFiles.Guard(path, () =>
        {
            using var stream = DataFiles.OpenMaybeGzip(path);
            Span<byte> head = stackalloc byte[6];
            var read = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
            head = head[..read];
            if (head.StartsWith("PK"u8))
            {
                return DataFormat.Npz;
            }
            if (head.StartsWith((ReadOnlySpan<byte>)[0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y']))
            {
                return DataFormat.Npy;
            }
            if (head.Length >= 4 && head[0] == 0 && head[1] == 0 && head[2] is 0x08 or 0x09 or 0x0B or 0x0C or 0x0D or 0x0E && head[3] > 0)
            {
                return DataFormat.Idx;
            }
            return DataFormat.Csv;
        });

    /// <summary>Applies <see cref="DataLoadOptions.ExampleShape"/>, naming the file when it does not fit.</summary>
    internal static Dataset ApplyShape(Dataset data, DataLoadOptions options, string where)
    {
        if (options.ExampleShape is null)
        {
            return data;
        }
        try
        {
            return data.Reshape([.. options.ExampleShape]);
        }
        catch (ImplicitRegException e)
        {
            throw e.Within(where);
        }
    }
}

/// <summary>The data file formats <see cref="DataLoader"/> reads.</summary>
public enum DataFormat
{
    /// <summary>Comma-separated text, one example per row.</summary>
    Csv,
    /// <summary>A NumPy .npz archive of named arrays.</summary>
    Npz,
    /// <summary>A single NumPy .npy array.</summary>
    Npy,
    /// <summary>The IDX format of MNIST-style image and label files.</summary>
    Idx,
}
