#!/usr/bin/env bash
# Second-client check (issue 4, "Done when"): every reference case is rewritten by `implicitreg rewrite`
# (exact penalty, sgd) and ONE step is run by onnxruntime-node; (P − P.next)/0.1 must equal the
# reference objective_grad/P, and loss/penalty/objective must match, within the case's tolerances.
# The step model is written with `--penalty-coefficient-input required` (issue 12): onnxruntime-node passes
# on only the feeds named in a session's inputNames, which leave out inputs with a default, so the
# overridable `penalty_coefficient` could not be fed from JavaScript. The main step feeds the case's
# coefficient; then the step runs again with `penalty_coefficient` fed at 0, 0.5 and 2: loss and penalty
# must not change and the objective must be loss + c·penalty within float32 rounding (0: objective = loss
# exactly); column "coef".
#
#   tools/second-client/check.sh [CASE_DIR ...]
#
# Default cases: /work/shared/oracle/*/ (or $ORACLE_DIR) and tests/ReferenceCases/*/.
# Environment: IMPLICITREG_DLL=path/to/implicitreg.dll skips the build; LR (default 0.1);
# KEEP_WORK=1 keeps the rewritten models under .cache/second-client/work.
# Exit status: 0 every case passes, 1 any case fails, 2 setup failed (npm, build).
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cache="$repo/.cache/second-client"
lr="${LR:-0.1}"
mkdir -p "$cache"

command -v node >/dev/null || { echo "check.sh: node is not on PATH (Node ≥ 20 needed)" >&2; exit 2; }

# 1. The pinned onnxruntime-node (package-lock.json). Its postinstall only fetches optional CUDA EP
#    binaries; the CPU binaries ship in the npm package, so scripts are skipped.
if ! node -e "const p=require('$here/node_modules/onnxruntime-node/package.json'); const w=require('$here/package.json').dependencies['onnxruntime-node']; process.exit(p.version===w?0:1)" 2>/dev/null; then
  echo "installing onnxruntime-node (npm ci) ..."
  (cd "$here" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) || { echo "check.sh: npm ci failed" >&2; exit 2; }
fi
ortver="$(node -p "require('$here/node_modules/onnxruntime-node/package.json').version")"

# 2. The CLI, built with a private artifacts path.
dll="${IMPLICITREG_DLL:-}"
if [[ -z "$dll" ]]; then
  echo "building the CLI ..."
  dotnet build "$repo/src/ImplicitRegOnnx.Cli" --artifacts-path "$cache/build" -v quiet -nologo >"$cache/build.log" 2>&1 \
    || { tail -20 "$cache/build.log" >&2; echo "check.sh: CLI build failed (log: $cache/build.log)" >&2; exit 2; }
  dll="$cache/build/bin/ImplicitRegOnnx.Cli/debug/implicitreg.dll"
fi
[[ -f "$dll" ]] || { echo "check.sh: $dll not found" >&2; exit 2; }

# 3. The cases.
if [[ $# -gt 0 ]]; then cases=("$@"); else
  cases=()
  for d in "${ORACLE_DIR:-/work/shared/oracle}"/*/ "$repo"/tests/ReferenceCases/*/; do
    [[ -f "$d/case.json" && -f "$d/model.onnx" ]] && cases+=("${d%/}")
  done
fi
[[ ${#cases[@]} -gt 0 ]] || { echo "check.sh: no cases found" >&2; exit 2; }

work="$cache/work"; rm -rf "$work"; mkdir -p "$work"
field() { node -e "const c=JSON.parse(require('fs').readFileSync(process.argv[1],'utf8')); const v=c[process.argv[2]]; process.stdout.write(v===undefined||v===null?'':String(v))" "$1" "$2"; }

printf '\nonnxruntime-node %s, node %s, lr %s\n' "$ortver" "$(node --version)" "$lr"
printf '%-47s %-6s %12s %12s %12s %10s %-5s  %s\n' case result loss penalty objective grad_err coef note
fails=0
for c in "${cases[@]}"; do
  name="$(basename "$(dirname "$c")")/$(basename "$c")"
  tag="$(basename "$(dirname "$c")")_$(basename "$c")"
  loss="$(field "$c/case.json" loss)"; coef="$(field "$c/case.json" coefficient)"
  mb="$(field "$c/case.json" microbatches)"; out="$(field "$c/case.json" output)"
  args=(rewrite "$c/model.onnx" -o "$work/$tag.onnx" --loss "$loss" --coefficient "${coef:-0}" --microbatches "${mb:-1}" --optimizer sgd --penalty-coefficient-input required)
  [[ -n "$out" ]] && args+=(--output "$out")
  if ! dotnet "$dll" "${args[@]}" >"$work/$tag.rewrite.log" 2>&1; then
    printf '%-47s %-6s %s\n' "$name" FAIL "rewrite failed: $(grep -v '^\s*$' "$work/$tag.rewrite.log" | tail -1)"
    fails=$((fails + 1)); continue
  fi
  node "$here/run-step.mjs" "$work/$tag.onnx" "$work/$tag.init.onnx" "$c/data.npz" "$lr" \
    --expected "$c/expected.npz" --tolerance-json "$c/case.json" --coefficients "${coef:-0},0,0.5,2" >"$work/$tag.step.log" 2>&1
  rc=$?
  coefres="$(awk '$1 == "RESULT-COEFFICIENT" {print $2}' "$work/$tag.step.log")"
  stepres="$(awk '$1 == "RESULT" {print $2}' "$work/$tag.step.log")"
  get() { awk -v k="$1" '$1==k {print $7; exit}' "$work/$tag.step.log"; }   # err column of a scalar line
  gradmax="$(awk '$1 ~ /^objective_grad\// {if ($7+0 > m) m = $7+0} END {printf "%.2e", m}' "$work/$tag.step.log")"
  if [[ $rc -eq 0 ]]; then
    printf '%-47s %-6s %12s %12s %12s %10s %-5s\n' "$name" PASS "$(get loss)" "$(get penalty)" "$(get objective)" "$gradmax" "$coefres"
  else
    fails=$((fails + 1))
    why="$(grep -E 'FAIL|failed|cannot|Error|error' "$work/$tag.step.log" | grep -v '^RESULT' | head -2 | tr '\n' ';' | cut -c1-160)"
    printf '%-47s %-6s %12s %12s %12s %10s %-5s  %s\n' "$name" "${stepres:-FAIL}" "$(get loss)" "$(get penalty)" "$(get objective)" "$gradmax" "${coefres:--}" "rc=$rc $why (log: $work/$tag.step.log)"
  fi
done
printf '\n(columns: relative errors of loss/penalty/objective, largest per-tensor objective_grad error; tolerances in each case.json;\n coef: objective = loss + c·penalty with penalty_coefficient fed 0, 0.5 and 2)\n'
printf '%d of %d cases pass\n' "$(( ${#cases[@]} - fails ))" "${#cases[@]}"
[[ "${KEEP_WORK:-0}" == 1 || $fails -gt 0 ]] || rm -rf "$work"
[[ $fails -eq 0 ]]
