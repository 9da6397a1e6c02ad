#!/usr/bin/env bash
# Converts the 22M-parameter BERT-like encoder (tools/export_real_models.py --large) with
# `implicitreg convert` and prints the wall time and peak memory (GNU time's maximum RSS), once with
# the exact penalty and once without. Not a test: a measurement to read.
#
# Usage: tools/convert-large-model.sh
# Environment: IMPLICITREG_DLL (default: builds the CLI into .cache/convert-large/build), PYTHON
#              (default /usr/bin/python3, which has Debian's python3-torch and python3-onnx).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="$ROOT/.cache/convert-large"
PYTHON="${PYTHON:-/usr/bin/python3}"
MODEL="$ROOT/.cache/large-models/bert_like_22m.onnx"
[[ -x /usr/bin/time ]] || { echo "error: GNU time is needed (apt-get install time)" >&2; exit 2; }
if [[ ! -f "$MODEL" ]]; then
  "$PYTHON" "$ROOT/tools/export_real_models.py" --large
fi
DLL="${IMPLICITREG_DLL:-}"
if [[ -z "$DLL" ]]; then
  dotnet build "$ROOT/src/ImplicitRegOnnx.Cli" -c Release --artifacts-path "$WORK/build" -v q --nologo >"$WORK.build.log" 2>&1 ||
    { cat "$WORK.build.log" >&2; echo "error: build failed" >&2; exit 2; }
  DLL="$WORK/build/bin/ImplicitRegOnnx.Cli/release/implicitreg.dll"
fi
mkdir -p "$WORK/out"
for penalty in exact none; do
  /usr/bin/time -f "%e s wall, %M KiB peak RSS" -o "$WORK/time.txt" \
    dotnet "$DLL" convert "$MODEL" --out-dir "$WORK/out" --loss cross-entropy --lambda 0.1 --penalty "$penalty" --report "$WORK/report-$penalty.json" >/dev/null
  printf 'penalty %-6s %s (model %s bytes)\n' "$penalty" "$(cat "$WORK/time.txt")" "$(stat -c %s "$MODEL")"
done
