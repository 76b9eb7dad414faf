#!/usr/bin/env bash
# On a machine with several GPUs, from .devbin/ (scripts/make_devbin.sh): the GPU tests (and
# compute-sanitizer memcheck on them), the single-GPU step benchmarks beside PyTorch, the
# distributed tests through NCCL on 1 rank and on every power of two up to the GPU count (one
# process per GPU, started by scripts/ember_launch.sh), compute-sanitizer on the 1-rank run,
# ddp_train with its replica check, and the data-parallel MLP scaling of Ember and of PyTorch's
# DistributedDataParallel in the same call. Logs go to $OUT (or /tmp/ember-device).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
B=${1:-.devbin}
# NVLink multicast stays off on the lent machines (it can take their GPUs out of service).
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
# libnccl: the CUDA toolkit's if it has one, else the one PyTorch ships.
torch_nccl=$(python3 -c 'import nvidia.nccl, os; print(os.path.join(list(nvidia.nccl.__path__)[0], "lib"))' 2>/dev/null || true)
export LD_LIBRARY_PATH="$PWD/$B${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}${torch_nccl:+:$torch_nccl}"
OUT=${OUT:-/tmp/ember-device}
mkdir -p "$OUT"
step() { printf '\n=== %s ===\n' "$*"; }
run() { echo "+ $*"; "$@"; echo "(exit $?)"; }

gpus=$(nvidia-smi -L | wc -l)
step device; nvidia-smi -L; nvidia-smi topo -m 2>/dev/null | head -3
ldd "$B/libember.so" | grep -E "nccl|not found"
counts=(); for n in 2 4 8; do ((n <= gpus)) && counts+=("$n"); done

step GPU tests; run timeout 150 "$B/tests/ember_cuda_tests"
# As in device_run.sh: the float64 gradcheck is too slow under the tool, the OOM test fails on purpose.
step "memcheck, GPU tests"
run timeout 240 compute-sanitizer --tool memcheck --leak-check full --error-exitcode 9 "$B/tests/ember_cuda_tests" "~[autograd]" "~[oom]"
step "single-GPU steps: Ember, then PyTorch"
run "$B/bench/simple_net_bench" --device cuda
run "$B/bench/mlp_bench"
run python3 bench/torch_reference.py --only simple_net,mlp
step "distributed, 1 rank (NCCL)"; run "$B/tests/ember_distributed_tests" "[cuda]"
# NCCL's start-up probes kernels built for other GPUs and gets cudaErrorNoKernelImageForDevice,
# which it handles; --report-api-errors no keeps those out of the count (memory errors still count).
step "memcheck, distributed 1 rank"
run timeout 150 compute-sanitizer --tool memcheck --report-api-errors no --error-exitcode 9 "$B/tests/ember_distributed_tests" "[cuda]"
for n in "${counts[@]}"; do
  step "distributed, $n ranks (NCCL)"
  run timeout 300 scripts/ember_launch.sh -n "$n" "$B/tests/ember_distributed_tests" "[cuda],[bootstrap]"
done
step ddp_train
for n in 1 "${counts[@]}"; do run timeout 300 scripts/ember_launch.sh -n "$n" "$B/examples/ddp_train" --device cuda --check; done

step "MLP scaling: Ember and PyTorch DistributedDataParallel, batch 4096 per GPU"
for precision in "" --tf32; do
  run "$B/bench/ddp_mlp_bench" --no-ddp $precision
  run python3 bench/torch_ddp_reference.py --no-ddp --fused $precision
  for n in 1 "${counts[@]}"; do
    run timeout 300 scripts/ember_launch.sh -n "$n" "$B/bench/ddp_mlp_bench" $precision
    run timeout 300 torchrun --standalone --nproc_per_node "$n" bench/torch_ddp_reference.py --fused $precision
  done
done
