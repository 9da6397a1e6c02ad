#!/usr/bin/env bash
# Measurements of docs/distributed.md, on one machine over loopback, with the probe program of
# tests/ImplicitRegOnnx.MpiProbe:
#   faults     how long a 2-rank job takes to end after one rank is killed (kill -9) while the other waits in an
#              allreduce, and after a rank fails (exception, exception on a worker thread, exit without MPI_Finalize)
#   allreduce  time per MPI_Allreduce(MPI_SUM) of float buffers (medians over many calls) for each transport
# Usage: tools/measure-mpi.sh [faults|allreduce|all] [repetitions]   (extra mpirun flags: MPIRUN_FLAGS="--mca ...")
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
reps=${2:-5}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
dotnet build tests/ImplicitRegOnnx.MpiProbe -c Release -v q -nologo >/dev/null
probe=tests/ImplicitRegOnnx.MpiProbe/bin/Release/net10.0/ImplicitRegOnnx.MpiProbe.dll
read -r -a flags <<< "${MPIRUN_FLAGS:-}"

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# Dead = gone or a zombie (a container's init may reap orphans late).
dead() { ! grep -q -E '^State:\s+[^Z]' "/proc/$1/status" 2>/dev/null; }

# kill -9 rank VICTIM while rank 0 waits in an allreduce and rank 1 sleeps; prints ms until the survivor is dead
# and until mpirun has ended, and mpirun's exit code.
kill_one() {
  local victim=$1; shift
  local d; d=$(mktemp -d)
  mpirun -np 2 --bind-to none "${flags[@]}" "$@" dotnet "$probe" block "$d" >"$d/log" 2>&1 &
  local m=$!
  while [ ! -s "$d/pid.0" ] || [ ! -s "$d/pid.1" ]; do sleep 0.05; done
  sleep 1
  local survivor; survivor=$(cat "$d/pid.$((1 - victim))")
  local start; start=$(now_ms)
  kill -9 "$(cat "$d/pid.$victim")"
  local ts="" tm=""
  for _ in $(seq 1 30000); do
    [ -z "$ts" ] && dead "$survivor" && ts=$(( $(now_ms) - start ))
    [ -z "$tm" ] && dead "$m" && tm=$(( $(now_ms) - start ))
    [ -n "$ts" ] && [ -n "$tm" ] && break
    sleep 0.01
  done
  local rc=0; wait "$m" || rc=$?
  echo "kill -9 rank $victim $*: survivor dead after ${ts} ms, mpirun ended after ${tm} ms, exit code $rc"
  rm -rf "$d"
}

# rank 1 fails right after writing its pid file; prints ms from that file to mpirun's end.
fail_one() {
  local how=$1
  local d; d=$(mktemp -d)
  mpirun -np 2 --bind-to none "${flags[@]}" dotnet "$probe" fail "$d" "$how" >"$d/log" 2>&1 &
  local m=$!
  while [ ! -e "$d/pid.1" ] && ! dead "$m"; do sleep 0.005; done
  local start; start=$(now_ms)
  while ! dead "$m"; do sleep 0.01; done
  local took=$(( $(now_ms) - start ))
  local rc=0; wait "$m" || rc=$?
  echo "rank 1 fails ($how): mpirun ended ${took} ms after it, exit code $rc"
  rm -rf "$d"
}

if [ "$what" = faults ] || [ "$what" = all ]; then
  for _ in $(seq 1 "$reps"); do
    kill_one 1
    kill_one 0
    kill_one 1 --mca odls_base_sigkill_timeout 0
    for how in throw thread exit; do fail_one "$how"; done
  done
fi

if [ "$what" = allreduce ] || [ "$what" = all ]; then
  # Parameter counts of ../shared/bench: cnn 20490, resnet8 78426, mlp 269322 floats (all float initializers).
  sizes=1,1000,20490,78426,269322,1000000,4000000
  for _ in $(seq 1 "$reps"); do
    for btl in "" "--mca btl self,tcp"; do
      echo "# transport: ${btl:-default (shared memory: btl vader)}"
      # shellcheck disable=SC2086
      mpirun -np 2 --bind-to core "${flags[@]}" $btl dotnet "$probe" bench "$sizes" 400
    done
  done
fi
