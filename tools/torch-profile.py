#!/usr/bin/python3
"""Where PyTorch's own step spends its time: torch.profiler over the step() of shared/bench/torch_step.py.

Usage: torch-profile.py BENCH_DIR [--model resnet8] [--mode plain|exact|fd] [--steps 5] [--top 15]
Prints the self CPU time per step of the top aten ops (1 thread, batch 128, after 3 warm-up steps of
every mode, as torch_step.py times them), for comparing with profile-summary.py --roles of our step.
"""
import argparse, importlib.util, sys

import torch
from torch.profiler import ProfilerActivity, profile


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bench_dir")
    ap.add_argument("--model", default="resnet8")
    ap.add_argument("--mode", default="plain")
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--top", type=int, default=15)
    a = ap.parse_args()
    spec = importlib.util.spec_from_file_location("torch_step", f"{a.bench_dir}/torch_step.py")
    ts = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ts)
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = ts.MODELS[a.model]()
    model.train()
    x = torch.randn(a.batch, 1, 28, 28)
    y = torch.randint(0, 10, (a.batch,))
    for _ in range(3):
        for mode in ["plain", "exact", "fd"]:
            ts.step(model, x, y, mode)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(a.steps):
            ts.step(model, x, y, a.mode)
    rows = [(e.key, e.self_cpu_time_total / 1000 / a.steps, e.count // a.steps) for e in prof.key_averages()]
    total = sum(ms for _, ms, _ in rows)
    print(f"pytorch {torch.__version__} {a.model} {a.mode}: self CPU {total:.1f} ms per step (profiled)")
    print("| aten op | self ms per step | share | calls per step |")
    print("|---|---:|---:|---:|")
    for key, ms, count in sorted(rows, key=lambda r: -r[1])[:a.top]:
        print(f"| {key} | {ms:.2f} | {100 * ms / total:.1f}% | {count} |")


if __name__ == "__main__":
    sys.exit(main())
