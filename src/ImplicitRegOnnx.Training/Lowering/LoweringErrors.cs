namespace ImplicitRegOnnx.Training.Lowering;

/// <summary>Errors of the lowering: one line that names the training-domain node and what is wrong.</summary>
internal static class LoweringErrors
{
    /// <summary>An error about one node: "node 'N' (Op): message"; a node that breaks the spec is bad input.</summary>
    public static ImplicitRegException At(Node node, string message, ErrorKind kind = ErrorKind.BadInput)
    {
        ArgumentNullException.ThrowIfNull(node);
        return new ImplicitRegException(kind, $"{Where(node)}: {message}");
    }

    /// <summary>How errors name a node: "node 'N' (Op)".</summary>
    public static string Where(Node node) => $"node '{node.Name}' ({node.OpType})";
}
