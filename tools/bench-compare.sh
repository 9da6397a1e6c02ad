#!/usr/bin/env bash
# Times implicitreg's training step against PyTorch's on the same machine, back to back, and prints
# Markdown tables (docs/performance.md): median step times, ours/PyTorch ratios, exact/plain ratios,
# and the peak memory of the exact-penalty resnet8 step at several batch sizes.
#
# Usage: tools/bench-compare.sh [BENCH_DIR]     (default ../shared/bench: mlp.onnx, cnn.onnx,
#        resnet8.onnx and torch_step.py, run with Debian's /usr/bin/python3 and python3-torch)
# Environment: STEPS (timed steps, default 10), THREADS ("1 2"), MODELS ("mlp cnn resnet8"),
#        BATCH (128), MEMORY_BATCHES ("16 32 64 128"; empty: no memory table), ROUNDS (1: repeat each pair and keep the
#        median of the medians), IMPLICITREG (command, default: dotnet on the Release build).
# Each (model, threads) pair runs torch_step.py and then our three modes right after it, so both
# see the same machine load; ratios from one run are more trustworthy than absolute times.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bench_dir="${1:-$root/../shared/bench}"
steps="${STEPS:-10}"; threads_list="${THREADS:-1 2}"; models="${MODELS:-mlp cnn resnet8}"
batch="${BATCH:-128}"; memory_batches="${MEMORY_BATCHES-16 32 64 128}"; rounds="${ROUNDS:-1}"
python=/usr/bin/python3
for f in torch_step.py; do [[ -f "$bench_dir/$f" ]] || { echo "bench-compare: $bench_dir/$f not found; pass the folder with the benchmark models" >&2; exit 2; }; done
if [[ -z "${IMPLICITREG:-}" ]]; then
  dll="$root/src/ImplicitRegOnnx.Cli/bin/Release/net10.0/implicitreg.dll"
  [[ -f "$dll" ]] || dotnet build "$root/src/ImplicitRegOnnx.Cli" -c Release -v q >&2
  IMPLICITREG="dotnet $dll"
fi
results="$(mktemp)"; trap 'rm -f "$results"' EXIT

echo "# $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), steps $steps, batch $batch, rounds $rounds" >&2
for round in $(seq "$rounds"); do
  for threads in $threads_list; do
    for model in $models; do
      echo "round $round: $model, $threads thread(s)" >&2
      "$python" "$bench_dir/torch_step.py" --threads "$threads" --steps "$steps" --batch "$batch" --models "$model" \
        | sed 's/^/torch /' >> "$results"
      for mode in none exact finite-difference; do
        $IMPLICITREG bench "$bench_dir/$model.onnx" --penalty "$mode" --batch "$batch" --threads "$threads" --steps "$steps" --json \
          | tr -d '\n' | sed "s/^/ours $model $threads /; s/\$/\n/" >> "$results"
      done
    done
  done
done

memory="$(mktemp)"; trap 'rm -f "$results" "$memory"' EXIT
if [[ " $models " == *" resnet8 "* ]]; then
  for b in $memory_batches; do
    echo "memory: resnet8 exact, batch $b" >&2
    $IMPLICITREG bench "$bench_dir/resnet8.onnx" --penalty exact --batch "$b" --threads 1 --steps 2 --json \
      | tr -d '\n' | sed "s/^/ours $b /; s/\$/\n/" >> "$memory"
    # PyTorch: peak resident size of a process that runs the three modes (exact dominates).
    /usr/bin/time -f "torch $b %M" "$python" "$bench_dir/torch_step.py" --threads 1 --steps 2 --batch "$b" --models resnet8 \
      > /dev/null 2>> "$memory"
  done
fi

"$python" - "$results" "$memory" <<'PY'
import json, statistics, sys, collections
ours, torch = collections.defaultdict(list), collections.defaultdict(list)
mode_of = {"plain": "none", "exact": "exact", "fd": "finite-difference"}
for line in open(sys.argv[1]):
    kind, rest = line.split(" ", 1)
    if kind == "torch":
        r = json.loads(rest)
        torch[(r["model"], r["threads"], mode_of[r["mode"]])].append(r["median_s"] * 1000)
    else:
        model, threads, payload = rest.split(" ", 2)
        r = json.loads(payload)
        ours[(model, int(threads), r["penalty"])].append(r["median_step_s"] * 1000)
med = lambda xs: statistics.median(xs) if xs else float("nan")
print("| model | threads | mode | ours ms | PyTorch ms | ours/PyTorch | ours exact/plain |")
print("|---|---:|---|---:|---:|---:|---:|")
for (model, threads, mode) in sorted(ours, key=lambda k: (["mlp", "cnn", "resnet8"].index(k[0]) if k[0] in ["mlp", "cnn", "resnet8"] else 9, k[1], ["none", "exact", "finite-difference"].index(k[2]))):
    o, t = med(ours[(model, threads, mode)]), med(torch[(model, threads, mode)])
    plain = med(ours[(model, threads, "none")])
    extra = f"{o / plain:.2f}" if mode == "exact" else ""
    print(f"| {model} | {threads} | {mode} | {o:.1f} | {t:.1f} | {o / t:.2f} | {extra} |")
rows = {}
for line in open(sys.argv[2]):
    parts = line.split(" ", 2)
    if parts[0] == "ours":
        r = json.loads(parts[2]); rows.setdefault(int(parts[1]), {})["ours"] = r
    elif parts[0] == "torch":
        rows.setdefault(int(parts[1]), {})["torch"] = int(parts[2]) / 1024
if rows:
    print()
    print("| resnet8 exact, batch | ours step ms | ours process peak MiB | ours step peak MiB | added by the steps MiB | PyTorch process peak MiB |")
    print("|---:|---:|---:|---:|---:|---:|")
    for b in sorted(rows):
        r, t = rows[b].get("ours", {}), rows[b].get("torch", float("nan"))
        print(f"| {b} | {r.get('median_step_s', float('nan')) * 1000:.0f} | {r.get('peak_memory_mb', float('nan')):.0f} | "
              f"{r.get('step_peak_memory_mb', float('nan')):.0f} | {r.get('step_added_memory_mb', float('nan')):.0f} | {t:.0f} |")
PY
