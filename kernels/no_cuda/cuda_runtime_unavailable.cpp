// ember::cuda in a build without the CUDA backend: there are no devices, and the calls that need
// one say how to get a build that has them.
#include "ember/core/cuda.h"
#include "ember/core/cuda_graph.h"
#include "ember/core/error.h"

namespace ember::cuda {

namespace {
[[noreturn]] void no_cuda(const char* what) {
  EMBER_FAIL("ember::cuda::", what,
             ": this build of Ember has no CUDA backend (configure with a CUDA toolkit and "
             "-DEMBER_CUDA=ON)");
}
bool g_allow_tf32 = false;
}  // namespace

bool is_available() { return false; }
bool is_capturing() { return false; }
int device_count() { return 0; }
void synchronize() {}
std::uint64_t host_sync_count() { return 0; }
std::uint64_t device_malloc_count() { return 0; }
MemoryStats memory_stats(int) { no_cuda("memory_stats"); }
void reset_peak_memory_stats(int) { no_cuda("reset_peak_memory_stats"); }
void empty_cache() {}
double time_ms(const std::function<void()>&, int) { no_cuda("time_ms"); }
void set_allow_tf32(bool allow) { g_allow_tf32 = allow; }
bool allow_tf32() { return g_allow_tf32; }

}  // namespace ember::cuda

// CUDA graphs: capture() says why it cannot run; no Graph can exist, so its members are unreachable.

namespace ember::cuda {

struct Graph::State {};
Graph::Graph(std::unique_ptr<State> state) : state_(std::move(state)) {}
Graph::Graph(Graph&&) noexcept = default;
Graph& Graph::operator=(Graph&&) noexcept = default;
Graph::~Graph() = default;
void Graph::replay() { no_cuda("Graph::replay"); }
void Graph::replay(const std::vector<TensorBase>&) { no_cuda("Graph::replay"); }
const std::vector<TensorBase>& Graph::static_inputs() const { no_cuda("Graph::static_inputs"); }
Device Graph::device() const { no_cuda("Graph::device"); }
std::size_t Graph::node_count() const { no_cuda("Graph::node_count"); }
Graph capture(const std::function<void()>&, std::vector<TensorBase>, Device) { no_cuda("capture"); }

}  // namespace ember::cuda
