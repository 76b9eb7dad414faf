#!/usr/bin/env bash
# Issue 14's GPU-machine calls (convolution, pooling, batch norm, the Fashion-MNIST CNN), each fitting
# one 10-minute device call, logs to $OUT/cnn-<mode>.log:
#
#   scripts/device_cnn.sh check [.devbin]   the whole ctest list, compute-sanitizer (memcheck,
#                                           racecheck, synccheck) on the new GPU tests, and the
#                                           example for 5 epochs on CUDA beside PyTorch's run of it
#   scripts/device_cnn.sh bench [.devbin]   the CNN step on CUDA (TF32 on and off) and the CPU (1 and
#                                           16 threads), and ResNet-18, each beside PyTorch
#
# Fashion-MNIST is carried in .refdata/fashion-mnist (the GPU machine has no Debian data package).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
MODE=${1:?check or bench} B=${2:-.devbin}
OUT=${OUT:-/tmp/ember-device}
DATA=.refdata/fashion-mnist
mkdir -p "$OUT"
exec > >(tee "$OUT/cnn-$MODE.log") 2>&1
export NCCL_NVLS_ENABLE=0 EMBER_TEST_DATA_DIR=$PWD/tests/data EMBER_FASHION_MNIST_DIR=$PWD/$DATA
step() { printf '\n=== %s (%s s) ===\n' "$*" "$SECONDS"; }
lib() { LD_LIBRARY_PATH="$PWD/$B" "$@"; }
NEW="[conv],[cudnn],[pool],[batch_norm],[fashion_cnn],[classification]"

step device; nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import torch; print('torch', torch.__version__, 'cudnn', torch.backends.cudnn.version())"
if [ "$MODE" = check ]; then
  step "whole ctest list (every line in ctest.log)"
  timeout 240 python3 scripts/device_ctest.py "$B" > "$OUT/ctest.log" 2>&1
  grep -E "^[0-9]+ passed|\((exit|timeout)" "$OUT/ctest.log"
  step memcheck; lib timeout 120 compute-sanitizer --tool memcheck --leak-check full --error-exitcode 9 "$B/tests/ember_cuda_tests" "$NEW" | tail -4
  step racecheck; lib timeout 200 compute-sanitizer --tool racecheck --error-exitcode 9 "$B/tests/ember_cuda_tests" "$NEW" | tail -3
  step synccheck; lib timeout 100 compute-sanitizer --tool synccheck --error-exitcode 9 "$B/tests/ember_cuda_tests" "$NEW" | tail -3
  [ "${SANITIZERS_ONLY:-0}" = 1 ] && { step done; exit 0; }
  step "examples/fashion_mnist on CUDA, 5 epochs"; lib timeout 90 "$B/examples/fashion_mnist" --device cuda --epochs 5 --checkpoint "$OUT/fashion_mnist.ckpt" | tail -9
  step "PyTorch, the same recipe"; timeout 90 python3 bench/torch_fashion_cnn.py train --device cuda --epochs 5 --data "$DATA" | tail -7
  step "simple_net"; lib timeout 60 "$B/examples/simple_net" --device all | tail -4
else
  step "CNN step on CUDA, batch 128, Adam"
  for tf32 in 1 0; do
    lib timeout 60 "$B/bench/fashion_cnn_bench" --device cuda --tf32 $tf32 --steps 200 --runs 5
    timeout 60 python3 bench/torch_fashion_cnn.py step --device cuda --tf32 $tf32 --steps 200 --runs 5
  done
  step "CNN step on the CPU"
  for t in 1 16; do
    lib timeout 90 "$B/bench/fashion_cnn_bench" --device cpu --threads $t --steps 10 --runs 3 --warmup 2
    timeout 90 python3 bench/torch_fashion_cnn.py step --device cpu --threads $t --steps 10 --runs 3 --warmup 2
  done
  step "ResNet-18 (CIFAR), batch 256, SGD Nesterov"
  lib timeout 90 "$B/bench/resnet_bench" --tf32 1
  timeout 90 python3 bench/torch_resnet.py --tf32 1
  lib timeout 90 "$B/bench/resnet_bench" --tf32 1 --benchmark 1
  timeout 90 python3 bench/torch_resnet.py --tf32 1 --benchmark 1
  timeout 90 python3 bench/torch_resnet.py --bf16-channels-last
  timeout 150 python3 bench/torch_resnet.py --tf32 1 --compile
fi
step done
