namespace ImplicitRegOnnx.Onnx;

/// <summary>The type of a value (TypeProto in the ONNX IR spec). Most values are tensors.</summary>
public abstract record OnnxType
{
    /// <summary>Optional type denotation (e.g. IMAGE), carried through unchanged.</summary>
    public string? Denotation { get; init; }
}

/// <summary>A dense tensor type. <see cref="Shape"/> is null when even the rank is unknown.</summary>
public sealed record TensorType(ElementType ElementType, Shape? Shape) : OnnxType
{
    public override string ToString() => $"{ElementType.Name()}{Shape?.ToString() ?? "[?]"}";
}

/// <summary>A sparse tensor type.</summary>
public sealed record SparseTensorType(ElementType ElementType, Shape? Shape) : OnnxType;

/// <summary>A sequence of values of one type (null when unspecified).</summary>
public sealed record SequenceType(OnnxType? ElementType) : OnnxType;

/// <summary>A map from a scalar key type to a value type.</summary>
public sealed record MapType(ElementType KeyType, OnnxType? ValueType) : OnnxType;

/// <summary>An optional value.</summary>
public sealed record OptionalType(OnnxType? ElementType) : OnnxType;

/// <summary>An opaque type of the ONNX-ML profile.</summary>
public sealed record OpaqueType(string Domain, string Name) : OnnxType;

/// <summary>A type whose kind was not set in the file.</summary>
public sealed record UnspecifiedType : OnnxType;
