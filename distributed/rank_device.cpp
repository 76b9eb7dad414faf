// rank_device: the one-rank-per-GPU rule, checked before NCCL sees the ranks.
#include "ember/distributed/rank_device.h"

#include "ember/core/error.h"

namespace ember::distributed {

Device rank_device(int local_rank, int local_world_size, int gpu_count) {
  EMBER_CHECK(
      local_world_size >= 1 && local_rank >= 0 && local_rank < local_world_size && gpu_count >= 0,
      "distributed::rank_device: local rank ", local_rank, " of ", local_world_size, " with ",
      gpu_count, " GPUs is not a valid rank and count");
  if (gpu_count == 0) return Device::cpu();
  // Not local_rank % gpu_count: two ranks on one GPU make NCCL fail later, on every rank. Every
  // rank refuses, also those whose index fits, so that none waits in NCCL for the others.
  const char* gpus = gpu_count == 1 ? " GPU" : " GPUs";
  const char* ranks = gpu_count == 1 ? " rank" : " ranks";
  EMBER_CHECK(local_world_size <= gpu_count, "distributed: this host runs ", local_world_size,
              " ranks but has ", gpu_count, gpus, " (this is local rank ", local_rank,
              "), and NCCL needs a GPU of its own for each rank; start at most ", gpu_count, ranks,
              " per host for CUDA tensors, or keep the tensors on the CPU and start the ranks with "
              "mpirun (MPI)");
  return Device::cuda(local_rank);
}

}  // namespace ember::distributed
