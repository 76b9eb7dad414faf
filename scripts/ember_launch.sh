#!/usr/bin/env bash
# Starts N ranks of a program on this machine with the environment that torchrun --standalone
# sets: RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT. ember::distributed::ProcessGroup
# reads them; rank 0 listens on MASTER_PORT for the others. Use it for CUDA ranks (NCCL) where
# there is no mpirun; CPU tensors need mpirun (MPI).
#
#   scripts/ember_launch.sh -n 4 build/examples/ddp_train --device cuda
#
# CUDA ranks need a GPU each (NCCL refuses two ranks on one GPU): use at most as many ranks as
# GPUs; ProcessGroup says so if there are more.
#
# Exits with the first failing rank's status (the other ranks are stopped then, unless it is 77,
# CTest's skip), else 0.
# NVLink multicast stays off (NCCL_NVLS_ENABLE=0) unless the caller's environment sets it.
set -uo pipefail

usage() { echo "usage: $0 -n RANKS [--port PORT] PROGRAM [ARGS...]" >&2; exit 2; }
ranks=""
port="${MASTER_PORT:-$((20000 + RANDOM % 20000))}"
while [[ $# -gt 0 ]]; do
  case "$1" in
    -n) ranks="$2"; shift 2 ;;
    --port) port="$2"; shift 2 ;;
    --) shift; break ;;
    -*) usage ;;
    *) break ;;
  esac
done
[[ -n "$ranks" && "$ranks" =~ ^[0-9]+$ && "$ranks" -ge 1 && $# -ge 1 ]] || usage

export WORLD_SIZE="$ranks" LOCAL_WORLD_SIZE="$ranks" MASTER_ADDR="${MASTER_ADDR:-127.0.0.1}" MASTER_PORT="$port"
export NCCL_NVLS_ENABLE="${NCCL_NVLS_ENABLE:-0}"
pids=()
for ((r = 0; r < ranks; r++)); do
  RANK=$r LOCAL_RANK=$r "$@" &
  pids+=($!)
done
trap 'kill "${pids[@]}" 2>/dev/null' INT TERM

status=0
remaining=$ranks
while ((remaining > 0)); do
  wait -n  # any rank
  rc=$?
  remaining=$((remaining - 1))
  if ((rc != 0 && status == 0)); then
    status=$rc
    # One rank failed: the others would wait for it in a collective forever.
    ((rc != 77)) && kill "${pids[@]}" 2>/dev/null
  fi
done
exit "$status"
