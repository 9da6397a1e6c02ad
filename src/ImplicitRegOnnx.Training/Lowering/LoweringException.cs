namespace ImplicitRegOnnx.Training.Lowering;

/// <summary>A training-domain node that cannot be lowered: one line naming the node and what is wrong.</summary>
public sealed class LoweringException : Exception
{
    public LoweringException()
    {
    }

    public LoweringException(string message)
        : base(message)
    {
    }

    public LoweringException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>An error about one node: "node 'N' (Op): message".</summary>
    public static LoweringException At(Node node, string message, Exception? inner = null)
    {
        ArgumentNullException.ThrowIfNull(node);
        var text = $"node '{node.Name}' ({node.OpType}): {message}";
        return inner is null ? new LoweringException(text) : new LoweringException(text, inner);
    }
}
