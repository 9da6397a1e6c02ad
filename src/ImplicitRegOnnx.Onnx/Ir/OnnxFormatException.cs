namespace ImplicitRegOnnx.Onnx;

/// <summary>
/// The input is not a model this toolkit can read, or a model is structurally invalid
/// (dangling input, cycle, inconsistent tensor). The message is one line meant for the user.
/// </summary>
public class OnnxFormatException : Exception
{
    public OnnxFormatException()
    {
    }

    public OnnxFormatException(string message)
        : base(message)
    {
    }

    public OnnxFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
