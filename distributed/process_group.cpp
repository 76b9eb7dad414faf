// ProcessGroup: finds the group from the launcher's environment and sends each tensor to its
// transport (NCCL for CUDA, MPI for the CPU).
#include "ember/distributed/process_group.h"

#include <atomic>
#include <cstdlib>
#include <optional>
#include <string>
#include <utility>

#include "ember/core/cuda.h"
#include "ember/core/grad_mode.h"
#include "ember/core/log.h"
#include "ember/distributed/rank_device.h"
#include "ember/distributed/transport/bootstrap.h"
#include "ember/distributed/transport/mpi_comm.h"
#include "ember/distributed/transport/nccl_comm.h"

namespace ember::distributed {

const char* to_string(ReduceOp op) {
  switch (op) {
    case ReduceOp::Sum: return "sum";
    case ReduceOp::Avg: return "avg";
    case ReduceOp::Max: return "max";
    case ReduceOp::Min: return "min";
  }
  return "?";
}

namespace {

std::atomic<bool> group_exists{false};

std::optional<std::string> env(const char* name) {
  const char* value = std::getenv(name);
  if (!value || !*value) return std::nullopt;
  return std::string(value);
}

int env_int(const char* name, int min_value, int max_value) {
  const std::string text = *env(name);
  std::size_t used = 0;
  long value = 0;
  try {
    value = std::stol(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  EMBER_CHECK(used == text.size() && value >= min_value && value <= max_value,
              "ProcessGroup::init: environment variable ", name, "=", text,
              " is not an integer in [", min_value, ", ", max_value, "]");
  return static_cast<int>(value);
}

bool started_by_mpirun() {
  return env("OMPI_COMM_WORLD_SIZE") || env("PMI_SIZE") || env("PMIX_RANK");
}

// One process on its own, or every rank's result is its own tensor: nothing to wait for.
class DoneWork final : public Work {
 public:
  void wait() override {}
  bool is_completed() override { return true; }
};

// A bootstrap for a group of one process.
class SingleBootstrap final : public detail::Bootstrap {
 public:
  void broadcast_bytes(void*, std::size_t, int) override {}
  void barrier() override {}
};

class Group final : public ProcessGroup {
 public:
  Group(int rank, int world_size, int local_rank, int local_world_size, std::string launcher,
        std::unique_ptr<detail::MpiComm> mpi, std::unique_ptr<detail::Bootstrap> bootstrap)
      : ProcessGroup(rank, world_size, local_rank, local_world_size, std::move(launcher)),
        mpi_(std::move(mpi)),
        bootstrap_(std::move(bootstrap)) {}

  ~Group() override {
    nccl_.reset();  // before the bootstrap and MPI it was set up with
    group_exists = false;
  }

  Backends backends() const override {
    return {mpi_ != nullptr, detail::nccl_compiled() && has_own_gpu()};
  }

  void barrier() override {
    if (nccl_) cuda::synchronize();
    startup().barrier();
  }

 protected:
  std::unique_ptr<Work> all_reduce_impl(Tensor& t, ReduceOp op) override {
    if (t.is_cuda()) return nccl(t.device(), "all_reduce").all_reduce(t, op);
    if (mpi_) return mpi_->all_reduce(t, op);
    check_single("all_reduce");
    return std::make_unique<DoneWork>();  // one rank: sum, avg, max and min are the identity
  }

  void broadcast_impl(Tensor& t, int root) override {
    if (t.is_cuda()) return nccl(t.device(), "broadcast").broadcast(t, root);
    if (mpi_) return mpi_->broadcast(t, root);
    check_single("broadcast");
  }

 private:
  detail::Bootstrap& startup() {
    if (mpi_) return *mpi_;
    return *bootstrap_;
  }

  void check_single(const char* op) const {
    EMBER_CHECK(world_size() == 1, "ProcessGroup::", op, ": CPU tensors are reduced through MPI, "
                "but this group of ", world_size(), " ranks was set up from environment variables "
                "(", launcher(), "); start the ranks with mpirun to use CPU tensors",
                backends().nccl ? ", or move the tensors to this rank's GPU to use NCCL" : "");
  }

  detail::NcclComm& nccl(Device d, const char* op) {
    EMBER_CHECK(detail::nccl_compiled(), "ProcessGroup::", op, ": CUDA tensors go through NCCL, "
                "and this build of Ember has no NCCL (it was not found at configure time)");
    if (!nccl_) {
      const Device own = device();
      EMBER_CHECK(d == own, "ProcessGroup::", op, ": the tensor is on ", d, ", but rank ", rank(),
                  " (local rank ", local_rank(), ") uses ", own, "; move it with .to(group->device())");
      logging::info("distributed: rank {}/{} starts NCCL on {}", rank(), world_size(), d.index());
      nccl_ = std::make_unique<detail::NcclComm>(startup(), rank(), world_size(), d.index());
    }
    EMBER_CHECK(d.index() == nccl_->device(), "ProcessGroup::", op, ": the tensor is on ", d,
                ", but this rank's NCCL communicator is on cuda:", nccl_->device());
    return *nccl_;
  }

  std::unique_ptr<detail::MpiComm> mpi_;
  std::unique_ptr<detail::Bootstrap> bootstrap_;
  std::unique_ptr<detail::NcclComm> nccl_;  // created by the first CUDA collective
};

}  // namespace

ProcessGroup::ProcessGroup(int rank, int world_size, int local_rank, int local_world_size,
                           std::string launcher)
    : rank_(rank),
      world_size_(world_size),
      local_rank_(local_rank),
      local_world_size_(local_world_size),
      launcher_(std::move(launcher)) {}

Device ProcessGroup::device() const {
  const int gpus = cuda::is_available() ? cuda::device_count() : 0;
  return rank_device(local_rank_, local_world_size_, gpus);
}

bool ProcessGroup::has_own_gpu() const {
  return cuda::is_available() && local_world_size_ <= cuda::device_count();
}

std::shared_ptr<ProcessGroup> ProcessGroup::init(const InitOptions& options) {
  EMBER_CHECK(!group_exists.exchange(true), "ProcessGroup::init: this process already has a "
              "group; keep the first one (one group per process)");
  try {
    std::unique_ptr<detail::MpiComm> mpi;
    if (started_by_mpirun()) {
      EMBER_CHECK(detail::mpi_compiled(), "ProcessGroup::init: the process was started by mpirun, "
                  "but this build of Ember has no MPI; install Open MPI (libopenmpi-dev) and "
                  "rebuild, or launch with RANK/WORLD_SIZE/MASTER_ADDR/MASTER_PORT instead");
      mpi = std::make_unique<detail::MpiComm>();
    }
    std::shared_ptr<ProcessGroup> group;
    if (env("RANK") || env("WORLD_SIZE")) {
      EMBER_CHECK(env("RANK") && env("WORLD_SIZE"), "ProcessGroup::init: set both RANK and "
                  "WORLD_SIZE (only one of them is set)");
      const int world = env_int("WORLD_SIZE", 1, 1 << 20);
      const int rank = env_int("RANK", 0, world - 1);
      const int local = env("LOCAL_RANK") ? env_int("LOCAL_RANK", 0, world - 1) : rank;
      // Without LOCAL_RANK every rank is taken to be on this host; with LOCAL_RANK but no
      // LOCAL_WORLD_SIZE (torchrun sets both), local + 1 is the least this host can hold.
      const int local_world = env("LOCAL_WORLD_SIZE") ? env_int("LOCAL_WORLD_SIZE", local + 1, world)
                              : env("LOCAL_RANK")     ? local + 1
                                                      : world;
      EMBER_CHECK(!mpi || (mpi->rank() == rank && mpi->world_size() == world),
                  "ProcessGroup::init: RANK=", rank, " WORLD_SIZE=", world, " disagree with "
                  "mpirun's rank ", mpi ? mpi->rank() : 0, " of ", mpi ? mpi->world_size() : 0);
      std::unique_ptr<detail::Bootstrap> bootstrap;
      if (!mpi && world > 1) {
        EMBER_CHECK(env("MASTER_ADDR") && env("MASTER_PORT"), "ProcessGroup::init: WORLD_SIZE=",
                    world, " needs MASTER_ADDR and MASTER_PORT (rank 0's address and a free port)");
        EMBER_CHECK(!env("TORCHELASTIC_USE_AGENT_STORE") || *env("TORCHELASTIC_USE_AGENT_STORE") != "True",
                    "ProcessGroup::init: under torchrun, MASTER_PORT is taken by torchrun's own "
                    "store; start the ranks with scripts/ember_launch.sh or mpirun instead");
        bootstrap = detail::tcp_bootstrap(rank, world, *env("MASTER_ADDR"),
                                          env_int("MASTER_PORT", 1, 65535), options.timeout);
      } else if (!mpi) {
        bootstrap = std::make_unique<SingleBootstrap>();
      }
      group = std::make_shared<Group>(rank, world, local, local_world, "env", std::move(mpi),
                                      std::move(bootstrap));
    } else if (mpi) {
      const int rank = mpi->rank(), world = mpi->world_size(), local = mpi->local_rank();
      const int local_world = mpi->local_world_size();
      group = std::make_shared<Group>(rank, world, local, local_world, "mpi", std::move(mpi), nullptr);
    } else {
      group = std::make_shared<Group>(0, 1, 0, 1, "single", nullptr, std::make_unique<SingleBootstrap>());
    }
    logging::info("distributed: rank {} of {} (local rank {} of {}), set up by {}", group->rank(),
                  group->world_size(), group->local_rank(), group->local_world_size(), group->launcher());
    if (detail::nccl_compiled() && cuda::is_available() && !group->has_own_gpu()) {
      // Not an error yet: CPU tensors under MPI need no GPU. device() and CUDA collectives throw.
      logging::warn("distributed: {} ranks on this host but {} GPUs: NCCL needs one GPU per rank, so "
                    "CUDA tensors cannot be reduced; use CPU tensors (mpirun) or fewer ranks",
                    group->local_world_size(), cuda::device_count());
    }
    return group;
  } catch (...) {
    group_exists = false;
    throw;
  }
}

void ProcessGroup::check_tensor(const Tensor& t, const char* op) const {
  EMBER_CHECK(t.defined(), "ProcessGroup::", op, ": undefined tensor");
  EMBER_CHECK(t.is_contiguous(), "ProcessGroup::", op, ": the tensor (shape ", t.shape(),
              ") must be contiguous; call .contiguous() and copy the result back");
  EMBER_CHECK(!(t.requires_grad() && t.is_leaf()) || !GradMode::is_enabled(), "ProcessGroup::", op,
              ": writes its tensor in place, and this one (shape ", t.shape(), ") is a leaf that "
              "requires grad; wrap the call in ember::NoGradGuard");
}

void ProcessGroup::all_reduce(Tensor& t, ReduceOp op) { all_reduce_async(t, op)->wait(); }

std::unique_ptr<Work> ProcessGroup::all_reduce_async(Tensor& t, ReduceOp op) {
  check_tensor(t, "all_reduce");
  if (t.numel() == 0) return std::make_unique<DoneWork>();
  return all_reduce_impl(t, op);
}

void ProcessGroup::broadcast(Tensor& t, int root) {
  check_tensor(t, "broadcast");
  EMBER_CHECK(root >= 0 && root < world_size_, "ProcessGroup::broadcast: root ", root,
              " is not a rank of this group of ", world_size_);
  if (t.numel() == 0) return;
  broadcast_impl(t, root);
}

}  // namespace ember::distributed
