// MPI_COMM_WORLD as a transport: CPU tensors' collectives, and start-up exchange for NCCL when the
// ranks were started by mpirun. Compiled from mpi_comm.cpp with MPI, or mpi_unavailable.cpp.
#pragma once

#include <memory>

#include "ember/autograd/tensor.h"
#include "ember/distributed/transport/bootstrap.h"
#include "ember/distributed/process_group.h"

namespace ember::distributed::detail {

// Whether this build of Ember has MPI.
bool mpi_compiled();

class MpiComm final : public Bootstrap {
 public:
  MpiComm();  // MPI_Init_thread unless MPI is initialised already
  ~MpiComm() override;  // MPI_Finalize if this object initialised it
  MpiComm(const MpiComm&) = delete;
  MpiComm& operator=(const MpiComm&) = delete;

  int rank() const { return rank_; }
  int world_size() const { return world_size_; }
  int local_rank() const { return local_rank_; }  // rank among the processes of this host
  int local_world_size() const { return local_world_size_; }  // how many processes this host runs

  // CPU tensors, contiguous.
  std::unique_ptr<Work> all_reduce(Tensor& t, ReduceOp op);
  void broadcast(Tensor& t, int root);

  void broadcast_bytes(void* data, std::size_t n, int root) override;
  void barrier() override;

 private:
  int rank_ = 0;
  int world_size_ = 1;
  int local_rank_ = 0;
  int local_world_size_ = 1;
  bool owns_init_ = false;
};

}  // namespace ember::distributed::detail
