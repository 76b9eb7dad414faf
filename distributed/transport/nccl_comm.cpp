// NCCL as the transport for CUDA tensors (see nccl_comm.h).
#include "ember/distributed/transport/nccl_comm.h"

#include <cuda_runtime.h>
#include <nccl.h>

#include <string>

#include "ember/core/log.h"
#include "ember/kernels/cuda/check.h"
#include "ember/kernels/cuda/device.h"
#include "ember/kernels/cuda/handles.h"
#include "ember/kernels/device_runtime.h"

namespace ember::distributed::detail {

using kernels::cuda_impl::DeviceGuard;

bool nccl_compiled() { return true; }

namespace {

void check_nccl(ncclResult_t result, const char* call, ncclComm_t comm = nullptr) {
  if (result == ncclSuccess) [[likely]] return;
  std::string detail = ncclGetErrorString(result);
  if (const char* last = ncclGetLastError(comm); last && *last) detail += std::string(": ") + last;
  EMBER_FAIL("distributed: ", call, " failed: ", detail, " (run with NCCL_DEBUG=WARN for NCCL's own report)");
}

ncclDataType_t nccl_type(DType dtype) {
  switch (dtype) {
    case DType::Float32: return ncclFloat32;
    case DType::Float64: return ncclFloat64;
    default: break;  // the storage-only dtypes
  }
  EMBER_FAIL("distributed: NCCL collectives do not support dtype ", dtype_name(dtype));
}

ncclRedOp_t nccl_op(ReduceOp op) {
  switch (op) {
    case ReduceOp::Sum: return ncclSum;
    case ReduceOp::Avg: return ncclAvg;
    case ReduceOp::Max: return ncclMax;
    case ReduceOp::Min: return ncclMin;
  }
  return ncclSum;
}

using kernels::cuda_impl::Event;

// The stream the device's ops run in, from the device runtime: ordered after every op queued so
// far (kernels/device_runtime.h). NCCL's work waits for it, and it waits for NCCL's, by events.
cudaStream_t compute_stream(int device) {
  return static_cast<cudaStream_t>(kernels::runtime(Device::cuda(device)).native_stream(device));
}

Event record_event(cudaStream_t stream) {
  cudaEvent_t event = nullptr;
  EMBER_CUDA_CHECK(cudaEventCreateWithFlags(&event, cudaEventDisableTiming));
  Event owned(event);
  EMBER_CUDA_CHECK(cudaEventRecord(event, stream));
  return owned;
}

// A collective queued on the communicator's stream; wait() orders the device's stream after it.
class NcclWork final : public Work {
 public:
  NcclWork(Tensor t, Event done, int device) : tensor_(std::move(t)), done_(std::move(done)), device_(device) {}
  ~NcclWork() override {
    try {
      wait();
    } catch (const std::exception& e) {
      logging::error("distributed: waiting for an NCCL collective failed: {}", e.what());
    }
  }

  void wait() override {
    if (waited_) return;
    waited_ = true;
    DeviceGuard guard(device_);
    // The device's stream as of now: after the launches queued so far (launch_queue.h).
    EMBER_CUDA_CHECK(cudaStreamWaitEvent(compute_stream(device_), done_.get(), 0));
  }

  bool is_completed() override {
    const cudaError_t status = cudaEventQuery(done_.get());
    if (status == cudaErrorNotReady) return false;
    EMBER_CUDA_CHECK(status);
    return true;
  }

 private:
  Tensor tensor_;  // its memory is not reused (on the device's stream) before wait()
  Event done_;
  int device_;
  bool waited_ = false;
};

}  // namespace

struct NcclComm::State {
  int device = 0;
  ncclComm_t comm = nullptr;
  kernels::cuda_impl::Stream stream;  // NCCL's own, so collectives overlap with compute

  ~State() {
    if (!comm) return;
    DeviceGuard guard(device);
    (void)cudaStreamSynchronize(stream.get());
    (void)ncclCommDestroy(comm);
  }
};

NcclComm::NcclComm(Bootstrap& bootstrap, int rank, int world_size, int device)
    : state_(std::make_unique<State>()) {
  state_->device = device;
  ncclUniqueId id{};
  if (rank == 0) check_nccl(ncclGetUniqueId(&id), "ncclGetUniqueId");
  bootstrap.broadcast_bytes(&id, sizeof id, 0);
  DeviceGuard guard(device);
  compute_stream(device);  // the device's own stream and allocator exist first
  cudaStream_t stream = nullptr;
  EMBER_CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  state_->stream.reset(stream);
  check_nccl(ncclCommInitRank(&state_->comm, world_size, id, rank), "ncclCommInitRank");
  int version = 0;
  (void)ncclGetVersion(&version);
  logging::info("distributed: NCCL {} communicator, rank {} of {} on cuda:{}", version, rank,
                world_size, device);
}

NcclComm::~NcclComm() = default;

int NcclComm::device() const { return state_->device; }

std::unique_ptr<Work> NcclComm::all_reduce(Tensor& t, ReduceOp op) {
  DeviceGuard guard(state_->device);
  cudaStream_t compute = compute_stream(state_->device);
  const Event inputs_ready = record_event(compute);
  EMBER_CUDA_CHECK(cudaStreamWaitEvent(state_->stream.get(), inputs_ready.get(), 0));
  check_nccl(ncclAllReduce(t.raw_data(), t.raw_data(), static_cast<std::size_t>(t.numel()),
                           nccl_type(t.dtype()), nccl_op(op), state_->comm, state_->stream.get()),
             "ncclAllReduce", state_->comm);
  return std::make_unique<NcclWork>(t, record_event(state_->stream.get()), state_->device);
}

void NcclComm::broadcast(Tensor& t, int root) {
  DeviceGuard guard(state_->device);
  cudaStream_t compute = compute_stream(state_->device);
  // On the device's own stream: a broadcast is not overlapped with anything.
  check_nccl(ncclBroadcast(t.raw_data(), t.raw_data(), static_cast<std::size_t>(t.numel()),
                           nccl_type(t.dtype()), root, state_->comm, compute),
             "ncclBroadcast", state_->comm);
}

}  // namespace ember::distributed::detail
