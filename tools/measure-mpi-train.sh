#!/usr/bin/env bash
# Data-parallel training throughput of docs/distributed.md: `implicitreg train` under `mpirun -np W` for W = 1 and 2,
# one ONNX Runtime thread per rank, on the same global batch and the same objective (W = 1 runs the fused step with
# 2 microbatches, W = 2 the gradients-out step with 1 microbatch per rank: design.md §1). Per run it prints the
# examples per second of the steps alone (the summary's train_seconds: no model building, no data loading), the
# share of those seconds rank 0 spent in the gradients' all-reduce (including waiting for the other rank), and the
# load average before and after. Models: the embedded default (models/mlp_tanh.onnx on the digits) and
# ../shared/bench's mlp and cnn on random data of their input shape.
# Usage: tools/measure-mpi-train.sh [repetitions] [steps]   (extra mpirun flags: MPIRUN_FLAGS="--mca ...")
set -euo pipefail
cd "$(dirname "$0")/.."
reps=${1:-3}
steps=${2:-30}
batch=${BATCH:-128}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 TERM=dumb
read -r -a flags <<< "${MPIRUN_FLAGS:-}"
dotnet build src/ImplicitRegOnnx.Cli -c Release -v q -nologo >/dev/null
cli=src/ImplicitRegOnnx.Cli/bin/Release/net10.0/implicitreg.dll
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Random inputs of the bench models' shape [N, 1, 28, 28] and labels 0..9: enough examples for all steps in one epoch.
/usr/bin/python3 - "$work/bench.npz" $(( batch * (steps + 1) )) <<'PY'
import sys, numpy as np
rng = np.random.default_rng(0)
n = int(sys.argv[2])
np.savez(sys.argv[1], x=rng.standard_normal((n, 1, 28, 28), dtype=np.float32), y=rng.integers(0, 10, n).astype(np.int64))
PY

load() { cut -d' ' -f1-3 /proc/loadavg; }

run() { # name W steps model-args...
  local name=$1 w=$2 steps=$3; shift 3
  local n=$(( 2 / w ))  # microbatches per rank: 2 in all
  local before; before=$(load)
  mpirun -np "$w" --bind-to core "${flags[@]}" dotnet "$cli" train "$@" --batch-size "$batch" --microbatches "$n" \
    --optimizer momentum --max-steps "$steps" --epochs 1 --threads 1 --device cpu --summary-json "$work/s.json" >/dev/null
  /usr/bin/python3 - "$work/s.json" "$name" "$w" "$batch" "$before" "$(load)" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
name, w, batch, before, after = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6]
t = s["train_seconds"]
print(f"{name:8s} W={w}  {s['steps']} steps  {s['steps'] * batch / t:8.1f} examples/s  {1000 * t / s['steps']:8.1f} ms/step"
      f"  all-reduce {100 * s['allreduce_seconds'] / t:5.2f} % ({1000 * s['allreduce_seconds'] / s['steps']:.3f} ms/step)"
      f"  load {before} -> {after}")
PY
}

for _ in $(seq 1 "$reps"); do
  for w in 1 2; do
    # The digits' 1438 training examples make 11 batches of 128: stay inside the first epoch (no evaluation).
    run digits "$w" $(( steps < 10 ? steps : 10 ))
    run mlp "$w" "$steps" ../shared/bench/mlp.onnx --data "$work/bench.npz"
    run cnn "$w" "$steps" ../shared/bench/cnn.onnx --data "$work/bench.npz"
  done
done
