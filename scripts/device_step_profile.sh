#!/usr/bin/env bash
# On a GPU machine, from .devbin/ (scripts/make_devbin.sh): what one SimpleNet training step
# costs, for work on the per-step overhead. Runs the GPU tests and memcheck on them, the SimpleNet
# and per-op benchmarks beside PyTorch's, and Nsight Compute over a few eager and replayed steps,
# to list every kernel a step launches with its GPU time. Logs go to $OUT (or /tmp/ember-device).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
B=${1:-.devbin}
export LD_LIBRARY_PATH="$PWD/$B${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export NCCL_NVLS_ENABLE=0
OUT=${OUT:-/tmp/ember-device}
mkdir -p "$OUT"
step() { printf '\n=== %s ===\n' "$*"; }
run() { echo "+ $*"; "$@"; echo "(exit $?)"; }

step device; nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
step GPU tests; run timeout 150 "$B/tests/ember_cuda_tests"
# As in device_run.sh: the float64 gradcheck is too slow under the tool, the OOM test fails on purpose.
step memcheck; run timeout 240 compute-sanitizer --tool memcheck --leak-check full --error-exitcode 9 \
  "$B/tests/ember_cuda_tests" "~[autograd]" "~[oom]"
# synccheck: barriers, and the programmatic-dependent-launch waits of overlapped_launch.cuh.
step synccheck, graph tests; run timeout 150 compute-sanitizer --tool synccheck --error-exitcode 9 \
  "$B/tests/ember_cuda_tests" "[graph]" "~capturable Adam*"
# racecheck slows every launch a hundredfold: the 150-parameter Adam test is left out.
step racecheck, graph tests; run timeout 150 compute-sanitizer --tool racecheck --error-exitcode 9 \
  "$B/tests/ember_cuda_tests" "[graph]" "~capturable Adam*"
step "SimpleNet: Ember, then PyTorch"
run "$B/bench/simple_net_bench" --device cuda
run "$B/bench/op_overhead_bench"
run "$B/bench/launch_floor_bench"
run python3 bench/torch_reference.py --only simple_net,overhead
# Kernels of steps 21-23 (eager), then of three replays: the bench's warm-up is 20 steps, and
# capture itself launches nothing. --clock-control none: the GPU's own clocks, as in the timings.
step "kernels per step (Nsight Compute)"
for mode in eager graph; do
  args=(--device cuda --steps 3 --runs 1 --mode "$mode")
  run timeout 120 ncu --clock-control none --metrics gpu__time_duration.sum --csv --log-file "$OUT/ncu-$mode.csv" \
    "$B/bench/simple_net_bench" "${args[@]}"
  python3 - "$OUT/ncu-$mode.csv" "$mode" <<'EOF'
import csv, sys
rows = [r for r in csv.DictReader(l for l in open(sys.argv[1]) if l.startswith('"'))]
kernels = {}
for r in rows:  # gpu__time_duration in ns, with thousands separators
    kernels.setdefault(int(r["ID"]), (r["Kernel Name"][:90], float(r["Metric Value"].replace(",", "")) / 1000))
ids = sorted(kernels)
print(f"{sys.argv[2]}: {len(ids)} kernels profiled; the last 12 (the step repeats in them):")
for i in ids[-12:]:
    print(f"  {kernels[i][1]:8.2f} us  {kernels[i][0]}")
EOF
done
