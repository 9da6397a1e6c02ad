namespace ImplicitRegOnnx.Onnx.Inference;

/// <summary>RNN, GRU and LSTM.</summary>
internal static class RecurrentRules
{
    public static void Register(Dictionary<string, ShapeRule> rules)
    {
        rules["RNN"] = Recurrent;
        rules["GRU"] = Recurrent;
        rules["LSTM"] = Recurrent;
    }

    /// <summary>
    /// RNN/GRU/LSTM (ONNX operator spec): X is [seq, batch, input] (layout 0) or [batch, seq, input] (layout 1);
    /// Y is [seq, dirs, batch, hidden] or [batch, seq, dirs, hidden]; Y_h (and LSTM's Y_c) are
    /// [dirs, batch, hidden] or [batch, dirs, hidden].
    /// </summary>
    private static void Recurrent(InferenceContext ctx)
    {
        var elementType = ctx.InputElementType(0);
        var batchFirst = ctx.Opset >= 14 && ctx.Int("layout", 0) != 0;
        var directions = Dim.Of(ctx.String("direction", "forward") == "bidirectional" ? 2 : 1);
        var hidden = ctx.HasAttribute("hidden_size") ? Dim.Of(ctx.Int("hidden_size", 0)) : Dim.Unknown;
        var x = ctx.InputShape(0) is { Rank: 3 } shape ? shape : null;
        var seq = x is null ? Dim.Unknown : x[batchFirst ? 1 : 0];
        var batch = x is null ? Dim.Unknown : x[batchFirst ? 0 : 1];
        ctx.SetOutput(0, elementType, batchFirst ? [batch, seq, directions, hidden] : [seq, directions, batch, hidden]);
        Dim[] state = batchFirst ? [batch, directions, hidden] : [directions, batch, hidden];
        ctx.SetOutput(1, elementType, state);
        ctx.SetOutput(2, elementType, state);
    }
}
