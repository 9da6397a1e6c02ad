#!/usr/bin/python3
"""Sums ONNX Runtime profile events (implicitreg bench --profile PREFIX) by operator type or by role.

Usage: profile-summary.py PROFILE.json [--top K] [--nodes K] [--skip S]
                          [--roles] [--model STEP.onnx] [--against OTHER.json [--against-model OTHER.onnx]]

Default: one row per op type: ms per step, share of the node time, node count. Each node's time is
the median over the runs after the first S (default 3: bench's warm-up steps, whose first runs
also pay for page faults of freshly allocated memory), so one slow run under load does not count.

--roles: one row per role of a node in a training step instead (forward Conv, unfold Conv of the
kernel gradients, kernel-gradient GEMMs, ConvTranspose data gradients, BatchNorm's full-size
elementwise passes, ReLU and its masks, ...), read from the op type and the tensor shapes the
profile records, with the FLOPs of the convolutions and GEMMs (2 per multiply-add, from those
shapes) and the rate they ran at. With --model (the step model, e.g. from `implicitreg rewrite` with
bench's options: --loss cross-entropy --coefficient 0.025) each role is also split by the pass it
belongs to: forward (what the loss needs), backward (what the penalty ||g||^2 needs beyond that:
the first gradient), second pass (the rest: the exact penalty's second backward, or the
finite-difference mode's perturbed forward and backward) and update (what depends on learning_rate).

--against OTHER.json: also the difference per role (this profile minus the other), e.g. an exact
step against a plain one: which kernels the exact step adds and what each costs.

Only the standard library, plus the onnx package when --model is given.
"""
import argparse, collections, json, math, statistics


def load(path, skip):
    """Per-node median ms over the kept runs, with each node's op type and tensor shapes."""
    events = json.load(open(path))
    runs = sorted((e["ts"], e["ts"] + e["dur"]) for e in events if e.get("name") == "model_run")
    kept = runs[skip:] if len(runs) > skip else runs
    per_run = collections.defaultdict(lambda: [0.0] * len(kept))
    info = {}
    for e in events:
        if e.get("cat") != "Node" or not e.get("name", "").endswith("_kernel_time"):
            continue
        index = next((i for i, (start, end) in enumerate(kept) if start <= e["ts"] <= end), None)
        if index is None:
            continue
        name = e["name"][:-len("_kernel_time")]
        per_run[name][index] += e["dur"]
        args = e["args"]
        info[name] = (args.get("op_name", "?"), shapes(args.get("input_type_shape")), shapes(args.get("output_type_shape")))
    node_ms = {name: statistics.median(times) / 1000 for name, times in per_run.items()}
    run_ms = statistics.median([(end - start) / 1000 for start, end in kept]) if kept else float("nan")
    return node_ms, info, len(runs), len(kept), run_ms


def shapes(typed):
    """[{"float": [1, 2]}, ...] -> [[1, 2], ...]."""
    return [next(iter(t.values())) for t in typed or []]


def numel(shape):
    return math.prod(shape) if shape else 1


def role(op, ins, outs):
    """(role, FLOPs or None) of a node from its op type and shapes."""
    big = max([numel(s) for s in ins + outs] or [0]) >= 100_000 and any(len(s) == 4 for s in ins + outs)
    if op == "Conv" and len(ins) >= 2 and len(ins[1]) >= 3:
        x, w, y = ins[0], ins[1], outs[0]
        k = numel(w[2:])
        flops = 2 * numel(y) * numel(w[1:])
        if w[1] == 1 and w[0] == x[1] * k and x[1] > 1 or (x[1] == 1 and w[0] == k and k > 1):
            return "Conv unfold (kernel-gradient patches)", flops
        if max(w[2:]) > 3:
            return "Conv, batch as channels (kernel gradient, general form)", flops
        stride = x[2] // y[2] if y[2] else 1
        return f"Conv {'x'.join(map(str, w[2:]))} stride {stride}", flops
    if op == "ConvTranspose" and len(ins) >= 2:
        x, w, y = ins[0], ins[1], outs[0]
        stride = y[2] // x[2] if x[2] else 1
        if w[1] == 1 and w[0] == y[1] * numel(w[2:]) and w[0] > y[1]:
            return "ConvTranspose fold (adjoint of an unfold)", 2 * numel(x) * numel(w[1:])
        return f"ConvTranspose {'x'.join(map(str, w[2:]))} stride {stride} (data gradient)", 2 * numel(x) * numel(w[1:])
    if op in ("MatMul", "FusedMatMul", "Gemm") and len(ins) >= 2 and outs:
        a, y = ins[0], outs[0]
        # A holds rows·inner elements per matrix whether or not it is transposed (FusedMatMul's transA).
        rows = y[-2] if len(y) >= 2 else 1
        inner = numel(a[-2:]) // rows if len(a) >= 2 and rows else a[-1]
        flops = 2 * numel(y) * inner
        if len(y) == 3:
            return "MatMul batched (kernel-gradient GEMMs)", flops
        return "MatMul / Gemm 2-D (classifier)", flops
    if op == "ReduceSum" and ins and len(ins[0]) == 3:
        return "ReduceSum over the batch (kernel gradients)", None
    if op in ("Reshape", "Transpose", "Cast", "Shape", "Size", "Unsqueeze", "Squeeze", "Slice", "Concat",
              "Identity", "Expand", "Flatten", "ConstantOfShape", "Gather"):
        return "shape and copy ops", None
    if not big:
        return "small ops (per-channel statistics, parameters, loss, update)", None
    if op in ("MaxPool", "Resize", "Equal", "ScatterElements", "AveragePool"):
        return "MaxPool and its gradient masks (full size)", None
    if op in ("Relu", "Greater", "Where", "Less", "Not", "And"):
        return "ReLU and its masks (full size)", None
    if op == "Sum" or (op == "Add" and len(ins) == 2 and numel(ins[0]) == numel(ins[1])):
        return "Add / Sum of two full-size tensors (residual, gradient accumulation)", None
    if op in ("Mul", "Sub", "Div", "Add", "ReduceSum", "ReduceMean", "Sqrt", "Reciprocal", "Neg", "Pow"):
        return "BatchNorm elementwise and reductions (full size)", None
    return f"{op} (full size)", None


def phases(model_path):
    """node name -> forward / backward / second pass / update, from the step model's graph."""
    import onnx
    graph = onnx.load(model_path, load_external_data=False).graph
    producer = {o: n for n in graph.node for o in n.output}

    def ancestors(outputs):
        seen, stack = set(), list(outputs)
        while stack:
            node = producer.get(stack.pop())
            if node is not None and node.name not in seen:
                seen.add(node.name)
                stack.extend(node.input)
        return seen

    outputs = {o.name for o in graph.output}
    forward = ancestors(["loss"] if "loss" in outputs else [])
    backward = ancestors(["penalty"] if "penalty" in outputs else []) - forward
    tainted, update = {"learning_rate"}, set()
    for node in graph.node:  # topologically sorted
        if any(i in tainted for i in node.input):
            update.add(node.name)
            tainted.update(node.output)
    # Without a penalty ||g||^2 needs nothing: everything after the forward pass is the backward pass.
    rest = "second pass" if backward else "backward"
    result = {}
    for node in graph.node:
        result[node.name] = ("update" if node.name in update else "forward" if node.name in forward
                             else "backward" if node.name in backward else rest)
    return result


def phase_of(name, table):
    """Phase of a profiled node; fused nodes are named after the node they replaced ("X/SomeFusion/")."""
    if table is None:
        return None
    while name:
        if name in table:
            return table[name]
        if "/" not in name:
            break
        name = name.rsplit("/", 1)[0]
    return "(added by ONNX Runtime)"


def by_role(node_ms, info, table):
    rows = collections.defaultdict(lambda: [0.0, 0, 0.0])  # ms, nodes, flops
    for name, ms in node_ms.items():
        r, flops = role(*info[name])
        ph = phase_of(name, table)
        key = (r, ph) if ph else (r, "")
        rows[key][0] += ms
        rows[key][1] += 1
        rows[key][2] += flops or 0
    return rows


def print_roles(rows, total, title):
    print(f"\n{title}")
    print("| role | pass | ms per run | share | nodes | GFLOP | GFLOP/s |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for (r, ph), (ms, nodes, flops) in sorted(rows.items(), key=lambda kv: -kv[1][0]):
        rate = f"{flops / 1e9 / (ms / 1000):.1f}" if flops and ms > 0 else ""
        gf = f"{flops / 1e9:.2f}" if flops else ""
        print(f"| {r} | {ph} | {ms:.2f} | {100 * ms / max(total, 1e-9):.1f}% | {nodes} | {gf} | {rate} |")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("profile")
    ap.add_argument("--top", type=int, default=15)
    ap.add_argument("--nodes", type=int, default=0, help="also list the K slowest nodes")
    ap.add_argument("--skip", type=int, default=3, help="leave out the first S runs (warm-up)")
    ap.add_argument("--roles", action="store_true", help="sum by role in the step, with FLOPs and GFLOP/s")
    ap.add_argument("--model", help="the step model: split the roles by pass (forward, backward, second pass, update)")
    ap.add_argument("--against", help="another profile (e.g. the plain step): per-role differences")
    ap.add_argument("--against-model", help="the other profile's step model")
    a = ap.parse_args()
    node_ms, info, runs, kept, run_ms = load(a.profile, a.skip)
    total = sum(node_ms.values())
    print(f"{runs} runs, {kept} kept: node time {total:.1f} ms per run (median per node), run {run_ms:.1f} ms (median)")
    if not a.roles and not a.against:
        by_op, count = collections.Counter(), collections.Counter()
        for name, ms in node_ms.items():
            by_op[info[name][0]] += ms
            count[info[name][0]] += 1
        print("| op | ms per run | share | nodes |")
        print("|---|---:|---:|---:|")
        for op, ms in by_op.most_common(a.top):
            print(f"| {op} | {ms:.2f} | {100 * ms / max(total, 1e-9):.1f}% | {count[op]} |")
    table = phases(a.model) if a.model else None
    if a.roles:
        rows = by_role(node_ms, info, table)
        print_roles(rows, total, "By role" + (" and pass" if table else ""))
        if table:
            passes = collections.Counter()
            for (r, ph), (ms, _, _) in rows.items():
                passes[ph] += ms
            print("\n| pass | ms per run | share |\n|---|---:|---:|")
            for ph, ms in passes.most_common():
                print(f"| {ph} | {ms:.2f} | {100 * ms / max(total, 1e-9):.1f}% |")
    if a.against:
        other_ms, other_info, _, _, other_run = load(a.against, a.skip)
        other_total = sum(other_ms.values())
        mine = by_role(node_ms, info, None)
        theirs = by_role(other_ms, other_info, None)
        print(f"\nAgainst {a.against}: node time {other_total:.1f} ms, run {other_run:.1f} ms")
        print("| role | ms here | nodes | ms there | nodes | added ms | share of what is added |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        added = total - other_total
        for key in sorted(set(mine) | set(theirs), key=lambda k: -(mine.get(k, [0])[0] - theirs.get(k, [0])[0])):
            m, t = mine.get(key, [0.0, 0, 0.0]), theirs.get(key, [0.0, 0, 0.0])
            print(f"| {key[0]} | {m[0]:.2f} | {m[1]} | {t[0]:.2f} | {t[1]} | {m[0] - t[0]:.2f} | {100 * (m[0] - t[0]) / max(added, 1e-9):.1f}% |")
        print(f"| all | {total:.2f} | {len(node_ms)} | {other_total:.2f} | {len(other_ms)} | {added:.2f} | 100% |")
    if a.nodes:
        print()
    for name, ms in sorted(node_ms.items(), key=lambda kv: -kv[1])[:a.nodes]:
        where = f" [{phase_of(name, table)}]" if table else ""
        print(f"{ms:8.2f} ms  {info[name][0]:16} {name}{where}  {json.dumps(info[name][1])} -> {json.dumps(info[name][2])}")


if __name__ == "__main__":
    main()
