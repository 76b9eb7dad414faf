// An NCCL communicator over the group's ranks, one GPU each: CUDA tensors' collectives. It runs
// them on a stream of its own, ordered after the work already queued on the device's stream and
// before the work queued after wait(), so that DistributedDataParallel's all-reduces overlap with
// the rest of backward. Compiled from nccl_comm.cpp with NCCL, or nccl_unavailable.cpp.
#pragma once

#include <memory>

#include "ember/autograd/tensor.h"
#include "ember/distributed/transport/bootstrap.h"
#include "ember/distributed/process_group.h"

namespace ember::distributed::detail {

bool nccl_compiled();

class NcclComm {
 public:
  // Collective: every rank constructs one, with its own rank and device. `bootstrap` carries the
  // identifier from rank 0.
  NcclComm(Bootstrap& bootstrap, int rank, int world_size, int device);
  ~NcclComm();
  NcclComm(const NcclComm&) = delete;
  NcclComm& operator=(const NcclComm&) = delete;

  int device() const;
  std::unique_ptr<Work> all_reduce(Tensor& t, ReduceOp op);
  void broadcast(Tensor& t, int root);

  struct State;

 private:
  std::unique_ptr<State> state_;
};

}  // namespace ember::distributed::detail
