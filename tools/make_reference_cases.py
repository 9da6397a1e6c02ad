#!/usr/bin/python3
"""Generate the project's own reference cases for the penalty objective (tests/ReferenceCases/).

Usage (Debian's own python, which has python3-torch 1.13 and python3-onnx installed):

    /usr/bin/python3 tools/make_reference_cases.py [--out tests/ReferenceCases] [--only NAME[,NAME...]]

Each case is a folder in exactly the format of ../shared/oracle/<case>/ (design.md §4):

    model.onnx     torch.onnx.export (legacy TorchScript exporter, opset 17, dynamic batch axis
                   "batch", do_constant_folding=False so parameters stay initializers named as in
                   the PyTorch state dict)
    data.npz       one float32/int64 array per model input, named as the input, plus "target"
    case.json      loss, coefficient, microbatches, trainable, batch, inputs, output, ops, producer,
                   opset, batchnorm_training_mode, tolerance, error, note (same fields as the oracle)
    expected.npz   loss, penalty, objective (float64 scalars), grad/<param> and
                   objective_grad/<param> (float32, as in the oracle), in that order

References are computed in float64 from the exported float32 parameters (design.md §1):

    C   = mean loss over the batch
    C_j = mean loss over microbatch j (n consecutive equal slices along axis 0), g_j = dC_j/dθ
    R   = (1/n) Σ_j ||g_j||²            (torch.autograd.grad(create_graph=True): double backprop)
    objective = C + c·R,   objective_grad = d(C + c·R)/dθ

BatchNormalization in training mode uses the statistics of the slice it runs on: C is evaluated on
the whole batch, C_j on microbatch j alone. Losses use PyTorch's mean reduction over all elements
(F.cross_entropy, F.mse_loss, F.binary_cross_entropy_with_logits, F.l1_loss, F.nll_loss), which is
what the oracle's mlp_softplus_mse and mlp_relu_microbatches use (checked to 1e-7 when this script
was written). Running the script twice produces the same model.onnx and case.json bytes and the same arrays
(only the zip timestamps inside the .npz files differ).
"""
import argparse
import copy
import io
import json
import os
import shutil
import sys

import numpy as np
import onnx
from onnx import numpy_helper
import torch
import torch.nn as nn
import torch.nn.functional as F

OPSET = 17

# Same tolerances and error formula as every case in ../shared/oracle.
TOLERANCE = {"loss": 1e-4, "penalty": 1e-3, "grad": 1e-3, "objective_grad": 3e-3}
ERROR = ("per tensor: max|got - expected| / (max|expected| + 0.001 * largest max|expected| over all "
         "tensors of that kind); scalars: |got - expected| / max(|expected|, 1e-6)")

LOSSES = {
    "cross-entropy": lambda out, t: F.cross_entropy(out, t),
    "mse": lambda out, t: F.mse_loss(out, t),
    "bce-with-logits": lambda out, t: F.binary_cross_entropy_with_logits(out, t),
    "l1": lambda out, t: F.l1_loss(out, t),
    "nll": lambda out, t: F.nll_loss(out, t),
}


def randomize_norms(model, seed):
    """Non-trivial affine parameters for normalization layers (their defaults are ones and zeros)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d, nn.LayerNorm, nn.InstanceNorm1d, nn.InstanceNorm2d)):
                if getattr(m, "weight", None) is not None:
                    m.weight.copy_(1 + 0.3 * torch.randn(m.weight.shape, generator=g))
                    m.bias.copy_(0.2 * torch.randn(m.bias.shape, generator=g))


# ----------------------------------------------------------------------------- models

class _SoftsignOp(torch.autograd.Function):
    """x / (1 + |x|), exported as one ONNX Softsign node: F.softsign is written in Python as
    that formula, so the exporter would otherwise emit Abs, Add and Div."""

    @staticmethod
    def forward(ctx, x):
        return x / (1 + x.abs())

    @staticmethod
    def symbolic(g, x):
        return g.op("Softsign", x)


def softsign(x):
    # Only the export goes through the Function; the float64 reference differentiates F.softsign.
    return _SoftsignOp.apply(x) if torch.onnx.is_in_onnx_export() else F.softsign(x)


class Conv1dDilatedGroups(nn.Module):
    """Conv1d with stride, dilation and groups; ELU; 1x1 Conv1d; MaxPool1d(ceil_mode); LeakyReLU."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv1d(4, 8, kernel_size=3, stride=2, padding=2, dilation=2, groups=2)
        self.conv2 = nn.Conv1d(8, 6, kernel_size=1)
        self.pool = nn.MaxPool1d(kernel_size=3, stride=2, ceil_mode=True)
        self.fc = nn.Linear(6 * 4, 5)

    def forward(self, x):                                   # [N, 4, 15]
        h = F.elu(self.conv1(x), alpha=0.7)                 # [N, 8, 8]
        h = F.leaky_relu(self.conv2(h), 0.1)                # [N, 6, 8]
        h = self.pool(h)                                    # [N, 6, 4] (ceil: last window is partial)
        return self.fc(torch.flatten(h, 1))


class ConvTransposeSoftsign(nn.Module):
    """ConvTranspose2d with stride, padding and output_padding; Softsign; Conv2d; per-pixel regression."""

    def __init__(self):
        super().__init__()
        self.up = nn.ConvTranspose2d(3, 4, kernel_size=3, stride=2, padding=1, output_padding=1)
        self.conv = nn.Conv2d(4, 2, kernel_size=3, padding=1)

    def forward(self, x):                                   # [N, 3, 4, 4]
        return self.conv(softsign(self.up(x)))            # [N, 2, 8, 8]


class SegmentHardSwish(nn.Module):
    """Per-position classification: logits [N, C, d] for cross-entropy with targets [N, d]."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv1d(3, 8, kernel_size=3, padding=1)
        self.conv2 = nn.Conv1d(8, 5, kernel_size=3, padding=1)

    def forward(self, x):                                   # [N, 3, 7]
        return self.conv2(F.hardswish(self.conv1(x)))       # [N, 5, 7]


class ShapeOpsLayerNorm(nn.Module):
    """Two inputs; Concat, Reshape, Transpose, Split, Slice, LayerNorm; multi-label logits."""

    def __init__(self):
        super().__init__()
        self.fc_in = nn.Linear(10, 12)
        self.ln = nn.LayerNorm(6)
        self.head = nn.Linear(12, 4)

    def forward(self, x, context):                          # [N, 6], [N, 4]
        h = torch.tanh(self.fc_in(torch.cat([x, context], dim=1)))   # [N, 12]
        h = h.reshape(-1, 2, 6).transpose(1, 2)             # [N, 6, 2]
        a, b = torch.split(h, [2, 4], dim=1)                # [N, 2, 2], [N, 4, 2]
        h = torch.cat([b[:, 1:, :], a, b[:, :1, :]], dim=1)  # Slice + Concat: a rotation of axis 1
        h = self.ln(h.transpose(1, 2))                      # [N, 2, 6], normalized over the last axis
        return self.head(h.reshape(-1, 12))


class InstanceNormReduceMean(nn.Module):
    """Conv2d, InstanceNorm2d(affine), LeakyReLU, ReduceMean over space; regression with l1."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 4, kernel_size=3)
        self.norm = nn.InstanceNorm2d(4, affine=True)
        self.fc = nn.Linear(4, 3)

    def forward(self, x):                                   # [N, 2, 6, 6]
        h = F.leaky_relu(self.norm(self.conv(x)), 0.2)      # [N, 4, 4, 4]
        return self.fc(h.mean(dim=(2, 3)))


class BatchNormTrainReduceMax(nn.Module):
    """Conv2d, BatchNorm2d in training mode (batch statistics), ReLU, ReduceMax over space."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 6, kernel_size=3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(6)
        self.fc = nn.Linear(6, 4)

    def forward(self, x):                                   # [N, 1, 5, 5]
        h = F.relu(self.bn(self.conv(x)))
        return self.fc(torch.amax(h, dim=(2, 3)))


class LogSoftmaxNll(nn.Module):
    """MLP ending in LogSoftmax: the model outputs log-probabilities for the nll loss."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(6, 10)
        self.fc2 = nn.Linear(10, 4)

    def forward(self, x):                                   # [N, 6]
        return F.log_softmax(self.fc2(F.hardtanh(self.fc1(x), -1.0, 1.0) + torch.sigmoid(self.fc1(x))), dim=1)


# ----------------------------------------------------------------------------- cases

def classes(g, shape, k):
    return torch.randint(0, k, shape, generator=g)


def normal(g, *shape):
    return torch.randn(*shape, generator=g)


def case_specs():
    """(name, model class, loss, coefficient, microbatches, make_data(g) -> (inputs dict, target), note)."""
    return [
        ("conv1d_dilated_groups", Conv1dDilatedGroups, "cross-entropy", 0.05, 2,
         lambda g: ({"input": normal(g, 8, 4, 15)}, classes(g, (8,), 5)),
         "Conv1d stride 2 / dilation 2 / groups 2, Elu, LeakyRelu, MaxPool1d ceil_mode with a partial window"),
        ("convtranspose_softsign_mse", ConvTransposeSoftsign, "mse", 0.1, 3,
         lambda g: ({"input": normal(g, 6, 3, 4, 4)}, 0.5 * normal(g, 6, 2, 8, 8)),
         "ConvTranspose2d stride 2 / padding 1 / output_padding 1, Softsign, Conv2d; mse over [N,2,8,8]"),
        ("segment_cross_entropy_nd", SegmentHardSwish, "cross-entropy", 0.2, 4,
         lambda g: ({"input": normal(g, 8, 3, 7)}, classes(g, (8, 7), 5)),
         "cross-entropy on [N,C,d] logits with [N,d] targets (mean over N*d), HardSwish, n = 4"),
        ("shape_ops_layernorm_bce", ShapeOpsLayerNorm, "bce-with-logits", 0.1, 2,
         lambda g: ({"input": normal(g, 10, 6), "context": normal(g, 10, 4)},
                    (torch.rand(10, 4, generator=g) < 0.5).float()),
         "two model inputs; Concat, Reshape, Transpose, Split, Slice, LayerNormalization; bce-with-logits"),
        ("instancenorm_l1", InstanceNormReduceMean, "l1", 0.05, 1,
         lambda g: ({"input": normal(g, 6, 2, 6, 6)}, normal(g, 6, 3)),
         "InstanceNormalization (affine), LeakyRelu, ReduceMean over space; l1 loss, full batch (n = 1)"),
        ("batchnorm_training_microbatches", BatchNormTrainReduceMax, "cross-entropy", 0.1, 2,
         lambda g: ({"input": normal(g, 8, 1, 5, 5)}, classes(g, (8,), 4)),
         "BatchNormalization in training mode: batch statistics, gradients flow through them; "
         "C uses the whole batch's statistics, C_j those of microbatch j; ReduceMax head"),
        ("logsoftmax_nll", LogSoftmaxNll, "nll", 0.3, 3,
         lambda g: ({"input": normal(g, 12, 6)}, classes(g, (12,), 4)),
         "model outputs LogSoftmax log-probabilities; nll loss; HardTanh (Clip), Sigmoid, fan-out of fc1"),
    ]


def export(model, example, input_names, output_name, training):
    buf = io.BytesIO()
    mode = torch.onnx.TrainingMode.TRAINING if training else torch.onnx.TrainingMode.EVAL
    dynamic_axes = {name: {0: "batch"} for name in input_names + [output_name]}
    torch.onnx.export(model, tuple(example), buf, input_names=input_names, output_names=[output_name],
                      dynamic_axes=dynamic_axes, opset_version=OPSET, do_constant_folding=False,
                      training=mode)
    return onnx.load_from_string(buf.getvalue()), buf.getvalue()


def references(model, inputs, target, loss_name, c, n, params):
    """loss, penalty, objective and the two gradients, by float64 double backprop (design.md §1)."""
    loss_fn = LOSSES[loss_name]
    names = list(params)
    weights = [params[k] for k in names]
    batch = target.shape[0]
    assert batch % n == 0, "batch must split into equal microbatches"
    size = batch // n

    full = loss_fn(model(*inputs), target)
    grad = torch.autograd.grad(full, weights, retain_graph=True)
    penalty = 0.0
    for j in range(n):
        part = slice(j * size, (j + 1) * size)
        loss_j = loss_fn(model(*[x[part] for x in inputs]), target[part])
        g_j = torch.autograd.grad(loss_j, weights, create_graph=True)
        penalty = penalty + sum((g * g).sum() for g in g_j)
    penalty = penalty / n
    objective = full + c * penalty
    objective_grad = torch.autograd.grad(objective, weights)

    out = {
        "loss": np.array(full.item(), dtype=np.float64),
        "penalty": np.array(penalty.item(), dtype=np.float64),
        "objective": np.array(objective.item(), dtype=np.float64),
    }
    for k, g, og in zip(names, grad, objective_grad):
        out["grad/" + k] = g.detach().numpy().astype(np.float32)
        out["objective_grad/" + k] = og.detach().numpy().astype(np.float32)
    return out


def make_case(out_root, name, cls, loss_name, c, n, make_data, note, seed):
    torch.manual_seed(seed)
    model = cls()
    randomize_norms(model, seed + 1)
    g = torch.Generator().manual_seed(seed + 2)
    inputs, target = make_data(g)
    input_names = list(inputs)
    training = any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())
    output_name = "log_probs" if loss_name == "nll" else "logits"

    # The reference copy is taken before export: tracing a training-mode BatchNorm updates its
    # running statistics (which training mode does not read, but the copy stays pristine).
    reference = copy.deepcopy(model).double()
    model.train(training)
    reference.train(training)
    proto, model_bytes = export(model, [inputs[k] for k in input_names], input_names, output_name, training)
    onnx.checker.check_model(proto)

    # Every trainable parameter must be an initializer named as in the state dict, holding exactly
    # the float32 values the float64 reference starts from.
    inits = {i.name: numpy_helper.to_array(i) for i in proto.graph.initializer}
    trainable = [k for k, p in reference.named_parameters() if p.requires_grad]
    for k in trainable:
        if k not in inits:
            sys.exit(f"{name}: parameter {k} is not an initializer of the export (got {sorted(inits)})")
        if not np.array_equal(inits[k].astype(np.float64), dict(reference.named_parameters())[k].detach().numpy()):
            sys.exit(f"{name}: initializer {k} differs from the parameter")
    graph_inputs = [i.name for i in proto.graph.input]
    if graph_inputs != input_names:
        sys.exit(f"{name}: export inputs {graph_inputs} != {input_names}")

    params = dict(reference.named_parameters())
    x64 = [inputs[k].double() for k in input_names]
    t = target.double() if target.is_floating_point() else target
    expected = references(reference, x64, t, loss_name, c, n, params)

    bn_training = any(
        node.op_type == "BatchNormalization"
        and any(a.name == "training_mode" and a.i == 1 for a in node.attribute)
        for node in proto.graph.node)
    info = {
        "loss": loss_name,
        "coefficient": c,
        "microbatches": n,
        "trainable": trainable,
        "batch": int(target.shape[0]),
        "inputs": input_names,
        "output": output_name,
        "ops": sorted({node.op_type for node in proto.graph.node}),
        "producer": f"{proto.producer_name} {proto.producer_version}",
        "opset": OPSET,
        "batchnorm_training_mode": bn_training,
        "tolerance": TOLERANCE,
        "error": ERROR,
        "note": note,
    }

    folder = os.path.join(out_root, name)
    if os.path.isdir(folder):
        shutil.rmtree(folder)
    os.makedirs(folder)
    with open(os.path.join(folder, "model.onnx"), "wb") as f:
        f.write(model_bytes)
    data = {k: inputs[k].numpy().astype(np.float32) for k in input_names}
    data["target"] = target.numpy().astype(np.int64 if not target.is_floating_point() else np.float32)
    np.savez(os.path.join(folder, "data.npz"), **data)
    np.savez(os.path.join(folder, "expected.npz"), **expected)
    with open(os.path.join(folder, "case.json"), "w") as f:
        json.dump(info, f, indent=2)
        f.write("\n")
    size = sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder))
    assert size < 200_000, f"{name} is {size} bytes"
    print(f"{name:34s} {loss_name:16s} n={n} c={c:<5} {size / 1024:6.1f} KB  "
          f"loss={float(expected['loss']):.5f} penalty={float(expected['penalty']):.5f}  ops={','.join(info['ops'])}")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(here, "..", "tests", "ReferenceCases"))
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    torch.set_num_threads(1)
    only = set(filter(None, args.only.split(",")))
    specs = case_specs()
    unknown = only - {s[0] for s in specs}
    if unknown:
        sys.exit(f"unknown case(s): {', '.join(sorted(unknown))}")
    os.makedirs(args.out, exist_ok=True)
    for seed, spec in enumerate(specs):
        if not only or spec[0] in only:
            make_case(args.out, *spec, seed=1000 + 10 * seed)


if __name__ == "__main__":
    main()
