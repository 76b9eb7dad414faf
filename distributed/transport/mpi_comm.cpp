// MPI_COMM_WORLD as the transport for CPU tensors (see mpi_comm.h).
#include "ember/distributed/transport/mpi_comm.h"

#include <mpi.h>

#include <climits>
#include <string>

#include "ember/core/log.h"
#include "ember/core/ops.h"
#include "ember/kernels/registry.h"

namespace ember::distributed::detail {

bool mpi_compiled() { return true; }

namespace {

void check_mpi(int code, const char* call) {
  if (code == MPI_SUCCESS) [[likely]] return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  EMBER_FAIL("distributed: ", call, " failed: ", std::string(text, static_cast<std::size_t>(length)));
}

MPI_Datatype mpi_type(DType dtype) {
  switch (dtype) {
    case DType::Float32: return MPI_FLOAT;
    case DType::Float64: return MPI_DOUBLE;
    default: break;  // the storage-only dtypes
  }
  EMBER_FAIL("distributed: MPI collectives do not support dtype ", dtype_name(dtype));
}

int mpi_count(const Tensor& t, const char* op) {
  EMBER_CHECK(t.numel() <= INT_MAX, "ProcessGroup::", op, ": MPI takes at most ", INT_MAX,
              " elements per call; this tensor has ", t.numel());
  return static_cast<int>(t.numel());
}

MPI_Op mpi_op(ReduceOp op) {
  switch (op) {
    case ReduceOp::Max: return MPI_MAX;
    case ReduceOp::Min: return MPI_MIN;
    case ReduceOp::Sum:
    case ReduceOp::Avg: return MPI_SUM;  // MPI has no average: sum, then divide in wait()
  }
  return MPI_SUM;
}

class MpiWork final : public Work {
 public:
  MpiWork(Tensor t, MPI_Request request, double scale)
      : tensor_(std::move(t)), request_(request), scale_(scale) {}
  ~MpiWork() override {
    try {
      wait();
    } catch (const std::exception& e) {
      logging::error("distributed: an MPI all_reduce failed while its Work was destroyed: {}", e.what());
    }
  }

  void wait() override {
    if (done_) return;
    done_ = true;
    check_mpi(MPI_Wait(&request_, MPI_STATUS_IGNORE), "MPI_Wait");
    finish();
  }

  bool is_completed() override {
    if (done_) return true;
    int flag = 0;
    check_mpi(MPI_Test(&request_, &flag, MPI_STATUS_IGNORE), "MPI_Test");
    if (flag) {
      done_ = true;
      finish();
    }
    return done_;
  }

 private:
  void finish() {
    if (scale_ == 1.0) return;
    const kernels::TensorRef r = ops::ref(tensor_);
    kernels::call<kernels::Kernel::binary_scalar>(tensor_.device(), kernels::BinaryOp::Mul, r, r, scale_, false);
  }

  Tensor tensor_;  // kept alive until MPI is done with its memory
  MPI_Request request_;
  double scale_;
  bool done_ = false;
};

}  // namespace

MpiComm::MpiComm() {
  int initialized = 0, finalized = 0;
  check_mpi(MPI_Initialized(&initialized), "MPI_Initialized");
  check_mpi(MPI_Finalized(&finalized), "MPI_Finalized");
  EMBER_CHECK(!finalized, "distributed: MPI was already finalized in this process (a previous "
              "ProcessGroup ended it); keep one ProcessGroup for the whole program");
  if (!initialized) {
    int provided = 0;
    check_mpi(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided), "MPI_Init_thread");
    owns_init_ = true;
  }
  // Errors come back as codes (turned into exceptions) instead of aborting every rank.
  check_mpi(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
  check_mpi(MPI_Comm_rank(MPI_COMM_WORLD, &rank_), "MPI_Comm_rank");
  check_mpi(MPI_Comm_size(MPI_COMM_WORLD, &world_size_), "MPI_Comm_size");
  MPI_Comm host = MPI_COMM_NULL;
  check_mpi(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &host),
            "MPI_Comm_split_type");
  check_mpi(MPI_Comm_rank(host, &local_rank_), "MPI_Comm_rank");
  check_mpi(MPI_Comm_size(host, &local_world_size_), "MPI_Comm_size");
  check_mpi(MPI_Comm_free(&host), "MPI_Comm_free");
}

MpiComm::~MpiComm() {
  int finalized = 0;
  if (owns_init_ && MPI_Finalized(&finalized) == MPI_SUCCESS && !finalized) MPI_Finalize();
}

std::unique_ptr<Work> MpiComm::all_reduce(Tensor& t, ReduceOp op) {
  MPI_Request request = MPI_REQUEST_NULL;
  check_mpi(MPI_Iallreduce(MPI_IN_PLACE, t.raw_data(), mpi_count(t, "all_reduce"), mpi_type(t.dtype()),
                           mpi_op(op), MPI_COMM_WORLD, &request),
            "MPI_Iallreduce");
  const double scale = op == ReduceOp::Avg ? 1.0 / world_size_ : 1.0;
  return std::make_unique<MpiWork>(t, request, scale);
}

void MpiComm::broadcast(Tensor& t, int root) {
  check_mpi(MPI_Bcast(t.raw_data(), mpi_count(t, "broadcast"), mpi_type(t.dtype()), root, MPI_COMM_WORLD),
            "MPI_Bcast");
}

void MpiComm::broadcast_bytes(void* data, std::size_t n, int root) {
  EMBER_CHECK(n <= INT_MAX, "distributed: broadcast_bytes of ", n, " bytes is too large for MPI");
  check_mpi(MPI_Bcast(data, static_cast<int>(n), MPI_BYTE, root, MPI_COMM_WORLD), "MPI_Bcast");
}

void MpiComm::barrier() { check_mpi(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier"); }

}  // namespace ember::distributed::detail
