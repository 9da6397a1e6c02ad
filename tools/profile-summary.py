#!/usr/bin/python3
"""Sums ONNX Runtime profile events (implicitreg bench --profile PREFIX) by operator type.

Usage: profile-summary.py PROFILE.json [--top K] [--nodes K] [--skip S]
Prints one row per op type: ms per step, share of the node time, node count. Each node's time is
the median over the runs after the first S (default 3: bench's warm-up steps, whose first runs
also pay for page faults of freshly allocated memory), so one slow run under load does not count.
"""
import argparse, collections, json, statistics


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("profile")
    ap.add_argument("--top", type=int, default=15)
    ap.add_argument("--nodes", type=int, default=0, help="also list the K slowest nodes")
    ap.add_argument("--skip", type=int, default=3, help="leave out the first S runs (warm-up)")
    a = ap.parse_args()
    events = json.load(open(a.profile))
    runs = sorted((e["ts"], e["ts"] + e["dur"]) for e in events if e.get("name") == "model_run")
    kept = runs[a.skip:] if len(runs) > a.skip else runs
    # node -> list of its time in each kept run
    per_run = collections.defaultdict(lambda: [0.0] * len(kept))
    op_of, shapes = {}, {}
    for e in events:
        if e.get("cat") != "Node" or not e.get("name", "").endswith("_kernel_time"):
            continue
        index = next((i for i, (start, end) in enumerate(kept) if start <= e["ts"] <= end), None)
        if index is None:
            continue
        name = e["name"][:-len("_kernel_time")]
        per_run[name][index] += e["dur"]
        op_of[name] = e["args"].get("op_name", "?")
        shapes[name] = e["args"].get("input_type_shape")
    node_ms = {name: statistics.median(times) / 1000 for name, times in per_run.items()}
    by_op, count = collections.Counter(), collections.Counter()
    for name, ms in node_ms.items():
        by_op[op_of[name]] += ms
        count[op_of[name]] += 1
    total = sum(node_ms.values())
    run_ms = statistics.median([(end - start) / 1000 for start, end in kept]) if kept else float("nan")
    print(f"{len(runs)} runs, {len(kept)} kept: node time {total:.1f} ms per run (median per node), run {run_ms:.1f} ms (median)")
    print("| op | ms per run | share | nodes |")
    print("|---|---:|---:|---:|")
    for op, ms in by_op.most_common(a.top):
        print(f"| {op} | {ms:.2f} | {100 * ms / max(total, 1e-9):.1f}% | {count[op]} |")
    for name, ms in sorted(node_ms.items(), key=lambda kv: -kv[1])[:a.nodes]:
        print(f"{ms:8.2f} ms  {op_of[name]:16} {name}  {json.dumps(shapes[name])}")


if __name__ == "__main__":
    main()
