using ImplicitRegOnnx.Onnx;

namespace ImplicitRegOnnx.Runtime.Data;

/// <summary>
/// A data file (npz, npy, CSV, IDX) is missing, malformed or does not fit what was asked of it.
/// The message is one line that names the file and what is wrong. It derives from
/// <see cref="OnnxFormatException"/> so the CLI maps it, like any bad input, to exit code 2.
/// </summary>
public class DataFormatException : OnnxFormatException
{
    public DataFormatException()
    {
    }

    public DataFormatException(string message)
        : base(message)
    {
    }

    public DataFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
