#!/usr/bin/python3
"""Sums ONNX Runtime profile events (implicitreg bench --profile PREFIX) by operator type.

Usage: profile-summary.py PROFILE.json [--top K]
Prints one row per op type: total ms per step, share of the node time, node count.
"""
import argparse, collections, json


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("profile")
    ap.add_argument("--top", type=int, default=15)
    ap.add_argument("--nodes", type=int, default=0, help="also list the K slowest nodes")
    a = ap.parse_args()
    events = json.load(open(a.profile))
    runs = sum(1 for e in events if e.get("name") == "model_run")
    time = collections.Counter()
    nodes = collections.defaultdict(set)
    for e in events:
        if e.get("cat") == "Node" and e.get("name", "").endswith("_kernel_time"):
            op = e["args"].get("op_name", "?")
            time[op] += e["dur"]
            nodes[op].add(e["name"])
    per_node = collections.Counter()
    shapes = {}
    for e in events:
        if e.get("cat") == "Node" and e.get("name", "").endswith("_kernel_time"):
            per_node[(e["args"].get("op_name", "?"), e["name"][:-len("_kernel_time")])] += e["dur"]
            shapes[e["name"][:-len("_kernel_time")]] = e["args"].get("input_type_shape")
    total = sum(time.values())
    print(f"{runs} runs, node time {total / max(runs, 1) / 1000:.1f} ms per run")
    print("| op | ms per run | share | nodes |")
    print("|---|---:|---:|---:|")
    for op, us in time.most_common(a.top):
        print(f"| {op} | {us / max(runs, 1) / 1000:.2f} | {100 * us / total:.1f}% | {len(nodes[op])} |")
    for (op, name), us in per_node.most_common(a.nodes):
        print(f"{us / max(runs, 1) / 1000:8.2f} ms  {op:16} {name}  {json.dumps(shapes[name])}")


if __name__ == "__main__":
    main()
