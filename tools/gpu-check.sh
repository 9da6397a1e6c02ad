#!/usr/bin/env bash
# GPU check for ImplicitRegOnnx, run on the device machine (NVIDIA GPU, CUDA 13, cuDNN 9; no .NET, no
# network) from a self-contained linux-x64 publish of the CLI with the GPU flavour:
#
#   (here)   dotnet publish src/ImplicitRegOnnx.Cli -c Release -r linux-x64 --self-contained \
#              -p:OnnxRuntimeFlavor=Gpu -o .cache/gpu/publish
#            tar -C .cache/gpu -czf .cache/gpu/publish.tgz publish && split -b 55m .cache/gpu/publish.tgz .cache/gpu/part-
#   (device) copy the parts out of the tree, join, unpack, then
#            LD_LIBRARY_PATH=$(python3 -c 'import site,glob;print(":".join(glob.glob(site.getsitepackages()[0]+"/nvidia/*/lib")))') \
#            tools/gpu-check.sh PUBLISH_DIR OUT_DIR
#
# Checks: (1) the CUDA execution provider loads (train --device cuda); (2) one batch's loss, penalty and
# gradients on CUDA equal those on the CPU within float32 tolerance (grad --device); (3) two training
# steps on each device (parameters and optimizer state resident on the device) end with the same
# loss, penalty and weights within float32 tolerance (train --device, checkpoints compared); (4) bench
# of the shared/bench models in all three penalty modes on both devices, one table. Writes
# OUT_DIR/gpu-check.txt. Exit 0 when (1), (2) and (3) pass.
set -uo pipefail
PUBLISH="${1:?usage: tools/gpu-check.sh PUBLISH_DIR OUT_DIR}"
OUT="${2:?usage: tools/gpu-check.sh PUBLISH_DIR OUT_DIR}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CLI="$PUBLISH/implicitreg"
BENCH="${BENCH_DIR:-$ROOT/../shared/bench}"
PYTHON="${PYTHON:-python3}"
mkdir -p "$OUT"
log="$OUT/gpu-check.txt"
: > "$log"
say() { echo "$*" | tee -a "$log"; }
status=0

say "== 1. CUDA provider"
if "$CLI" train --device cuda --epochs 1 >> "$log" 2>&1; then say "cuda: loads and trains"; else say "cuda: FAILED (see above)"; status=1; fi

say "== 2. one batch on CUDA and CPU"
"$PYTHON" - "$OUT/batch.npz" <<'PY'
import sys, numpy as np
rng = np.random.default_rng(0)
np.savez(sys.argv[1], input=rng.standard_normal((64, 1, 28, 28)).astype(np.float32), target=rng.integers(0, 10, 64).astype(np.int64))
PY
for model in cnn resnet8; do
  for device in cpu cuda; do
    "$CLI" grad "$BENCH/$model.onnx" --data "$OUT/batch.npz" --loss cross-entropy --lambda 0.1 --microbatches 2 \
      --device "$device" --out "$OUT/$model-$device.npz" >> "$log" 2>&1 || { say "$model $device: grad FAILED"; status=1; }
  done
  "$PYTHON" - "$OUT/$model-cpu.npz" "$OUT/$model-cuda.npz" "$model" <<'PY' | tee -a "$log" || status=1
import sys, numpy as np
a, b, name = np.load(sys.argv[1]), np.load(sys.argv[2]), sys.argv[3]
worst = 0.0
for key in a.files:
    x, y = a[key].astype(np.float64), b[key].astype(np.float64)
    worst = max(worst, float(np.abs(x - y).max() / (np.abs(x).max() + 1e-6)))
ok = worst <= 1e-3
print(f"{name}: worst relative difference CPU vs CUDA {worst:.2e} ({'ok' if ok else 'FAILED'})")
sys.exit(0 if ok else 1)
PY
done

say "== 3. two training steps on CUDA and CPU"
for model in mlp cnn resnet8; do
  for device in cpu cuda; do
    rm -rf "$OUT/train-$model-$device"
    "$CLI" train "$BENCH/$model.onnx" --data "$OUT/batch.npz" --loss cross-entropy --lambda 0.1 --microbatches 2 \
      --batch-size 32 --epochs 1 --lr 0.05 --optimizer momentum --seed 1 --device "$device" \
      --checkpoint-dir "$OUT/train-$model-$device" --metrics "$OUT/train-$model-$device.jsonl" >> "$log" 2>&1 \
      || { say "$model $device: train FAILED"; status=1; }
  done
  "$PYTHON" - "$OUT/train-$model-cpu" "$OUT/train-$model-cuda" "$model" <<'PY' | tee -a "$log" || status=1
import glob, io, json, os, sys, zipfile
import numpy as np
cpu_dir, gpu_dir, name = sys.argv[1:4]
def newest(d):
    files = sorted(glob.glob(os.path.join(d, "*.ckpt")))
    return zipfile.ZipFile(files[-1]) if files else None
def metrics(d):
    return [json.loads(l) for l in open(d + ".jsonl") if '"step"' in l]
a, b = newest(cpu_dir), newest(gpu_dir)
if a is None or b is None:
    print(f"{name}: no checkpoint to compare (FAILED)"); sys.exit(1)
worst = 0.0
for entry in a.namelist():
    if not entry.endswith(".npy"):
        continue
    x = np.load(io.BytesIO(a.read(entry))).astype(np.float64)
    y = np.load(io.BytesIO(b.read(entry))).astype(np.float64)
    worst = max(worst, float(np.abs(x - y).max() / (np.abs(x).max() + 1e-6)))
for m, n in zip(metrics(cpu_dir), metrics(gpu_dir)):
    for key in ("loss", "penalty"):
        if key in m and key in n:
            worst = max(worst, abs(m[key] - n[key]) / (abs(m[key]) + 1e-6))
ok = worst <= 1e-3
print(f"{name}: two steps, worst relative difference CPU vs CUDA in loss, penalty, weights and state {worst:.2e} ({'ok' if ok else 'FAILED'})")
sys.exit(0 if ok else 1)
PY
done

say "== 4. bench (batch 128, median step)"
printf '%-10s %-18s %12s %12s\n' model penalty "cpu ms" "cuda ms" | tee -a "$log"
for model in mlp cnn resnet8; do
  for penalty in none exact finite-difference; do
    cpu=$("$CLI" bench "$BENCH/$model.onnx" --penalty "$penalty" --steps 10 --device cpu --json 2>>"$log" | "$PYTHON" -c 'import json,sys;print(round(json.load(sys.stdin)["median_step_s"]*1000,1))' 2>/dev/null || echo "-")
    gpu=$("$CLI" bench "$BENCH/$model.onnx" --penalty "$penalty" --steps 10 --device cuda --json 2>>"$log" | "$PYTHON" -c 'import json,sys;print(round(json.load(sys.stdin)["median_step_s"]*1000,1))' 2>/dev/null || echo "-")
    printf '%-10s %-18s %12s %12s\n' "$model" "$penalty" "$cpu" "$gpu" | tee -a "$log"
  done
done
exit $status
