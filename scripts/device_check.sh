#!/usr/bin/env bash
# One GPU-machine call that checks a change made in .devbin/ (scripts/make_devbin.sh) and measures
# it against a build of the commit before it (default .devbin-base/): the CPU, GPU and distributed
# tests, compute-sanitizer, the examples, the launch thread's idle poll, the benchmarks of both
# builds interleaved (scripts/device_ab.sh), and the new build beside PyTorch (bench/compare.py).
# Each step has a time limit, so the whole fits one 10-minute device call. Logs to $OUT/check.log.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
B=${1:-.devbin} BASE=${2:-.devbin-base}
OUT=${OUT:-/tmp/ember-device}
mkdir -p "$OUT/data"
exec > >(tee "$OUT/check.log") 2>&1
export NCCL_NVLS_ENABLE=0
step() { printf '\n=== %s (%s s) ===\n' "$*" "$SECONDS"; }
lib() { LD_LIBRARY_PATH="$PWD/$B" "$@"; }

step device; nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
step reference data; python3 tests/reference/make_reference.py "$OUT/data" > /dev/null && export EMBER_TEST_DATA_DIR="$OUT/data"
step CPU tests; lib timeout 120 "$B/tests/ember_tests" | tail -3
step GPU tests; lib timeout 150 "$B/tests/ember_cuda_tests" | tail -25
step "distributed: one rank (CPU, CUDA), three ranks on this machine's GPUs (TCP start-up)"
lib timeout 60 "$B/tests/ember_distributed_tests" "[cpu]" | tail -2
lib timeout 60 "$B/tests/ember_distributed_tests" "[cuda]" | tail -2
lib timeout 60 scripts/ember_launch.sh -n 3 "$B/tests/ember_distributed_tests" "[bootstrap]" | tail -8; echo "exit ${PIPESTATUS[0]}"
step memcheck; lib timeout 150 compute-sanitizer --tool memcheck --leak-check full --error-exitcode 9 "$B/tests/ember_cuda_tests" "~[autograd]" "~[oom]" | tail -4
step racecheck; lib timeout 60 compute-sanitizer --tool racecheck --error-exitcode 9 "$B/tests/ember_cuda_tests" "[elementwise],[dtype]" | tail -3
step examples; lib timeout 60 "$B/examples/simple_net" --device all | tail -6; lib timeout 30 "$B/examples/matmul" --dtype float32 | tail -4
step "launch thread idle poll (eager SimpleNet on CUDA)"
for us in 0 10 50 200; do echo "poll $us us: $(EMBER_CUDA_LAUNCH_POLL_US=$us lib timeout 60 "$B/bench/simple_net_bench" --device cuda --mode eager --runs 3 | grep -E '^cuda:0')"; done
step "A/B: $BASE then $B, interleaved"; timeout 150 scripts/device_ab.sh "$B" "$BASE" 2
step "Ember beside PyTorch"; lib timeout 150 python3 bench/compare.py --bin "$B" --quick | tail -30
step done
