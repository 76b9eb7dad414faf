// ember::cuda::capture (core/cuda_graph.h) on the CUDA runtime's stream capture.
#include <cuda_runtime.h>

#include <string>
#include <utility>

#include "ember/core/cuda.h"
#include "ember/core/cuda_graph.h"
#include "ember/core/error.h"
#include "ember/core/log.h"
#include "ember/kernels/cuda/check.h"
#include "ember/kernels/cuda/device.h"
#include "ember/kernels/cuda/runtime.h"

namespace ember::cuda {

namespace impl = ember::kernels::cuda_impl;

struct Graph::State {
  int device = 0;
  int pool = 0;  // the allocator's private pool holding the graph's tensors
  cudaGraph_t graph = nullptr;
  cudaGraphExec_t exec = nullptr;
  std::vector<TensorBase> inputs;
  std::size_t nodes = 0;

  State() = default;
  State(const State&) = delete;
  State& operator=(const State&) = delete;
  ~State() {
    if (!impl::runtime_alive()) return;  // at exit, after the runtime: the driver cleans up
    const impl::DeviceGuard guard(device);
    // A replay may still be running and using the pool's memory.
    if (impl::DeviceContext* ctx = impl::existing_context(device)) (void)cudaStreamSynchronize(ctx->stream_noexcept());
    if (exec) (void)cudaGraphExecDestroy(exec);
    if (graph) (void)cudaGraphDestroy(graph);
    impl::allocator().release_pool(device, pool);
  }
};

Graph::Graph(std::unique_ptr<State> state) : state_(std::move(state)) {}
Graph::Graph(Graph&&) noexcept = default;
Graph& Graph::operator=(Graph&&) noexcept = default;
Graph::~Graph() = default;

void Graph::replay() {
  EMBER_CHECK(state_ != nullptr, "ember::cuda::Graph::replay: this graph was moved from");
  impl::check_not_capturing(-1, "replaying a graph");
  const impl::DeviceGuard guard(state_->device);
  EMBER_CUDA_CHECK(cudaGraphLaunch(state_->exec, impl::context(state_->device).stream()));
}

void Graph::replay(const std::vector<TensorBase>& inputs) {
  EMBER_CHECK(state_ != nullptr, "ember::cuda::Graph::replay: this graph was moved from");
  EMBER_CHECK(inputs.size() == state_->inputs.size(), "ember::cuda::Graph::replay: ", inputs.size(),
              " inputs given, but the step was captured with ", state_->inputs.size(), " static inputs");
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    TensorBase& fixed = state_->inputs[i];
    EMBER_CHECK(inputs[i].shape() == fixed.shape() && inputs[i].dtype() == fixed.dtype(),
                "ember::cuda::Graph::replay: input ", i, " has shape ", inputs[i].shape(), " and dtype ",
                inputs[i].dtype(), ", but the step was captured with shape ", fixed.shape(), " and ",
                fixed.dtype(), "; a graph replays fixed shapes: capture another graph for this one");
  }
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].is_same(state_->inputs[i])) state_->inputs[i].copy_(inputs[i]);
  }
  replay();
}

const std::vector<TensorBase>& Graph::static_inputs() const { return state_->inputs; }
Device Graph::device() const { return Device::cuda(state_->device); }
std::size_t Graph::node_count() const { return state_->nodes; }

Graph capture(const std::function<void()>& step, std::vector<TensorBase> static_inputs, Device device) {
  EMBER_CHECK(device.is_cuda() && is_available() && device.index() < device_count(),
              "ember::cuda::capture: needs a CUDA device; got ", device,
              is_available() ? "" : " and this machine has no GPU");
  EMBER_CHECK(impl::capturing_device() < 0, "ember::cuda::capture: already capturing on this thread; "
              "captures do not nest");
  for (std::size_t i = 0; i < static_inputs.size(); ++i) {
    EMBER_CHECK(static_inputs[i].defined() && static_inputs[i].device() == device,
                "ember::cuda::capture: static input ", i, " must be a tensor on ", device);
  }
  const int index = device.index();
  const impl::DeviceGuard guard(index);
  cudaStream_t stream = impl::context(index).stream();

  auto state = std::make_unique<Graph::State>();
  state->device = index;
  state->inputs = std::move(static_inputs);
  state->pool = impl::allocator().begin_capture(index);  // from here, owned by `state`
  impl::set_capturing_device(index);
  struct CaptureScope {  // however capture ends: the thread and the allocator stop capturing
    int device;
    ~CaptureScope() {
      impl::set_capturing_device(-1);
      impl::allocator().end_capture(device);
    }
  } scope{index};

  EMBER_CUDA_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
  try {
    step();
  } catch (...) {
    cudaGraph_t partial = nullptr;
    if (cudaStreamEndCapture(stream, &partial) == cudaSuccess && partial) (void)cudaGraphDestroy(partial);
    (void)cudaGetLastError();
    throw;
  }
  const cudaError_t ended = cudaStreamEndCapture(stream, &state->graph);
  EMBER_CHECK(ended == cudaSuccess, "ember::cuda::capture: the capture was invalidated (",
              cudaGetErrorString(ended), "): the step did something on the GPU that a graph cannot "
              "record, e.g. work on another stream or a call that synchronizes");
  EMBER_CUDA_CHECK(cudaGraphGetNodes(state->graph, nullptr, &state->nodes));
  EMBER_CUDA_CHECK(cudaGraphInstantiate(&state->exec, state->graph, 0));
  logging::debug("CUDA: captured a graph of {} nodes on cuda:{}", state->nodes, index);
  return Graph(std::move(state));
}

}  // namespace ember::cuda
