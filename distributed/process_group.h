// ember::distributed: a group of processes ("ranks") that train one model together, and the
// collectives they use on tensors. Ember brings no transport of its own: CUDA tensors go through
// NCCL, CPU tensors through MPI (Open MPI), as in PyTorch's "nccl" and "mpi" backends.
//
//   auto group = ember::distributed::ProcessGroup::init();  // from mpirun, or torchrun-style env
//   Device dev = group->device();                           // cuda:LOCAL_RANK, or cpu
//   group->all_reduce(t, ReduceOp::Sum);                    // in place, on every rank
//   group->broadcast(t, 0);
//   group->barrier();
//
// How the group finds its peers:
//   - environment variables, as torchrun and most cluster launchers set them: RANK, WORLD_SIZE,
//     LOCAL_RANK (default: RANK), LOCAL_WORLD_SIZE (default: WORLD_SIZE without LOCAL_RANK, else
//     LOCAL_RANK + 1), MASTER_ADDR, MASTER_PORT. Rank 0 listens on MASTER_PORT and the others
//     connect to it once, to exchange NCCL's identifier; scripts/ember_launch.sh starts N local
//     ranks this way;
//   - MPI, when the process was started by mpirun/mpiexec (and Ember was built with MPI);
//   - neither: a group of one process, so the same program runs unchanged on its own.
//
// Every rank must call the same collectives in the same order, with tensors of the same shape
// and dtype, as with NCCL and MPI themselves. On CUDA, a collective is queued on the device's
// stream like any other op: later ops on that device see its result, and the host does not wait.
// On the CPU, it returns when the result is there.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "ember/autograd/tensor.h"

namespace ember::distributed {

enum class ReduceOp { Sum, Avg, Max, Min };
const char* to_string(ReduceOp op);

// Which of the two transports carry the group's collectives, for messages and logs.
struct Backends {
  bool mpi = false;   // CPU tensors (the process was started by mpirun and Ember has MPI)
  bool nccl = false;  // CUDA tensors (Ember was built with NCCL and this rank has a GPU of its own)
};

// An asynchronous collective, started by all_reduce_async. wait() makes its result visible:
// on CUDA it orders the device's stream after the collective (the host does not wait); on the
// CPU it blocks until MPI is done. Destroying a Work that was not waited for waits.
class Work {
 public:
  virtual ~Work() = default;
  virtual void wait() = 0;
  // True once the collective has finished; never blocks. (With MPI, asking also lets MPI make
  // progress on it.)
  virtual bool is_completed() = 0;
};

struct InitOptions {
  // How long a rank waits for its peers at start-up (connecting, exchanging identifiers).
  std::chrono::seconds timeout{300};
};

class ProcessGroup {
 public:
  // Joins the group the launcher set up (see above). At most one group per process.
  static std::shared_ptr<ProcessGroup> init(const InitOptions& options = {});

  virtual ~ProcessGroup() = default;
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  int rank() const { return rank_; }
  int world_size() const { return world_size_; }
  int local_rank() const { return local_rank_; }
  // How many ranks of the group run on this host (LOCAL_WORLD_SIZE, or what mpirun says).
  int local_world_size() const { return local_world_size_; }
  // The device this rank should train on: cuda:<local_rank> when the host has GPUs, else cpu.
  // NCCL needs one GPU per rank: with GPUs, but fewer than local_world_size(), this (and the first
  // collective on a CUDA tensor) throws ember::Error saying so; CPU tensors under MPI still work.
  Device device() const;
  // How the group was set up ("mpi", "env" or "single") and which transports it has.
  const std::string& launcher() const { return launcher_; }
  virtual Backends backends() const = 0;
  // Whether this host has a GPU for each of its local ranks, as NCCL needs.
  bool has_own_gpu() const;

  // Reduces `t` over all ranks in place: every rank ends with the same result. `t` must be
  // contiguous; CUDA tensors must be on this rank's device().
  void all_reduce(Tensor& t, ReduceOp op = ReduceOp::Sum);
  std::unique_ptr<Work> all_reduce_async(Tensor& t, ReduceOp op = ReduceOp::Sum);
  // Copies `t` of rank `root` into `t` of every other rank.
  void broadcast(Tensor& t, int root = 0);
  // Returns when every rank has entered it (and, on CUDA, the device work queued before it on
  // every rank is done).
  virtual void barrier() = 0;

 protected:
  ProcessGroup(int rank, int world_size, int local_rank, int local_world_size, std::string launcher);

  // Transports: contiguous tensors of this rank, already checked.
  virtual std::unique_ptr<Work> all_reduce_impl(Tensor& t, ReduceOp op) = 0;
  virtual void broadcast_impl(Tensor& t, int root) = 0;

 private:
  void check_tensor(const Tensor& t, const char* op) const;

  int rank_;
  int world_size_;
  int local_rank_;
  int local_world_size_;
  std::string launcher_;
};

}  // namespace ember::distributed
