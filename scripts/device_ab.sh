#!/usr/bin/env bash
# On a GPU machine: the same benchmarks from two builds made by scripts/make_devbin.sh (say, a change
# and the commit before it), interleaved so that both see the same machine state, then the new one
# beside PyTorch (bench/compare.py). Usage: scripts/device_ab.sh NEW_DIR BASE_DIR [ROUNDS]
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
NEW=$1 BASE=$2 ROUNDS=${3:-3}
# Each build runs against its own libember.so.
with() { local dir=$1; shift; LD_LIBRARY_PATH="$PWD/$dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$dir/$@"; }
for round in $(seq "$ROUNDS"); do
  for side in "$BASE" "$NEW"; do
    echo "=== round $round: $side ==="
    with "$side" bench/simple_net_bench --runs 3 | grep -E '^(cpu|cuda:0)'
    with "$side" bench/mlp_bench --runs 3 | grep -E '^\s+(float32 \(IEEE\)|TF32)'
    [ -x "$side/bench/activation_bench" ] && with "$side" bench/activation_bench | grep -iE 'relu|tanh|sigmoid'
    [ -x "$side/bench/cpu_elementwise_bench" ] && with "$side" bench/cpu_elementwise_bench --runs 3 | tail -n +2
  done
done
