namespace ImplicitRegOnnx.Onnx.Numpy;

/// <summary>
/// A .npy or .npz file that is malformed or holds an array this toolkit cannot represent (object,
/// structured, complex, string or datetime dtypes). The message is one line naming the file and entry.
/// It derives from <see cref="OnnxFormatException"/> so callers that map bad input to a usage error
/// treat both alike.
/// </summary>
public class NumpyFormatException : OnnxFormatException
{
    public NumpyFormatException()
    {
    }

    public NumpyFormatException(string message)
        : base(message)
    {
    }

    public NumpyFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
