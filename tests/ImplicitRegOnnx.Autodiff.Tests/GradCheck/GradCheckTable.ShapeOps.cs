using ImplicitRegOnnx.Onnx.Building;

namespace ImplicitRegOnnx.Autodiff.Tests.GradCheck;

public static partial class GradCheckTable
{
    private static readonly InputSpec Box = InputSpec.Of(2, 3, 5);

    /// <summary>A row whose int64 operands (axes, pads, bounds...) are constants inside the graph, so rules see them as constant.</summary>
    private static GradCheckCase WithConstants(string name, string opType, InputSpec[] inputs, long[][] constants, params Attribute[] attributes) =>
        new(name, opType, inputs, (b, x) => [b.Op(opType, [.. x, .. constants.Select(k => k.Length == 0 ? null : b.Ints(k))], attributes)]);

    public static IEnumerable<GradCheckCase> ShapeOps() =>
    [
        WithConstants("Reshape", "Reshape", [Box], [[5, -1]]),
        WithConstants("Expand", "Expand", [InputSpec.Of(3, 1)], [[2, 3, 4]]),

        GradCheckCase.Op("Flatten default axis", "Flatten", [Box]),
        GradCheckCase.Op("Flatten axis 0", "Flatten", [Box], Attribute.Int("axis", 0)),
        GradCheckCase.Op("Flatten negative axis", "Flatten", [Box], Attribute.Int("axis", -1)),

        GradCheckCase.Op("Transpose default reverses", "Transpose", [Box]),
        GradCheckCase.Op("Transpose perm", "Transpose", [Box], Attribute.Ints("perm", [1, 2, 0])),

        GradCheckCase.Op("Squeeze axes attribute (opset 11)", "Squeeze", [InputSpec.Of(3, 1, 5, 1)], Attribute.Ints("axes", [1, -1])) with { Opset = 11 },
        WithConstants("Squeeze axes input", "Squeeze", [InputSpec.Of(3, 1, 5, 1)], [[-3]]),
        GradCheckCase.Op("Squeeze without axes", "Squeeze", [InputSpec.Of(1, 3, 1, 5)]),
        GradCheckCase.Op("Unsqueeze axes attribute (opset 11)", "Unsqueeze", [InputSpec.Of(3, 5)], Attribute.Ints("axes", [0, 3])) with { Opset = 11 },
        WithConstants("Unsqueeze axes input", "Unsqueeze", [InputSpec.Of(3, 5)], [[-1, 1]]),

        GradCheckCase.Op("Concat axis 1", "Concat", [InputSpec.Of(2, 1, 3), InputSpec.Of(2, 4, 3), InputSpec.Of(2, 2, 3)], Attribute.Int("axis", 1)),
        GradCheckCase.Op("Concat negative axis", "Concat", [InputSpec.Of(3, 2), InputSpec.Of(3, 5)], Attribute.Int("axis", -1)),
        GradCheckCase.Op("Concat (opset 11)", "Concat", [InputSpec.Of(1, 3), InputSpec.Of(2, 3)], Attribute.Int("axis", 0)) with { Opset = 11 },

        GradCheckCase.MultiOutput("Split attribute (opset 11)", "Split", 2, [InputSpec.Of(3, 5)], Attribute.Int("axis", 1), Attribute.Ints("split", [2, 3])) with { Opset = 11 },
        GradCheckCase.MultiOutput("Split equal (opset 11)", "Split", 3, [InputSpec.Of(6, 2)]) with { Opset = 11 },
        new GradCheckCase("Split input", "Split", [InputSpec.Of(2, 7)], (b, x) => b.Op("Split", 3, [x[0], b.Ints(1, 4, 2)], Attribute.Int("axis", -1))),
        GradCheckCase.MultiOutput("Split num_outputs uneven (opset 18)", "Split", 3, [InputSpec.Of(7, 2)], Attribute.Int("num_outputs", 3)) with { Opset = 18 },
        new GradCheckCase("Split some outputs unused", "Split", [InputSpec.Of(3, 6)],
            (b, x) => [b.Op("Split", 3, [x[0]], Attribute.Int("axis", 1))[1]]),

        WithConstants("Slice constant bounds (Pad path)", "Slice", [InputSpec.Of(4, 7)], [[1, -5], [3, 100], [0, 1]]),
        WithConstants("Slice negative axis, clamped start", "Slice", [InputSpec.Of(4, 7)], [[-100], [-2], [-1]]),
        WithConstants("Slice steps 2", "Slice", [InputSpec.Of(5, 7)], [[0, 1], [5, 7], [0, 1], [2, 3]]),
        WithConstants("Slice negative step", "Slice", [InputSpec.Of(4, 7)], [[-1, 5], [-100, 0], [1, 0], [-2, -1]]),
        GradCheckCase.Op("Slice run-time bounds", "Slice", [InputSpec.Of(4, 6), Ints([1], 1), Ints([1], -1)]),
        WithConstants("Slice steps (opset 11)", "Slice", [InputSpec.Of(5, 4)], [[4], [-100], [0], [-2]]) with { Opset = 11 },
        WithConstants("Slice (opset 11)", "Slice", [InputSpec.Of(3, 5)], [[1], [4], [1]]) with { Opset = 11 },

        WithConstants("Pad constant", "Pad", [InputSpec.Of(2, 3)], [[0, 1, 2, 0]]),
        GradCheckCase.Op("Pad constant value and run-time pads", "Pad", [InputSpec.Of(2, 3), Ints([4], 1, 0, 1, 2), InputSpec.Of()]),
        WithConstants("Pad negative pads crop", "Pad", [InputSpec.Of(3, 5)], [[-1, 2, 1, -2]]),
        GradCheckCase.Op("Pad attribute (opset 10)", "Pad", [InputSpec.Of(2, 3)], Attribute.Ints("pads", [1, 0, 0, 2]), Attribute.Float("value", 0.5f)) with { Opset = 10 },
        WithConstants("Pad reflect", "Pad", [InputSpec.Of(3, 4)], [[2, 1, 1, 3]], Attribute.String("mode", "reflect")),
        WithConstants("Pad reflect (opset 13: one-hot product)", "Pad", [InputSpec.Of(3, 4)], [[1, 2, 2, 1]], Attribute.String("mode", "reflect")) with { Opset = 13 },
        GradCheckCase.Op("Pad edge attribute (opset 10)", "Pad", [InputSpec.Of(3, 2)], Attribute.Ints("pads", [2, 1, 0, 2]), Attribute.String("mode", "edge")) with { Opset = 10 },
        WithConstants("Pad wrap (opset 19)", "Pad", [InputSpec.Of(3, 4)], [[1, 2, 2, 3]], Attribute.String("mode", "wrap")) with { Opset = 19 },
        WithConstants("Pad edge", "Pad", [InputSpec.Of(3, 4)], [[2, 1, 1, 3]], Attribute.String("mode", "edge")),
        new GradCheckCase("Pad axes input (opset 18)", "Pad", [InputSpec.Of(2, 3, 4)],
            (b, x) => [b.Op("Pad", [x[0], b.Ints(1, 2, 0, 1), null, b.Ints(-1, 0)])]) with { Opset = 18 },
        new GradCheckCase("Pad edge axes input (opset 18)", "Pad", [InputSpec.Of(2, 3, 4)],
            (b, x) => [b.Op("Pad", [x[0], b.Ints(2, 1), null, b.Ints(1)], Attribute.String("mode", "edge"))]) with { Opset = 18 },

        WithConstants("Tile", "Tile", [InputSpec.Of(2, 3)], [[3, 2]]),
        GradCheckCase.Op("SpaceToDepth", "SpaceToDepth", [InputSpec.Of(1, 2, 4, 6)], Attribute.Int("blocksize", 2)),
        GradCheckCase.Op("DepthToSpace DCR", "DepthToSpace", [InputSpec.Of(1, 8, 2, 3)], Attribute.Int("blocksize", 2)),
        GradCheckCase.Op("DepthToSpace CRD", "DepthToSpace", [InputSpec.Of(2, 8, 2, 3)], Attribute.Int("blocksize", 2), Attribute.String("mode", "CRD")),
        GradCheckCase.Op("Tile run-time repeats", "Tile", [InputSpec.Of(3, 1, 2), Ints([3], 1, 4, 2)]),
    ];
}
