namespace ImplicitRegOnnx.Onnx.Tests.Ir;

public class AttributeTests
{
    [Fact]
    public void TypedAccessorsReturnWhatTheFactoriesStored()
    {
        var node = new Node("", "Transpose", [], ["y"], [
            Attribute.Ints("perm", [0, 2, 1]),
            Attribute.Float("alpha", 0.25f),
            Attribute.String("mode", "nearest"),
        ]);
        Assert.Equal([0L, 2, 1], node.GetInts("perm"));
        Assert.Equal(0.25f, node.GetFloat("alpha", 1));
        Assert.Equal("nearest", node.GetString("mode", "linear"));
        Assert.Equal(7, node.GetInt("axis", 7));
        Assert.Null(node.GetInts("axes"));
    }

    [Fact]
    public void AnAttributeOfTheWrongKindIsBadInputNamingIt()
    {
        // A model whose Softmax has a FLOAT "axis" is malformed input, not a bug of the caller.
        var node = new Node("", "Softmax", [], ["y"], [Attribute.Float("axis", 1)]);
        var error = Assert.Throws<ImplicitRegException>(() => node.GetInt("axis", -1));
        Assert.Equal(ErrorKind.BadInput, error.Kind);
        Assert.Contains("'axis' is Float, not Int", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void AnAttributeOfTheWrongKindNamesItsNode()
    {
        var node = new Node("", "Gemm", [new Value("x"), new Value("w")], ["y"], [Attribute.String("alpha", "abc")], name: "fc");
        var error = Assert.Throws<ImplicitRegException>(() => node.GetFloat("alpha", 1));
        Assert.Equal(ErrorKind.BadInput, error.Kind);
        Assert.StartsWith("node fc = Gemm(x, w): attribute 'alpha' is String, not Float", error.Message, StringComparison.Ordinal);
        Assert.Equal(0.5f, new Node("", "Gemm", [], ["y"], [Attribute.Float("alpha", 0.5f)]).GetFloat("alpha", 1));
    }

    [Fact]
    public void AReferenceHasNoValueOfItsOwn()
    {
        var reference = Attribute.Reference("alpha", AttributeKind.Float, "scale");
        Assert.Null(reference.Payload);
        var error = Assert.Throws<ImplicitRegException>(() => reference.AsFloat());
        Assert.Equal(ErrorKind.BadInput, error.Kind);
        Assert.Contains("'scale'", error.Message, StringComparison.Ordinal);
    }
}
