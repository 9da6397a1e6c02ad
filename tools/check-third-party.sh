#!/usr/bin/env bash
# Check `implicitreg` against real models from third-party exporters and the committed models:
#   1. `implicitreg inspect --json` must equal tools/onnx_inspect_reference.py (onnx python package),
#      compared structurally (parsed JSON, key order ignored);
#   2. `implicitreg optimize --verify` must succeed (outputs equal under ONNX Runtime CPU on random inputs).
# Prints one table row per model and exits 1 if any check fails.
#
# Usage: tools/check-third-party.sh [--no-fetch] [--large] [MODEL.onnx ...]
#   --no-fetch   do not run tools/fetch-third-party-models.sh (use what is in .cache/third-party/models)
#   --large      also fetch and check the large models (passed on to the fetch script)
#   MODEL.onnx   check only these files
# Environment: IMPLICITREG_DLL=path/to/implicitreg.dll uses a built CLI instead of building one
#              (the build goes to .cache/check-third-party/build); PYTHON (default /usr/bin/python3,
#              which has Debian's python3-onnx).
set -uo pipefail
set -f  # no globbing: --dim values such as *=64 must stay as written

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="$ROOT/.cache/check-third-party"
PYTHON="${PYTHON:-/usr/bin/python3}"
fetch=1 fetch_args=() models=()
for arg in "$@"; do
  case "$arg" in
    --no-fetch) fetch=0 ;;
    --large) fetch_args+=(--large) ;;
    -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "error: unknown option '$arg' (try --help)" >&2; exit 2 ;;
    *) models+=("$arg") ;;
  esac
done

# Sizes for symbolic dimensions of the random inputs, per model (others default to 2).
dims_for() {
  case "$(basename "$1" .onnx)" in
    ppocr-v4-det) echo "--dim *=64" ;;              # H, W go through 5 stride-2 stages and upsampling back
    ppocr-v4-rec) echo "--dim *=48 --dim batch=1" ;; # the width must survive the downsampling
    ppocr-mobile-cls) echo "--dim *=48" ;;
    silero-vad-v5-spox) echo "--shape input=1,512 --shape state=2,1,128 --value sr=16000" ;;  # dims without names; the model checks the sample rate
    # float16 throughout: ONNX Runtime CPU runs float16 ops in float32 and drops Cast round trips only
    # where a value has one consumer, so merging duplicate Casts (CSE) moves a few outputs by a few
    # float16 ulps after ~700 ops. Measured: worst 2e-3 absolute on outputs in [0, 1].
    imgly-isnet-fp16) echo "--atol 4e-3" ;;
    silero-vad*) echo "--dim batch=1 --dim sequence=512" ;;  # reflect padding needs real audio length
    oww-melspectrogram) echo "--dim *=1600" ;;
    oww-embedding) echo "--dim *=1" ;;
    *) echo "" ;;
  esac
}

"$PYTHON" -c 'import onnx' 2>/dev/null || { echo "error: $PYTHON cannot import onnx (apt-get install python3-onnx)" >&2; exit 2; }

if [[ $fetch == 1 && ${#models[@]} == 0 ]]; then
  "$ROOT/tools/fetch-third-party-models.sh" "${fetch_args[@]}" || { echo "error: fetching third-party models failed" >&2; exit 2; }
fi
if [[ ${#models[@]} == 0 ]]; then
  while IFS= read -r m; do models+=("$m"); done < <(
    { find "$ROOT/.cache/third-party/models" -maxdepth 1 -name '*.onnx' 2>/dev/null | sort
      find "$ROOT/models" -name '*.onnx' | sort; })
fi

mkdir -p "$WORK/out"
DLL="${IMPLICITREG_DLL:-}"
if [[ -z "$DLL" ]]; then
  echo "building the CLI (Release) into $WORK/build ..." >&2
  dotnet build "$ROOT/src/ImplicitRegOnnx.Cli" -c Release --artifacts-path "$WORK/build" -v q --nologo >"$WORK/build.log" 2>&1 ||
    { cat "$WORK/build.log" >&2; echo "error: build failed" >&2; exit 2; }
  DLL="$WORK/build/bin/ImplicitRegOnnx.Cli/release/implicitreg.dll"
fi
implicitreg() { dotnet "$DLL" "$@"; }

compare_json() { # ours reference -> prints "" when equal, else the differing keys
  "$PYTHON" - "$1" "$2" <<'PY'
import json, sys
a = json.load(open(sys.argv[1])); b = json.load(open(sys.argv[2]))
if a != b:
    keys = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
    print("differs in " + ",".join(keys))
PY
}

failures=0
printf '%-28s %-10s %-10s %s\n' MODEL INSPECT OPTIMIZE NOTE
for model in "${models[@]}"; do
  name="$(basename "$model" .onnx)"
  [[ "$model" == "$ROOT/models/"*/* ]] && name="$(basename "$(dirname "$model")")/$name"
  safe="${name//\//_}"
  note=""
  # 1. inspect --json against the python reference.
  if ! "$PYTHON" "$ROOT/tools/onnx_inspect_reference.py" "$model" >"$WORK/out/$safe.ref.json" 2>"$WORK/out/$safe.ref.err"; then
    inspect="no-ref"; note="reference failed: $(tail -n1 "$WORK/out/$safe.ref.err")"
  elif ! implicitreg inspect "$model" --json >"$WORK/out/$safe.ours.json" 2>"$WORK/out/$safe.ours.err"; then
    inspect="FAIL"; note="inspect: $(head -c 200 "$WORK/out/$safe.ours.err")"; failures=$((failures + 1))
  else
    diff="$(compare_json "$WORK/out/$safe.ours.json" "$WORK/out/$safe.ref.json")"
    if [[ -z "$diff" ]]; then inspect="ok"; else inspect="MISMATCH"; note="inspect $diff"; failures=$((failures + 1)); fi
  fi
  # 2. optimize --verify.
  out="$WORK/out/$safe.opt.onnx"
  # shellcheck disable=SC2046
  start=$(date +%s)
  if implicitreg optimize "$model" -o "$out" --verify $(dims_for "$model") --json >"$WORK/out/$safe.opt.json" 2>"$WORK/out/$safe.opt.err"; then
    optimize="ok"
    nodes="$("$PYTHON" -c 'import json,sys; r=json.load(open(sys.argv[1])); print("%d->%d nodes, verify %s" % (r["nodes_before"], r["nodes_after"], r["verify"]["status"]))' "$WORK/out/$safe.opt.json" 2>/dev/null)"
    note="${note:+$note; }$nodes, $(( $(date +%s) - start ))s"
  else
    optimize="FAIL"; failures=$((failures + 1))
    note="${note:+$note; }$(head -n1 "$WORK/out/$safe.opt.err" | cut -c1-300)"
  fi
  printf '%-28s %-10s %-10s %s\n' "$name" "$inspect" "$optimize" "$note"
done
echo "outputs in $WORK/out"
if [[ $failures -gt 0 ]]; then echo "$failures check(s) failed" >&2; exit 1; fi
echo "all checks passed"
