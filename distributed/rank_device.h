// Which device a rank of a process group trains on: one GPU per local rank. NCCL refuses two
// ranks of one communicator on the same GPU, so a host with more ranks than GPUs has no valid
// mapping; saying so here, in terms of the counts, beats NCCL's "Duplicate GPU detected" after
// every rank has started. A pure function of the counts, so that it is testable without GPUs.
#pragma once

#include "ember/core/device.h"

namespace ember::distributed {

// The device of local rank `local_rank` of the `local_world_size` ranks on this host, which has
// `gpu_count` GPUs: the CPU when there is no GPU, else cuda:<local_rank>. Throws ember::Error
// naming the counts when there are GPUs but fewer than local ranks (run at most one rank per
// GPU, or use CPU tensors under mpirun), or when the arguments are not counts.
Device rank_device(int local_rank, int local_world_size, int gpu_count);

}  // namespace ember::distributed
