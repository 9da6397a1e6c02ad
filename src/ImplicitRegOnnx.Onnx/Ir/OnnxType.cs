namespace ImplicitRegOnnx.Onnx;

/// <summary>The type of a value (TypeProto in the ONNX IR spec): one of the sealed records below. Most values are tensors (<see cref="TensorType"/>). Types are immutable; compare them with <c>==</c> (record equality).</summary>
public abstract record OnnxType
{
    /// <summary>The type's denotation (e.g. IMAGE, AUDIO) when the file gives one, else null; carried through unchanged.</summary>
    public string? Denotation { get; init; }
}

/// <summary>A dense tensor type.</summary>
/// <param name="ElementType">The element type; <see cref="Onnx.ElementType.Undefined"/> when not known.</param>
/// <param name="Shape">The shape; null when even the rank is unknown.</param>
public sealed record TensorType(ElementType ElementType, Shape? Shape) : OnnxType
{
    /// <summary>The element type's name and the shape, e.g. <c>float[batch,10]</c>; <c>[?]</c> for an unknown rank.</summary>
    public override string ToString() => $"{ElementType.Name()}{Shape?.ToString() ?? "[?]"}";
}

/// <summary>A sparse tensor type.</summary>
/// <param name="ElementType">The element type; <see cref="Onnx.ElementType.Undefined"/> when not known.</param>
/// <param name="Shape">The dense shape; null when even the rank is unknown.</param>
public sealed record SparseTensorType(ElementType ElementType, Shape? Shape) : OnnxType;

/// <summary>A sequence of values of one type.</summary>
/// <param name="ElementType">The type of the elements; null when the file does not give it.</param>
public sealed record SequenceType(OnnxType? ElementType) : OnnxType;

/// <summary>A map from keys of a scalar type to values of one type (ONNX-ML).</summary>
/// <param name="KeyType">The key's element type (an integer type or string).</param>
/// <param name="ValueType">The type of the values; null when the file does not give it.</param>
public sealed record MapType(ElementType KeyType, OnnxType? ValueType) : OnnxType;

/// <summary>An optional value: either absent or a value of <paramref name="ElementType"/>.</summary>
/// <param name="ElementType">The type of the value when present; null when the file does not give it.</param>
public sealed record OptionalType(OnnxType? ElementType) : OnnxType;

/// <summary>An opaque type of the ONNX-ML profile, known only by name.</summary>
/// <param name="Domain">The domain that defines it.</param>
/// <param name="Name">The type's name in that domain.</param>
public sealed record OpaqueType(string Domain, string Name) : OnnxType;

/// <summary>A TypeProto whose kind was not set in the file; kept so the value round-trips.</summary>
public sealed record UnspecifiedType : OnnxType;
