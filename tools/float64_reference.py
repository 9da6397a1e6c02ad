#!/usr/bin/python3
"""Float64 reference for the gradient of a CNN inference model (PyTorch autograd), to tell a wrong
gradient from float32 noise when `implicitreg gradcheck` fails narrowly on a large model.

Usage (Debian's own python, which has python3-torch and python3-onnx installed):

    /usr/bin/python3 tools/float64_reference.py MODEL.onnx --batch BATCH.npz [--make-batch] [--seed S]
        [--toolkit-grads RESULT.npz] [--cut NODE] [--write-cut CUT.onnx] [--directions K] [--levels L] [--path H,M]

The model is interpreted node by node with torch.nn.functional in float64 (and again in float32):
Conv (asymmetric pads), BatchNormalization in inference mode, Relu, Add, Sum, MaxPool (asymmetric
pads, ceil_mode), AveragePool, GlobalAveragePool, Flatten, Gemm. The loss is the toolkit's mse, the
mean of (y − target)² over every element of the first output (or of node NODE's first output with
--cut). The trainable parameters are the toolkit's: every float initializer except BatchNormalization's
running mean and variance.

--make-batch writes BATCH.npz (the first graph input ~ N(0, 1) of its declared shape, "target" ~
U(−1, 1) of the output's shape) before anything else, for `implicitreg grad MODEL --data BATCH.npz
--loss mse --penalty none --out RESULT.npz`. --write-cut writes the model cut after node NODE (its
first output is the only graph output) for `implicitreg gradcheck`.

Prints, for each parameter tensor, ||g_toolkit − g64|| / ||g64||, and along K random directions v
(normal entries scaled by each tensor's RMS, as the toolkit's check does): ⟨g64, v⟩, ⟨g_toolkit, v⟩,
and the central differences (f(θ + h·v) − f(θ − h·v)) / 2h of the float64 and the float32 evaluation
for h = h₀ / 2^k, h₀ = ∛(2⁻²⁴), k = 0 ... 9 (the toolkit's steps), with their relative errors against
⟨g64, v⟩: the float64 column shows whether f is smooth enough at h (kinks of ReLU and MaxPool), the
float32 column how much float32 rounding alone spoils a central difference. --path H,M also compares
f(θ + H·v) − f(θ − H·v) with the trapezoid rule of ⟨∇f, dp⟩ over 2M + 1 equally spaced points (autograd at
each), in float64 and float32: exact for a continuous, piecewise smooth f but for the trapezoid rule's error.

Example (CNTK ResNet-18 of tools/fetch-third-party-models.sh, about 2 minutes on two cores):

    /usr/bin/python3 tools/float64_reference.py .cache/third-party/models/cntk-resnet18.onnx --batch /tmp/b.npz --make-batch --directions 0
    implicitreg grad .cache/third-party/models/cntk-resnet18.onnx --data /tmp/b.npz --loss mse --penalty none --out /tmp/g.npz
    /usr/bin/python3 tools/float64_reference.py .cache/third-party/models/cntk-resnet18.onnx --batch /tmp/b.npz --toolkit-grads /tmp/g.npz
"""
import argparse
import sys

import numpy as np
import onnx
from onnx import numpy_helper
import torch
import torch.nn.functional as F


def attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def pad_2d(x, pads, value):
    # ONNX pads [h_begin, w_begin, h_end, w_end]; F.pad wants (w_begin, w_end, h_begin, h_end).
    if not pads or not any(pads):
        return x
    return F.pad(x, (pads[1], pads[3], pads[0], pads[2]), value=value)


def run(model, feeds, params, cut=None):
    """Evaluates the graph on feeds (name -> tensor) and params (name -> tensor); returns the cut or first output."""
    g = model.graph
    env = dict(feeds)
    env.update(params)
    for index, node in enumerate(g.node):
        a = attrs(node)
        x = [env[i] if i else None for i in node.input]
        op = node.op_type
        if op == "Conv":
            if a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
                raise SystemExit(f"node {index}: auto_pad is not supported here")
            y = F.conv2d(pad_2d(x[0], a.get("pads"), 0.0), x[1], x[2] if len(x) > 2 else None,
                         stride=a.get("strides", [1, 1]), dilation=a.get("dilations", [1, 1]), groups=a.get("group", 1))
        elif op == "BatchNormalization":
            if a.get("spatial", 1) != 1:
                raise SystemExit(f"node {index}: spatial=0 is not supported here")
            y = F.batch_norm(x[0], x[3], x[4], x[1], x[2], training=False, eps=a.get("epsilon", 1e-5))
        elif op == "Relu":
            y = F.relu(x[0])
        elif op in ("Add", "Sum"):
            y = x[0]
            for other in x[1:]:
                y = y + other
        elif op == "MaxPool":
            y = F.max_pool2d(pad_2d(x[0], a.get("pads"), float("-inf")), a["kernel_shape"], stride=a.get("strides", [1, 1]),
                             dilation=a.get("dilations", [1, 1]), ceil_mode=bool(a.get("ceil_mode", 0)))
        elif op == "AveragePool":
            if any(a.get("pads", [0])) or a.get("ceil_mode", 0):
                raise SystemExit(f"node {index}: AveragePool with pads or ceil_mode is not supported here")
            y = F.avg_pool2d(x[0], a["kernel_shape"], stride=a.get("strides", a["kernel_shape"]))
        elif op == "GlobalAveragePool":
            y = x[0].mean(dim=tuple(range(2, x[0].dim())), keepdim=True)
        elif op == "Flatten":
            axis = a.get("axis", 1)
            y = x[0].reshape(int(np.prod(x[0].shape[:axis])), -1)
        elif op == "Gemm":
            A = x[0].t() if a.get("transA", 0) else x[0]
            B = x[1].t() if a.get("transB", 0) else x[1]
            y = a.get("alpha", 1.0) * A @ B
            if len(x) > 2 and x[2] is not None:
                y = y + a.get("beta", 1.0) * x[2]
        else:
            raise SystemExit(f"node {index}: op {op} is not supported here")
        env[node.output[0]] = y
        if cut is not None and index == cut:
            return y
    return env[g.output[0].name]


def trainable(model, cut=None):
    """Float initializers that the nodes up to the cut use, except BatchNormalization's running statistics."""
    nodes = model.graph.node[: cut + 1] if cut is not None else model.graph.node
    running, used = set(), set()
    for node in nodes:
        used.update(node.input)
        if node.op_type == "BatchNormalization":
            running.update(node.input[3:5])
    return [i.name for i in model.graph.initializer
            if i.name in used and i.name not in running and i.data_type == onnx.TensorProto.FLOAT]


def path_check(spec, names, inits, v, f64, f32, toolkit):
    """f(p_M) − f(p_−M) against Σ_j ⟨(∇f(p_j) + ∇f(p_j+1))/2, p_j+1 − p_j⟩ along the points p_j = θ + j·(H/M)·v.

    Exact for any continuous, piecewise smooth f up to the trapezoid rule's error, which a kink inside a
    segment of length δ = H/M bounds by its slope jump times δ/2: unlike a central difference, whose
    kink error grows with the step that float32 noise forces to be large, here only δ has to be small.
    """
    H, M = spec.split(",")
    H, M = float(H), int(M)
    for label, f, dtype in (("float64", f64, torch.float64), ("float32", f32, torch.float32)):
        points, values, grads = [], [], []
        for j in range(-M, M + 1):
            p = {k: inits[k].astype(np.float64) + j * (H / M) * v[k] for k in names}
            if dtype == torch.float32:
                p = {k: u.astype(np.float32).astype(np.float64) for k, u in p.items()}
            t = {k: torch.from_numpy(u).to(dtype).requires_grad_() for k, u in p.items()}
            value = f(t)
            g = torch.autograd.grad(value, [t[k] for k in names])
            points.append(p)
            values.append(value.item())
            grads.append({k: gr.detach().to(torch.float64).numpy() for k, gr in zip(names, g)})
        integral = 0.0
        for j in range(2 * M):
            for k in names:
                step = points[j + 1][k] - points[j][k]
                integral += 0.5 * np.sum((grads[j][k] + grads[j + 1][k]) * step)
        difference = values[-1] - values[0]
        print(f"   path H={H:.3e} M={M} {label}: f(end) − f(start) {difference:.9e}  trapezoid of <∇f, dp> {integral:.9e}  "
              f"rel.err {abs(difference - integral) / max(abs(difference), abs(integral)):.2e}")
        sys.stdout.flush()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("model")
    p.add_argument("--batch", required=True)
    p.add_argument("--make-batch", action="store_true")
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--toolkit-grads")
    p.add_argument("--cut", type=int)
    p.add_argument("--write-cut")
    p.add_argument("--directions", type=int, default=3)
    p.add_argument("--levels", type=int, default=10)
    p.add_argument("--path", help="H,M: also compare f(θ + H·v) − f(θ − H·v) with the trapezoid rule of the directional "
                   "derivative at 2M + 1 equally spaced points (the fundamental theorem of calculus along the path)")
    args = p.parse_args()

    model = onnx.load(args.model)
    g = model.graph
    inits = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    inputs = [i for i in g.input if i.name not in inits]
    names = trainable(model, args.cut)
    if args.cut is not None and args.cut >= len(g.node):
        raise SystemExit(f"--cut {args.cut}: the graph has {len(g.node)} nodes")

    if args.write_cut:
        if args.cut is None:
            raise SystemExit("--write-cut needs --cut")
        cut = onnx.ModelProto()
        cut.CopyFrom(model)
        del cut.graph.node[args.cut + 1:]
        del cut.graph.output[:]
        cut.graph.output.append(onnx.helper.make_empty_tensor_value_info(model.graph.node[args.cut].output[0]))
        used = {i for n in cut.graph.node for i in n.input}
        keep = [i for i in cut.graph.initializer if i.name in used]
        del cut.graph.initializer[:]
        cut.graph.initializer.extend(keep)
        kept_inputs = [i for i in cut.graph.input if i.name in used or i.name not in inits]
        del cut.graph.input[:]
        cut.graph.input.extend(kept_inputs)
        onnx.save(cut, args.write_cut)
        print(f"wrote {args.write_cut}: nodes 0..{args.cut}, output {model.graph.node[args.cut].output[0]}")

    if args.make_batch:
        rng = np.random.default_rng(args.seed)
        dims = [d.dim_value if d.dim_value > 0 else 1 for d in inputs[0].type.tensor_type.shape.dim]
        x = rng.standard_normal(dims).astype(np.float32)
        with torch.no_grad():
            y = run(model, {inputs[0].name: torch.from_numpy(x)}, {k: torch.from_numpy(v) for k, v in inits.items()}, args.cut)
        target = rng.uniform(-1, 1, tuple(y.shape)).astype(np.float32)
        np.savez(args.batch, **{inputs[0].name: x, "target": target})
        print(f"wrote {args.batch}: {inputs[0].name} {dims}, target {list(target.shape)}")

    batch = np.load(args.batch)
    x, target = batch[inputs[0].name], batch["target"]

    def evaluator(dtype):
        feeds = {inputs[0].name: torch.from_numpy(x).to(dtype)}
        fixed = {k: torch.from_numpy(v).to(dtype) for k, v in inits.items() if k not in names}
        t = torch.from_numpy(target).to(dtype)

        def f(params):
            y = run(model, feeds, {**fixed, **params}, args.cut)
            return ((y - t) ** 2).mean()
        return f

    f64, f32 = evaluator(torch.float64), evaluator(torch.float32)
    theta64 = {k: torch.from_numpy(inits[k]).to(torch.float64).requires_grad_() for k in names}
    loss64 = f64(theta64)
    grads = torch.autograd.grad(loss64, [theta64[k] for k in names])
    g64 = {k: gr.detach().numpy() for k, gr in zip(names, grads)}
    theta32 = {k: torch.from_numpy(inits[k]) for k in names}
    with torch.no_grad():
        loss32 = f32(theta32).item()
    print(f"parameters: {len(names)} tensors, {sum(inits[k].size for k in names)} elements")
    print(f"loss float64 {loss64.item():.9e}  float32 {loss32:.9e}")

    toolkit = None
    if args.toolkit_grads:
        r = np.load(args.toolkit_grads)
        toolkit = {k: r["grad/" + k].astype(np.float64) for k in names}
        print(f"loss toolkit {float(r['loss']):.9e}")
        worst = []
        for k in names:
            diff = np.linalg.norm(toolkit[k] - g64[k])
            norm = np.linalg.norm(g64[k])
            worst.append((diff / norm if norm > 0 else diff, k, norm))
        worst.sort(reverse=True)
        total = np.sqrt(sum(np.sum((toolkit[k] - g64[k]) ** 2) for k in names)) / np.sqrt(sum(np.sum(g64[k] ** 2) for k in names))
        print(f"||g_toolkit − g64|| / ||g64|| over all parameters: {total:.3e}; worst tensors:")
        for rel, k, norm in worst[:8]:
            print(f"  {k:24s} {rel:.3e}  (||g64|| {norm:.3e})")

    rng = np.random.default_rng(args.seed ^ 0x5EED)
    h0 = (2.0 ** -24) ** (1 / 3)
    for d in range(args.directions):
        v = {}
        for k in names:
            rms = np.sqrt(np.mean(inits[k].astype(np.float64) ** 2))
            v[k] = rng.standard_normal(inits[k].shape) * (rms if rms > 0 else 1)
        a64 = sum(np.sum(g64[k] * v[k]) for k in names)
        line = f"direction {d}: <g64,v> {a64:.9e}"
        if toolkit:
            at = sum(np.sum(toolkit[k] * v[k]) for k in names)
            line += f"  <g_toolkit,v> {at:.9e}  rel.err {abs(at - a64) / abs(a64):.3e}"
        print(line)
        if args.path:
            path_check(args.path, names, inits, v, f64, f32, toolkit)
        print("   level        h        D64(h)   err64        D32(h)   err32")
        for level in range(args.levels):
            h = h0 / 2 ** level
            with torch.no_grad():
                p64 = f64({k: torch.from_numpy(inits[k].astype(np.float64) + h * v[k]) for k in names}).item()
                m64 = f64({k: torch.from_numpy(inits[k].astype(np.float64) - h * v[k]) for k in names}).item()
                up = {k: (inits[k].astype(np.float64) + h * v[k]).astype(np.float32) for k in names}
                down = {k: (inits[k].astype(np.float64) - h * v[k]).astype(np.float32) for k in names}
                p32 = f32({k: torch.from_numpy(u) for k, u in up.items()}).item()
                m32 = f32({k: torch.from_numpy(u) for k, u in down.items()}).item()
            d64 = (p64 - m64) / (2 * h)
            # As the toolkit does: the analytic side of the float32 difference uses the rounded points.
            a32 = sum(np.sum(g64[k] * (up[k].astype(np.float64) - down[k].astype(np.float64))) for k in names) / (2 * h)
            d32 = (p32 - m32) / (2 * h)
            print(f"   {level:5d} {h:.3e} {d64:13.6e} {abs(d64 - a64) / abs(a64):.2e} {d32:13.6e} {abs(d32 - a32) / abs(a32):.2e}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
