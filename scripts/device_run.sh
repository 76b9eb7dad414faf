#!/usr/bin/env bash
# On a GPU machine, from a build made elsewhere (default .devbin/): regenerates the PyTorch
# reference data, runs the CPU and GPU tests, compute-sanitizer (memcheck, racecheck) on the GPU
# tests, the examples and the benchmarks, and bench/compare.py's table of Ember beside PyTorch.
# Everything is logged to $OUT (or /tmp/ember-device) for the session that asked.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
B=${1:-.devbin}
export LD_LIBRARY_PATH="$PWD/$B${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
OUT=${OUT:-/tmp/ember-device}
mkdir -p "$OUT/data"
export NCCL_NVLS_ENABLE=0
step() { printf '\n=== %s ===\n' "$*"; }
run() { echo "+ $*"; "$@"; echo "(exit $?)"; }

step device; nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader; git log -1 --format=%h 2>/dev/null
step reference data; run python3 tests/reference/make_reference.py "$OUT/data"
export EMBER_TEST_DATA_DIR="$OUT/data"
step CPU tests; run "$B/tests/ember_tests"
step GPU tests; run "$B/tests/ember_cuda_tests"
# The out-of-memory test is left out: memcheck reports its deliberately failing cudaMalloc as an error.
step memcheck; run timeout 240 compute-sanitizer --tool memcheck --leak-check full --error-exitcode 9 "$B/tests/ember_cuda_tests" "~[autograd]" "~[oom]"
# racecheck slows every launch a hundredfold: the 1000-step training comparison is left out.
step racecheck; run timeout 200 compute-sanitizer --tool racecheck --error-exitcode 9 "$B/tests/ember_cuda_tests" "~[autograd]" "~SimpleNet on CUDA reaches the CPU's loss"
step examples
run "$B/examples/simple_net" --device all
run "$B/examples/matmul" --dtype float64
run "$B/examples/matmul" --dtype float32
run "$B/examples/cpu_vs_cuda" --fastest --csv "$OUT/cpu_vs_cuda.csv"
step benchmarks
run "$B/bench/simple_net_bench" --breakdown
run "$B/bench/activation_bench"
run "$B/bench/launch_floor_bench"
# Ember's SimpleNet, per-op, MLP and matmul programs, then PyTorch's same work, as one table.
step "Ember beside PyTorch"; run python3 bench/compare.py --bin "$B"
step "PyTorch, cpu_vs_cuda"; run python3 bench/torch_reference.py --only cpu_vs_cuda
