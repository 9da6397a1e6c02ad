namespace ImplicitRegOnnx.Onnx.Passes;

/// <summary>
/// The per-operator rules of <see cref="OpsetUpgrade"/>. Each rule looks at one ai.onnx node (in the
/// model's old opset) and plans its rewrite for the target opset; versions in comments are those of
/// the ONNX operator changelog (e.g. "Squeeze-13" is the operator version introduced by opset 13).
/// Operators not named here kept their signature and semantics for the models' purposes (only type
/// constraints grew, or new attributes came with defaults equal to the old behaviour: MaxPool-8/10/11/12
/// storage_order/ceil_mode/dilations, AveragePool-7/10/19 count_include_pad/ceil_mode/dilations,
/// TopK-11 largest/sorted, ArgMax-12 select_last_index, Reshape-14 allowzero, GRU/LSTM/RNN-14 layout,
/// GRU-3 linear_before_reset, Gather, Flatten, Pow, Constant value_* variants, Concat-4 ...).
/// </summary>
internal static class OpsetUpgradeRules
{
    /// <summary>Ops that before version 7 took broadcast/axis attributes (legacy broadcasting); numpy-style from 7.</summary>
    private static readonly HashSet<string> LegacyBroadcastOps = new(StringComparer.Ordinal)
    {
        "Add", "Sub", "Mul", "Div", "Pow", "And", "Or", "Xor", "Equal", "Greater", "Less",
    };

    /// <summary>Reductions whose axes moved from an attribute to an input at opset 18 (ReduceSum already at 13).</summary>
    private static readonly HashSet<string> Reductions18 = new(StringComparer.Ordinal)
    {
        "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceMax", "ReduceMean", "ReduceMin", "ReduceProd", "ReduceSumSquare",
    };

    private static readonly long[] AllImageAxes = [0, 1, 2, 3];

    public static UpgradePlan Plan(Node node, Upgrader u)
    {
        if (node.Attributes.Any(a => a.RefAttrName is not null) && node.OpType is not ("Constant" or "Identity"))
        {
            // Inside a function body an attribute may take the caller's value, which the rewrite cannot read.
            var touched = TouchedAttributes(node.OpType);
            if (node.Attributes.Any(a => a.RefAttrName is not null && touched.Contains(a.Name)))
            {
                return UpgradePlan.Refuse("an attribute the rewrite needs refers to the calling function's attribute");
            }
        }
        var plan = PlanOp(node, u);
        // consumed_inputs (in-place hints of opset 1 ops; removed at version 6, or 7 for BatchNormalization) has no successor.
        if (plan.Refusal is null && u.From < 7 && node.GetAttribute("consumed_inputs") is not null)
        {
            var inner = plan.Apply;
            return UpgradePlan.Do(() =>
            {
                node.RemoveAttribute("consumed_inputs");
                inner?.Invoke();
            });
        }
        return plan;
    }

    private static string[] TouchedAttributes(string opType) => opType switch
    {
        "Squeeze" or "Unsqueeze" or "ReduceSum" => ["axes"],
        "Split" => ["split"],
        "Clip" => ["min", "max"],
        "Pad" => ["pads", "paddings", "value"],
        "Slice" => ["starts", "ends", "axes"],
        "TopK" => ["k"],
        "Reshape" => ["shape"],
        "Dropout" => ["ratio"],
        "Softmax" or "LogSoftmax" or "Hardmax" => ["axis"],
        "Upsample" => ["scales", "height_scale", "width_scale", "mode"],
        "Resize" => ["mode"],
        "Cast" => ["to"],
        "BatchNormalization" => ["spatial", "epsilon"],
        "DFT" => ["axis"],
        _ when Reductions18.Contains(opType) => ["axes"],
        _ when LegacyBroadcastOps.Contains(opType) => ["broadcast", "axis"],
        _ => ["alpha", "beta", "scale", "bias", "p"],
    };

    private static UpgradePlan PlanOp(Node node, Upgrader u)
    {
        var op = node.OpType;
        if (LegacyBroadcastOps.Contains(op))
        {
            return u.From < 7 ? LegacyBroadcast(node, u) : UpgradePlan.None;
        }
        if (Reductions18.Contains(op))
        {
            return u.Crosses(18) ? AttributeToInput(node, "axes", 1, u) : UpgradePlan.None;
        }
        return op switch
        {
            // Squeeze-13, Unsqueeze-13, ReduceSum-13: the axes attribute became the optional (Unsqueeze: required) int64 input 1.
            "Squeeze" or "Unsqueeze" or "ReduceSum" => u.Crosses(13) ? AttributeToInput(node, "axes", 1, u) : UpgradePlan.None,
            "Split" => Split(node, u),
            // Clip-11: min and max became optional inputs 1 and 2 (scalars of the input's type).
            "Clip" => u.Crosses(11) ? Clip(node, u) : UpgradePlan.None,
            // Pad-2 renamed paddings to pads; Pad-11: pads became input 1 (int64), value the optional input 2.
            "Pad" => u.Crosses(11) ? Pad(node, u) : UpgradePlan.None,
            // Slice-10: starts, ends and axes became inputs 1 to 3 (int64); steps (input 4) is new.
            "Slice" => u.Crosses(10) ? Slice(node, u) : UpgradePlan.None,
            // TopK-10: k became input 1, a 1-D int64 tensor of one element.
            "TopK" => u.Crosses(10) ? TopK(node, u) : UpgradePlan.None,
            // Reshape-5: the shape attribute became input 1 (int64).
            "Reshape" => u.Crosses(5) ? AttributeToInput(node, "shape", 1, u) : UpgradePlan.None,
            "Dropout" => Dropout(node, u),
            // Upsample was deprecated at opset 10 in favour of Resize.
            "Upsample" => Upsample(node, u),
            // Resize-11 added the roi input and coordinate_transformation_mode (default half_pixel).
            "Resize" => u.Crosses(11) ? Resize10(node, u) : UpgradePlan.None,
            "Softmax" or "LogSoftmax" or "Hardmax" => u.Crosses(13) ? Softmax(node, u) : UpgradePlan.None,
            "BatchNormalization" => BatchNormalization(node, u),
            // Gemm-7 removed the broadcast attribute: C broadcasts unidirectionally (numpy) always.
            "Gemm" => u.From < 7 ? RemoveAttributes(node, "broadcast") : UpgradePlan.None,
            // Cast-6: 'to' changed from a type name string to the TensorProto.DataType number.
            "Cast" => u.Crosses(6) ? Cast(node) : UpgradePlan.None,
            // Concat-4: axis became required; Concat-1 defaulted to 1.
            "Concat" => u.Crosses(4) && node.GetAttribute("axis") is null
                ? UpgradePlan.Do(() => node.SetAttribute(Attribute.Int("axis", 1)))
                : UpgradePlan.None,
            // GRU/LSTM/RNN-7 removed output_sequence (Y became an optional output instead).
            "GRU" or "LSTM" or "RNN" => u.Crosses(7) ? RemoveAttributes(node, "output_sequence") : UpgradePlan.None,
            // LpPool-2, GlobalLpPool-2: p changed from float to int.
            "LpPool" or "GlobalLpPool" => u.Crosses(2) ? LpPoolP(node) : UpgradePlan.None,
            // Scatter was deprecated at opset 11: ScatterElements-11 has the same inputs and axis attribute.
            "Scatter" => UpgradePlan.Do(() => node.OpType = "ScatterElements"),
            // Scan-9 dropped the batch axis and the sequence_lens input of Scan-8.
            "Scan" when u.Crosses(9) => UpgradePlan.Refuse("Scan-8 has a batch axis and a sequence_lens input that Scan-9 does not"),
            // Tile-6: repeats became one 1-D input; Tile-1 took tiles and axis inputs.
            "Tile" when u.Crosses(6) => UpgradePlan.Refuse("Tile-1 (tiles and axis inputs) has no direct Tile-6 form"),
            // MeanVarianceNormalization-9 replaced across_channels/normalize_variance with axes and always normalizes the variance.
            "MeanVarianceNormalization" when u.Crosses(9) => MeanVarianceNormalization(node),
            // GridSample-20 renamed modes: bilinear → linear, bicubic → cubic.
            "GridSample" when u.Crosses(20) => GridSample(node),
            // DFT-20: axis moved from an attribute (default 1) to the optional input 2 (default -2).
            "DFT" when u.Crosses(20) => UpgradePlan.Do(() =>
            {
                var axis = node.GetInt("axis", 1);
                node.RemoveAttribute("axis");
                Upgrader.SetInputAt(node, 2, u.Constant(node, Tensor.Scalar(axis)));
            }),
            // GroupNormalization-21: scale and bias are per channel, not per group.
            "GroupNormalization" when u.Crosses(21) => UpgradePlan.Refuse("GroupNormalization-18 scales per group, GroupNormalization-21 per channel"),
            // Experimental ops of opsets 1 to 9, removed at opset 10.
            "ImageScaler" or "Affine" or "ScaledTanh" or "ParametricSoftplus" or "Scale" when u.Crosses(10) => Experimental(node, u),
            "DynamicSlice" when u.Crosses(10) => UpgradePlan.Do(() => node.OpType = "Slice"),
            "Crop" or "GivenTensorFill" or "ConstantFill" or "GRUUnit" when u.Crosses(10) =>
                UpgradePlan.Refuse($"{op} was an experimental operator removed at opset 10 without a replacement"),
            _ => UpgradePlan.None,
        };
    }

    private static UpgradePlan RemoveAttributes(Node node, params string[] names) =>
        names.Any(n => node.GetAttribute(n) is not null)
            ? UpgradePlan.Do(() =>
            {
                foreach (var name in names)
                {
                    node.RemoveAttribute(name);
                }
            })
            : UpgradePlan.None;

    /// <summary>Moves an ints attribute, when present, to an int64 input at <paramref name="index"/>.</summary>
    private static UpgradePlan AttributeToInput(Node node, string name, int index, Upgrader u)
    {
        if (node.GetAttribute(name) is not { } attribute)
        {
            return UpgradePlan.None;
        }
        if (attribute.Kind != AttributeKind.Ints)
        {
            return UpgradePlan.Refuse($"attribute '{name}' is {attribute.Kind}, not a list of ints");
        }
        return UpgradePlan.Do(() =>
        {
            var values = attribute.AsInts();
            node.RemoveAttribute(name);
            Upgrader.SetInputAt(node, index, u.Ints(node, values));
        });
    }

    /// <summary>
    /// Add-7 etc. replaced the legacy broadcast (attribute broadcast=1, with B's dims matching A's from
    /// 'axis' on, or A's trailing dims without axis) by numpy broadcasting. Without axis the legacy rule
    /// is a special case of numpy's; with axis, B gets trailing 1s so that its dims line up again.
    /// </summary>
    private static UpgradePlan LegacyBroadcast(Node node, Upgrader u)
    {
        var axisAttribute = node.GetAttribute("axis");
        if (node.GetInt("broadcast", 0) == 0 || axisAttribute is null)
        {
            return RemoveAttributes(node, "broadcast", "axis");
        }
        var axis = axisAttribute.AsInt();
        var a = node.Input(0);
        var b = node.Input(1);
        if (a is null || b is null)
        {
            return UpgradePlan.Refuse("a broadcasting node needs two inputs");
        }
        var rankA = a.Shape?.Rank;
        var rankB = b.Shape?.Rank;
        if (rankA is { } ra && rankB is { } rb)
        {
            var start = axis < 0 ? axis + ra : axis;
            var trailing = ra - start - rb;
            if (start < 0 || trailing < 0)
            {
                return UpgradePlan.Refuse($"input B of rank {rb} does not fit input A of rank {ra} at axis {axis}");
            }
            return UpgradePlan.Do(() =>
            {
                node.RemoveAttribute("broadcast");
                node.RemoveAttribute("axis");
                if (trailing > 0)
                {
                    var axes = Enumerable.Range(rb, (int)trailing).Select(i => (long)i).ToArray();
                    node.SetInput(1, u.Emit(node, "Unsqueeze", [b, u.Ints(node, axes)]));
                }
            });
        }
        // Ranks unknown: reshape B to Shape(B) followed by rank(A) - axis - rank(B) ones, computed at run time.
        return UpgradePlan.Do(() =>
        {
            node.RemoveAttribute("broadcast");
            node.RemoveAttribute("axis");
            var shapeB = u.Emit(node, "Shape", [b]);
            var rankBValue = u.Emit(node, "Size", [shapeB]);
            Value count;
            if (axis >= 0)
            {
                var rankAValue = u.Emit(node, "Size", [u.Emit(node, "Shape", [a])]);
                count = u.Emit(node, "Sub", [u.Emit(node, "Sub", [rankAValue, u.Constant(node, Tensor.Scalar(axis))]), rankBValue]);
            }
            else
            {
                count = u.Emit(node, "Sub", [u.Constant(node, Tensor.Scalar(-axis)), rankBValue]);
            }
            var ones = u.Emit(node, "ConstantOfShape", [u.Emit(node, "Reshape", [count, u.Ints(node, [1])])],
                Attribute.FromTensor("value", Tensor.FromArray(new long[] { 1 }, [1])));
            var shape = u.Emit(node, "Concat", [shapeB, ones], Attribute.Int("axis", 0));
            node.SetInput(1, u.Emit(node, "Reshape", [b, shape]));
        });
    }

    private static UpgradePlan Split(Node node, Upgrader u)
    {
        var actions = new List<Action>();
        if (u.Crosses(13) && node.GetAttribute("split") is not null)
        {
            // Split-13: split became the optional int64 input 1.
            if (AttributeToInput(node, "split", 1, u) is { Refusal: null, Apply: { } apply })
            {
                actions.Add(apply);
            }
            else
            {
                return UpgradePlan.Refuse("attribute 'split' is not a list of ints");
            }
        }
        else if (u.Crosses(2) && node.Input(1) is { } splitInput && splitInput.ElementType != ElementType.Int64)
        {
            // Split-1 also took split as an optional input; it must be int64 from Split-13.
            actions.Add(() => node.SetInput(1, u.Emit(node, "Cast", [splitInput], Attribute.Int("to", (long)ElementType.Int64))));
        }
        if (u.Crosses(18))
        {
            // Split-18: without a split input, num_outputs says how many equal parts there are.
            actions.Add(() =>
            {
                if (node.Input(1) is null && node.GetAttribute("num_outputs") is null)
                {
                    node.SetAttribute(Attribute.Int("num_outputs", node.Outputs.Count));
                }
            });
        }
        return actions.Count == 0 ? UpgradePlan.None : UpgradePlan.Do(() => actions.ForEach(a => a()));
    }

    private static UpgradePlan Clip(Node node, Upgrader u)
    {
        var min = node.GetAttribute("min");
        var max = node.GetAttribute("max");
        if (min is null && max is null)
        {
            return UpgradePlan.None;
        }
        var x = node.Input(0)!;
        if (!u.CanMakeScalarLike(x))
        {
            return UpgradePlan.Refuse("the input's element type is unknown, so min/max inputs cannot be typed");
        }
        return UpgradePlan.Do(() =>
        {
            node.RemoveAttribute("min");
            node.RemoveAttribute("max");
            if (min is not null)
            {
                Upgrader.SetInputAt(node, 1, u.ScalarLike(node, min.AsFloat(), x));
            }
            if (max is not null)
            {
                Upgrader.SetInputAt(node, 2, u.ScalarLike(node, max.AsFloat(), x));
            }
        });
    }

    private static UpgradePlan Pad(Node node, Upgrader u)
    {
        var padsName = node.GetAttribute("pads") is not null ? "pads" : "paddings";
        if (node.GetInts(padsName) is not { } pads)
        {
            return UpgradePlan.Refuse("Pad before opset 11 needs the pads attribute");
        }
        var value = node.GetFloat("value", 0f);
        var x = node.Input(0)!;
        if (value != 0 && !u.CanMakeScalarLike(x))
        {
            return UpgradePlan.Refuse("the input's element type is unknown, so the constant_value input cannot be typed");
        }
        return UpgradePlan.Do(() =>
        {
            node.RemoveAttribute(padsName);
            node.RemoveAttribute("value");
            Upgrader.SetInputAt(node, 1, u.Ints(node, pads));
            if (value != 0)
            {
                Upgrader.SetInputAt(node, 2, u.ScalarLike(node, value, x));
            }
        });
    }

    private static UpgradePlan Slice(Node node, Upgrader u)
    {
        if (node.GetInts("starts") is not { } starts || node.GetInts("ends") is not { } ends)
        {
            return UpgradePlan.Refuse("Slice before opset 10 needs the starts and ends attributes");
        }
        var axes = node.GetInts("axes");
        return UpgradePlan.Do(() =>
        {
            node.RemoveAttribute("starts");
            node.RemoveAttribute("ends");
            node.RemoveAttribute("axes");
            Upgrader.SetInputAt(node, 1, u.Ints(node, starts));
            Upgrader.SetInputAt(node, 2, u.Ints(node, ends));
            if (axes is not null)
            {
                Upgrader.SetInputAt(node, 3, u.Ints(node, axes));
            }
        });
    }

    private static UpgradePlan TopK(Node node, Upgrader u)
    {
        if (node.GetAttribute("k") is not { Kind: AttributeKind.Int } k)
        {
            return node.Input(1) is null ? UpgradePlan.Refuse("TopK before opset 10 needs the k attribute") : UpgradePlan.None;
        }
        return UpgradePlan.Do(() =>
        {
            node.RemoveAttribute("k");
            Upgrader.SetInputAt(node, 1, u.Ints(node, [k.AsInt()]));
        });
    }

    /// <summary>
    /// Dropout-7 removed is_test; Dropout-10 made the mask output bool (it had the data's type);
    /// Dropout-12 moved ratio to the optional input 1 (and added training_mode, default false).
    /// </summary>
    private static UpgradePlan Dropout(Node node, Upgrader u)
    {
        var actions = new List<Action>();
        if (u.Crosses(7) && node.GetAttribute("is_test") is not null)
        {
            actions.Add(() => node.RemoveAttribute("is_test"));
        }
        if (u.Crosses(12) && node.GetAttribute("ratio") is { } ratio)
        {
            actions.Add(() =>
            {
                node.RemoveAttribute("ratio");
                var r = ratio.AsFloat();
                if (r != 0.5f)
                {
                    Upgrader.SetInputAt(node, 1, u.Constant(node, Tensor.Scalar(r)));
                }
            });
        }
        var mask = node.Outputs.Count > 1 ? node.Outputs[1] : null;
        if (u.Crosses(10) && mask is not null)
        {
            var x = node.Input(0)!;
            if (Upgrader.IsUsed(mask))
            {
                var type = x.ElementType;
                if (type == ElementType.Undefined && u.To < 15)
                {
                    return UpgradePlan.Refuse("the mask output is used and the data's element type is unknown");
                }
                actions.Add(() =>
                {
                    // The mask keeps its old element type through a Cast of the new bool mask.
                    var replacement = u.EmitNode(node, "Dropout", node.Inputs.ToArray(), 2, node.Attributes.ToArray());
                    var boolMask = replacement.Outputs[1]!;
                    var cast = type == ElementType.Undefined
                        ? u.Emit(node, "CastLike", [boolMask, x])
                        : u.Emit(node, "Cast", [boolMask], Attribute.Int("to", (long)type));
                    u.Replace(node, replacement.Outputs[0], cast);
                });
            }
            else
            {
                actions.Add(() => mask.Type = mask.Shape is { } s ? new TensorType(ElementType.Bool, s) : null);
            }
        }
        return actions.Count == 0 ? UpgradePlan.None : UpgradePlan.Do(() => actions.ForEach(a => a()));
    }

    /// <summary>
    /// Upsample-1 (height_scale, width_scale, mode nearest|bilinear), Upsample-7 (scales attribute) and
    /// Upsample-9 (scales input) become Resize with the opset-10 semantics (see <see cref="Resize10"/>).
    /// </summary>
    private static UpgradePlan Upsample(Node node, Upgrader u)
    {
        var mode = node.GetString("mode", "nearest");
        if (mode == "bilinear")
        {
            mode = "linear";
        }
        if (mode is not ("nearest" or "linear"))
        {
            return UpgradePlan.Refuse($"mode '{mode}' has no Resize equivalent");
        }
        float[]? scales = null;
        if (u.From < 7)
        {
            scales = [1f, 1f, node.GetFloat("height_scale", 1f), node.GetFloat("width_scale", 1f)];
        }
        else if (u.From < 9)
        {
            if (node.GetAttribute("scales") is not { Kind: AttributeKind.Floats } s)
            {
                return UpgradePlan.Refuse("Upsample-7 needs the scales attribute");
            }
            scales = s.AsFloats().ToArray();
        }
        else if (node.Input(1) is null)
        {
            return UpgradePlan.Refuse("Upsample-9 needs the scales input");
        }
        var known = scales ?? ConstantFloats(node.Input(1));
        if (NearestMode(mode, known) is not { } nearest)
        {
            return UpgradePlan.Refuse("scales both enlarge and shrink, which Resize's nearest_mode cannot express as Upsample did");
        }
        return UpgradePlan.Do(() =>
        {
            var scalesValue = scales is null ? node.Input(1)! : u.Floats(node, scales);
            node.RemoveAttribute("mode");
            node.RemoveAttribute("scales");
            node.RemoveAttribute("height_scale");
            node.RemoveAttribute("width_scale");
            node.OpType = "Resize";
            Upgrader.SetInputAt(node, 2, scalesValue);
            node.SetInput(1, null);
            SetResizeAttributes(node, mode, nearest);
        });
    }

    /// <summary>
    /// Resize-10 (inputs X, scales) sampled at x_resized / scale ("asymmetric"); ONNX Runtime picks the
    /// nearest pixel by flooring when enlarging and by ceiling when shrinking. Resize-11 added roi
    /// (optional from Resize-13) and coordinate_transformation_mode, whose default changed to half_pixel.
    /// </summary>
    private static UpgradePlan Resize10(Node node, Upgrader u)
    {
        var mode = node.GetString("mode", "nearest");
        if (mode is not ("nearest" or "linear"))
        {
            return UpgradePlan.Refuse($"mode '{mode}' is not a Resize-10 mode");
        }
        if (node.Input(1) is not { } scales)
        {
            return UpgradePlan.Refuse("Resize-10 needs the scales input");
        }
        if (NearestMode(mode, ConstantFloats(scales)) is not { } nearest)
        {
            return UpgradePlan.Refuse("scales both enlarge and shrink, which Resize's nearest_mode cannot express as Resize-10 did");
        }
        return UpgradePlan.Do(() =>
        {
            Upgrader.SetInputAt(node, 2, scales);
            node.SetInput(1, null);
            SetResizeAttributes(node, mode, nearest);
        });
    }

    private static void SetResizeAttributes(Node node, string mode, string nearest)
    {
        node.SetAttribute(Attribute.String("mode", mode));
        node.SetAttribute(Attribute.String("coordinate_transformation_mode", "asymmetric"));
        if (mode == "nearest")
        {
            node.SetAttribute(Attribute.String("nearest_mode", nearest));
        }
    }

    /// <summary>floor when every scale is at least 1 (or scales are only known at run time), ceil when all shrink, null when mixed.</summary>
    private static string? NearestMode(string mode, float[]? scales)
    {
        if (mode != "nearest" || scales is null || scales.All(s => s >= 1))
        {
            return "floor";
        }
        return scales.All(s => s <= 1) ? "ceil" : null;
    }

    private static float[]? ConstantFloats(Value? value)
    {
        var tensor = value?.Initializer
            ?? (value?.Producer is { OpType: "Constant" } c ? c.GetAttribute("value")?.Payload as Tensor : null);
        return tensor is { ElementType: ElementType.Float } ? tensor.ToArray<float>() : null;
    }

    /// <summary>
    /// Softmax, LogSoftmax and Hardmax before version 13 coerced the input to 2-D at 'axis' (default 1)
    /// and normalized over all trailing dims; from 13 they work along one axis (default -1). When the
    /// axis is the last one nothing changes; otherwise Flatten(axis) → op(axis=1) → Reshape(Shape(x)).
    /// </summary>
    private static UpgradePlan Softmax(Node node, Upgrader u)
    {
        var axis = node.GetInt("axis", 1);
        var x = node.Input(0)!;
        if (x.Shape?.Rank is { } rank && (axis < 0 ? axis + rank : axis) == rank - 1)
        {
            return UpgradePlan.Do(() => node.SetAttribute(Attribute.Int("axis", -1)));
        }
        return UpgradePlan.Do(() =>
        {
            var flat = u.Emit(node, "Flatten", [x], Attribute.Int("axis", axis));
            var normalized = u.Emit(node, node.OpType, [flat], Attribute.Int("axis", 1));
            var y = u.Emit(node, "Reshape", [normalized, u.Emit(node, "Shape", [x])]);
            u.Replace(node, y);
        });
    }

    /// <summary>
    /// BatchNormalization-7 removed is_test; -9 removed spatial (always per channel from then on);
    /// -14 added training_mode and dropped the saved_mean/saved_var outputs: an old node with more than
    /// one output ran in training mode. A non-spatial node (spatial=0, statistics per activation) is
    /// written out elementwise.
    /// </summary>
    private static UpgradePlan BatchNormalization(Node node, Upgrader u)
    {
        var actions = new List<Action>();
        if (u.Crosses(7) && node.GetAttribute("is_test") is not null)
        {
            actions.Add(() => node.RemoveAttribute("is_test"));
        }
        var presentOutputs = node.Outputs.Count(o => o is not null);
        if (u.Crosses(9) && node.GetAttribute("spatial") is { } spatial)
        {
            if (spatial.AsInt() == 0)
            {
                if (presentOutputs > 1)
                {
                    return UpgradePlan.Refuse("non-spatial batch normalization in training mode has no BatchNormalization-9 form");
                }
                var x = node.Input(0)!;
                if (!u.CanMakeScalarLike(x))
                {
                    return UpgradePlan.Refuse("the input's element type is unknown, so epsilon cannot be typed");
                }
                return UpgradePlan.Do(() =>
                {
                    var epsilon = u.ScalarLike(node, node.GetFloat("epsilon", 1e-5f), x);
                    var centered = u.Emit(node, "Sub", [x, node.Input(3)]);
                    var deviation = u.Emit(node, "Sqrt", [u.Emit(node, "Add", [node.Input(4), epsilon])]);
                    var scaled = u.Emit(node, "Mul", [u.Emit(node, "Div", [centered, deviation]), node.Input(1)]);
                    u.Replace(node, u.Emit(node, "Add", [scaled, node.Input(2)]));
                });
            }
            actions.Add(() => node.RemoveAttribute("spatial"));
        }
        if (u.Crosses(14) && presentOutputs > 1)
        {
            if (node.Outputs.Skip(3).Any(Upgrader.IsUsed))
            {
                return UpgradePlan.Refuse("the saved_mean/saved_var outputs were removed at BatchNormalization-14");
            }
            actions.Add(() =>
            {
                var attributes = node.Attributes.Where(a => a.Name is not ("is_test" or "spatial" or "consumed_inputs"))
                    .Append(Attribute.Int("training_mode", 1)).ToArray();
                var replacement = u.EmitNode(node, "BatchNormalization", node.Inputs.ToArray(), 3, attributes);
                // Outputs 3 and 4 (saved_mean, saved_var) are unused here and go away with the old node.
                u.Replace(node, replacement.Outputs.ToArray());
            });
        }
        return actions.Count == 0 ? UpgradePlan.None : UpgradePlan.Do(() => actions.ForEach(a => a()));
    }

    private static UpgradePlan Cast(Node node)
    {
        if (node.GetAttribute("to") is not { Kind: AttributeKind.String } to)
        {
            return UpgradePlan.None;
        }
        var name = to.AsString();
        if (!ElementTypes.TryParse(name, out var type) || type == ElementType.Undefined)
        {
            return UpgradePlan.Refuse($"unknown type name '{name}'");
        }
        return UpgradePlan.Do(() => node.SetAttribute(Attribute.Int("to", (long)type)));
    }

    private static UpgradePlan LpPoolP(Node node)
    {
        if (node.GetAttribute("p") is not { Kind: AttributeKind.Float } p)
        {
            return UpgradePlan.None;
        }
        var value = p.AsFloat();
        if (value != MathF.Round(value))
        {
            return UpgradePlan.Refuse($"p = {value} is not an integer (LpPool-2 takes an int)");
        }
        return UpgradePlan.Do(() => node.SetAttribute(Attribute.Int("p", (long)value)));
    }

    private static UpgradePlan MeanVarianceNormalization(Node node)
    {
        if (node.GetInt("normalize_variance", 1) == 0)
        {
            return UpgradePlan.Refuse("normalize_variance=0 has no MeanVarianceNormalization-9 form");
        }
        var across = node.GetInt("across_channels", 0) != 0;
        return UpgradePlan.Do(() =>
        {
            node.RemoveAttribute("normalize_variance");
            node.RemoveAttribute("across_channels");
            // MeanVarianceNormalization-9 defaults to axes [0, 2, 3] (per channel).
            if (across)
            {
                node.SetAttribute(Attribute.Ints("axes", AllImageAxes));
            }
        });
    }

    private static UpgradePlan GridSample(Node node)
    {
        var mode = node.GetString("mode", "bilinear");
        var renamed = mode switch
        {
            "bilinear" => "linear",
            "bicubic" => "cubic",
            _ => mode,
        };
        // The default changed name too (bilinear → linear), so the mode is always written.
        return UpgradePlan.Do(() => node.SetAttribute(Attribute.String("mode", renamed)));
    }

    /// <summary>Experimental ops of opset 1 (removed at opset 10) written with standard ones.</summary>
    private static UpgradePlan Experimental(Node node, Upgrader u)
    {
        var x = node.Input(0)!;
        if (!u.CanMakeScalarLike(x))
        {
            return UpgradePlan.Refuse("the input's element type is unknown, so constants cannot be typed");
        }
        var alpha = node.GetFloat("alpha", 1f);
        var beta = node.GetFloat("beta", node.OpType == "Affine" ? 0f : 1f);
        return node.OpType switch
        {
            // ImageScaler: y = scale * x + bias[c], bias per channel of an NCHW image.
            "ImageScaler" => UpgradePlan.Do(() =>
            {
                var bias = node.GetAttribute("bias")?.AsFloats() ?? [];
                var rank = x.Shape?.Rank ?? 4;
                var y = u.Emit(node, "Mul", [x, u.ScalarLike(node, node.GetFloat("scale", 1f), x)]);
                if (bias.Count > 0)
                {
                    var dims = Enumerable.Repeat(1L, rank).ToArray();
                    dims[1] = bias.Count;
                    var b = u.Constant(node, Tensor.FromArray(bias.ToArray(), dims));
                    y = u.Emit(node, "Add", [y, x.ElementType == ElementType.Float ? b : u.Emit(node, "CastLike", [b, x])]);
                }
                u.Replace(node, y);
            }),
            // Affine: y = alpha * x + beta.
            "Affine" => UpgradePlan.Do(() => u.Replace(node, u.Emit(node, "Add",
                [u.Emit(node, "Mul", [x, u.ScalarLike(node, alpha, x)]), u.ScalarLike(node, beta, x)]))),
            // ScaledTanh: y = alpha * tanh(beta * x).
            "ScaledTanh" => UpgradePlan.Do(() => u.Replace(node, u.Emit(node, "Mul",
                [u.Emit(node, "Tanh", [u.Emit(node, "Mul", [x, u.ScalarLike(node, beta, x)])]), u.ScalarLike(node, alpha, x)]))),
            // ParametricSoftplus: y = alpha * ln(exp(beta * x) + 1).
            "ParametricSoftplus" => UpgradePlan.Do(() => u.Replace(node, u.Emit(node, "Mul",
                [u.Emit(node, "Softplus", [u.Emit(node, "Mul", [x, u.ScalarLike(node, beta, x)])]), u.ScalarLike(node, alpha, x)]))),
            // Scale: y = scale * x.
            _ => UpgradePlan.Do(() => u.Replace(node, u.Emit(node, "Mul", [x, u.ScalarLike(node, node.GetFloat("scale", 1f), x)]))),
        };
    }
}
