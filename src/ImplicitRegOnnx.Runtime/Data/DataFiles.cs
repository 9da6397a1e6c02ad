using System.IO.Compression;

namespace ImplicitRegOnnx.Runtime.Data;

/// <summary>File helpers shared by the loaders: gzip detection and one-line errors for I/O failures.</summary>
internal static class DataFiles
{
    /// <summary>Opens a file for reading, decompressing it when it starts with the gzip magic bytes 1f 8b (RFC 1952).</summary>
    public static Stream OpenMaybeGzip(string path)
    {
        var file = OpenRead(path);
        return MaybeGunzip(file);
    }

    /// <summary>
    /// Decompresses the stream when it starts with the gzip magic bytes. The result owns the stream
    /// unless <paramref name="leaveOpen"/>; disposing it then leaves the caller's stream open.
    /// </summary>
    public static Stream MaybeGunzip(Stream stream, bool leaveOpen = false)
    {
        if (!stream.CanSeek)
        {
            var copy = new MemoryStream();
            stream.CopyTo(copy);
            if (!leaveOpen)
            {
                stream.Dispose();
            }
            leaveOpen = false;
            copy.Position = 0;
            stream = copy;
        }
        var start = stream.Position;
        Span<byte> magic = stackalloc byte[2];
        var read = stream.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
        stream.Position = start;
        if (read == 2 && magic[0] == 0x1f && magic[1] == 0x8b)
        {
            return new GZipStream(stream, CompressionMode.Decompress, leaveOpen);
        }
        return leaveOpen ? new NonClosingStream(stream) : stream;
    }

    public static FileStream OpenRead(string path) => UserFiles.OpenRead(path);

    /// <summary>Runs a read and turns I/O and decompression failures into bad input naming the file (<see cref="UserFiles.CannotRead"/>).</summary>
    public static T Guard<T>(string path, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            throw UserFiles.CannotRead(path, e);
        }
    }

    /// <summary>
    /// The first existing file among the names made from <paramref name="path"/>'s name by replacing
    /// one of its tokens (separated by '_', '-' or '.') per the map, e.g. x.npy → y.npy,
    /// train-images-idx3-ubyte.gz → train-labels-idx1-ubyte.gz, with or without a ".gz" suffix.
    /// </summary>
    public static string? FindCompanion(string path, IReadOnlyDictionary<string, string> tokenMap, out List<string> tried)
    {
        tried = [];
        var folder = Path.GetDirectoryName(path) ?? "";
        var name = Path.GetFileName(path);
        var tokens = Tokenize(name);
        var replaced = false;
        for (var i = 0; i < tokens.Count; i++)
        {
            if (tokenMap.TryGetValue(tokens[i], out var other))
            {
                tokens[i] = other;
                replaced = true;
            }
        }
        if (!replaced)
        {
            return null;
        }
        var candidate = string.Concat(tokens);
        string[] names = candidate.EndsWith(".gz", StringComparison.Ordinal)
            ? [candidate, candidate[..^3]]
            : [candidate, candidate + ".gz"];
        foreach (var n in names)
        {
            var full = Path.Combine(folder, n);
            tried.Add(n);
            if (File.Exists(full))
            {
                return full;
            }
        }
        return null;
    }

    /// <summary>Splits a file name into word tokens and separators, keeping both so they concatenate back.</summary>
    private static List<string> Tokenize(string name)
    {
        var tokens = new List<string>();
        var start = 0;
        for (var i = 0; i <= name.Length; i++)
        {
            if (i == name.Length || name[i] is '_' or '-' or '.')
            {
                if (i > start)
                {
                    tokens.Add(name[start..i]);
                }
                if (i < name.Length)
                {
                    tokens.Add(name[i].ToString());
                }
                start = i + 1;
            }
        }
        return tokens;
    }
}

/// <summary>Forwards reads to a stream the caller keeps: disposing this leaves it open.</summary>
internal sealed class NonClosingStream(Stream inner) : Stream
{
    public override bool CanRead => inner.CanRead;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

    public override int Read(Span<byte> buffer) => inner.Read(buffer);

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
