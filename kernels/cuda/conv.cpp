// The convolution kernels (conv2d, conv2d_backward_input, conv2d_backward_weight: ConvArgs in
// kernel_args.h) on cuDNN's graph API.
//
// Plans are cached per problem (conv_plan.h's ConvProblem: kind, dtype, the three tensors' sizes,
// strides and alignment, stride, padding, dilation, groups, allow_tf32, deterministic) together
// with the device and the benchmark flag, in one map for the process that only grows (one entry
// per distinct convolution; a model has a few dozen). A problem met before costs a map lookup and
// cudnnBackendExecute; when its tensors come back at the same addresses, as the caching allocator
// makes them do in a training loop, the variant pack of its last call is reused too.
//
// A new problem gets its plan chosen once:
//  - by heuristics (the default): cuDNN's candidates in its order of preference (conv_plan.h), the
//    first that builds and runs this call is kept;
//  - with benchmark: every candidate runs once to warm up, then kTimedRuns times between CUDA
//    events; the fastest is kept and runs the call again, so the output is its own.
// Candidates whose workspace cannot be allocated are skipped. The choice is logged at debug level
// (EMBER_LOG_LEVEL=debug): the engine, its numerical notes and workspace.
//
// Mixed layouts and padding that differs at the two ends are staged first (conv_staging.h): cuDNN
// gets one layout and symmetric padding, as from PyTorch.
//
// CUDA-graph capture: a cached plan runs as usual (cudnnBackendExecute is capturable; the workspace
// comes from the graph's private pool). A problem without a plan cannot be captured: choosing runs
// candidates and, with benchmark, waits for them, which a capture cannot record. The call throws an
// ember::Error saying to run the step once before capture (ember::cuda::capture's own rule).
//
// Threads: one mutex serialises the calls (cuDNN does not promise that one plan may run from two
// threads at once, nor a handle).
//
// Plans are never destroyed (as cudnn_handle.cpp explains for the handles).
#include <cuda_runtime.h>
#include <cudnn.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <utility>

#include "ember/core/error.h"
#include "ember/core/log.h"
#include "ember/kernels/cuda/check.h"
#include "ember/kernels/cuda/conv_plan.h"
#include "ember/kernels/cuda/conv_staging.h"
#include "ember/kernels/cuda/cudnn_handle.h"
#include "ember/kernels/cuda/device.h"
#include "ember/kernels/cuda/handles.h"
#include "ember/kernels/cuda/launchers.h"
#include "ember/kernels/cuda/runtime.h"

namespace ember::kernels::cuda_impl {

namespace {

// Timed runs per candidate in benchmark mode, after one untimed run (PyTorch times each once).
constexpr int kTimedRuns = 2;

struct PlanKey {
  int device = 0;
  bool benchmark = false;
  ConvProblem problem;
  auto operator<=>(const PlanKey&) const = default;
};

// A plan and the variant pack of its last call, with the addresses it binds.
struct CachedPlan {
  ConvPlan plan;
  std::array<void*, 4> bound{};  // input, weight, output, workspace
  BackendDescriptor pack;
};

struct PlanCache {
  std::mutex mutex;
  std::map<PlanKey, CachedPlan> plans;
  std::atomic<std::uint64_t> built{0};
};

PlanCache& plan_cache() {
  static PlanCache& cache = *new PlanCache;  // never destroyed: see the file's opening comment
  return cache;
}

// Runs `entry`'s plan on args' tensors, queued on the device's stream. The workspace is borrowed
// from the caching allocator for the call: freed when it returns, it is reused only by work queued
// after this on the same stream (caching_allocator.h).
void run(cudnnHandle_t handle, CachedPlan& entry, const ConvArgs& args, int device) {
  const CachedBuffer workspace =
      entry.plan.workspace_bytes > 0
          ? CachedBuffer(allocator(), static_cast<std::size_t>(entry.plan.workspace_bytes), device)
          : CachedBuffer();
  const std::array<void*, 4> pointers = {args.input.data, args.weight.data, args.output.data,
                                         workspace.get()};
  if (!entry.pack || pointers != entry.bound) {
    BackendDescriptor pack(CUDNN_BACKEND_VARIANT_PACK_DESCRIPTOR);
    pack.set(CUDNN_ATTR_VARIANT_PACK_UNIQUE_IDS, std::span<const std::int64_t>(kConvUids));
    pack.set_pointers(CUDNN_ATTR_VARIANT_PACK_DATA_POINTERS,
                      std::span<void* const>(pointers.data(), kConvUids.size()));
    pack.set_pointer(CUDNN_ATTR_VARIANT_PACK_WORKSPACE, workspace.get());
    pack.finalize();
    entry.pack = std::move(pack);
    entry.bound = pointers;
  }
  EMBER_CUDA_CHECK(cudnnBackendExecute(handle, entry.plan.plan.get(), entry.pack.get()));
}

[[noreturn]] void no_engine(const ConvProblem& problem, int device,
                            const ConvCandidates& candidates, const std::string& last_failure) {
  EMBER_FAIL("ember (CUDA backend) ", conv_kind_name(problem.kind),
             ": no cuDNN engine can run this convolution on cuda:", device, ": ", describe(problem),
             ". ", candidates.summary(),
             last_failure.empty() ? "" : "; the last one failed: ", last_failure,
             ". cuDNN has few engines for float64 and for deterministic runs: float32 (or "
             "deterministic off, or TF32 allowed) may find one");
}

// Heuristics: the first candidate that builds and runs; the run is this call's.
CachedPlan choose_by_heuristics(cudnnHandle_t handle, const ConvProblem& problem,
                                const ConvArgs& args, int device, std::string& how) {
  ConvCandidates candidates(handle, problem);
  std::string last_failure;
  int tried = 0;
  while (std::optional<ConvPlan> plan = candidates.next()) {
    ++tried;
    CachedPlan entry{.plan = std::move(*plan), .bound = {}, .pack = {}};
    try {
      run(handle, entry, args, device);
    } catch (const Error& e) {  // cannot run here after all, or its workspace does not fit
      last_failure = entry.plan.engine + ": " + e.what();
      continue;
    }
    how = "by heuristics, candidate " + std::to_string(tried) + " (" + candidates.summary() + ")";
    return entry;
  }
  no_engine(problem, device, candidates, last_failure);
}

// Benchmark: every candidate timed, the fastest kept and run once more for this call's output.
CachedPlan choose_by_timing(cudnnHandle_t handle, const DeviceContext& ctx,
                            const ConvProblem& problem, const ConvArgs& args, std::string& how) {
  const int device = ctx.device;
  ConvCandidates candidates(handle, problem);
  cudaEvent_t raw = nullptr;
  EMBER_CUDA_CHECK(cudaEventCreate(&raw));
  const Event start(raw);
  EMBER_CUDA_CHECK(cudaEventCreate(&raw));
  const Event stop(raw);
  cudaStream_t stream = ctx.stream();

  std::optional<CachedPlan> best;
  float best_ms = std::numeric_limits<float>::infinity();
  std::string last_failure;
  int timed = 0;
  while (std::optional<ConvPlan> plan = candidates.next()) {
    CachedPlan entry{.plan = std::move(*plan), .bound = {}, .pack = {}};
    float ms = 0.0f;
    try {
      run(handle, entry, args, device);  // first-run costs (loading kernels) stay out of the timing
      EMBER_CUDA_CHECK(cudaEventRecord(start.get(), stream));
      for (int i = 0; i < kTimedRuns; ++i) run(handle, entry, args, device);
      EMBER_CUDA_CHECK(cudaEventRecord(stop.get(), stream));
      EMBER_CUDA_CHECK(cudaEventSynchronize(stop.get()));
      count_host_sync();
      EMBER_CUDA_CHECK(cudaEventElapsedTime(&ms, start.get(), stop.get()));
    } catch (const Error& e) {
      last_failure = entry.plan.engine + ": " + e.what();
      continue;
    }
    ms /= kTimedRuns;
    ++timed;
    logging::trace("CUDA: cuDNN {} candidate {}: {:.4f} ms, workspace {} bytes",
                   conv_kind_name(problem.kind), entry.plan.engine, ms, entry.plan.workspace_bytes);
    if (ms < best_ms) {
      best_ms = ms;
      best = std::move(entry);
    }
  }
  if (!best) no_engine(problem, device, candidates, last_failure);
  run(handle, *best, args, device);
  how = "by benchmark, fastest of " + std::to_string(timed) + " timed at " +
        std::to_string(best_ms) + " ms (" + candidates.summary() + ")";
  return std::move(*best);
}

// Runs args (non-empty tensors, padding the same at both ends) through a cached or new plan.
void convolve_cudnn(ConvKind kind, int device, const ConvArgs& args) {
  const ConvProblem problem = conv_problem(kind, args);
  const DeviceGuard guard(device);
  const DeviceContext& ctx = context(device);
  PlanCache& cache = plan_cache();
  std::lock_guard lock(cache.mutex);
  const cudnnHandle_t handle = cudnn_handle(ctx);
  const PlanKey key{.device = device, .benchmark = args.benchmark, .problem = problem};
  if (const auto it = cache.plans.find(key); it != cache.plans.end()) [[likely]] {
    run(handle, it->second, args, device);
    return;
  }
  EMBER_CHECK(capturing_device() != device, "ember::cuda::capture: ", conv_kind_name(kind),
              " met a convolution that has no cuDNN plan yet (", describe(problem),
              "), and choosing one cannot be part of a captured step: it runs candidate kernels",
              args.benchmark ? " and waits to time them" : "",
              ". Run the step once before capture, with the same shapes, dtypes, layouts and "
              "cudnn settings: capture then finds the plan cached");
  std::string how;
  CachedPlan chosen = args.benchmark ? choose_by_timing(handle, ctx, problem, args, how)
                                     : choose_by_heuristics(handle, problem, args, device, how);
  logging::debug("CUDA: cuDNN {} on cuda:{}: {}: {}, workspace {} bytes, chosen {}",
                 conv_kind_name(kind), device, describe(problem), chosen.plan.engine,
                 chosen.plan.workspace_bytes, how);
  cache.plans.emplace(key, std::move(chosen));
  cache.built.fetch_add(1, std::memory_order_relaxed);
}

void convolve(ConvKind kind, int device, const ConvArgs& args) {
  const TensorRef& written = kind == ConvKind::Forward        ? args.output
                             : kind == ConvKind::BackwardData ? args.input
                                                              : args.weight;
  if (written.numel() == 0) return;
  if (args.input.numel() == 0 || args.weight.numel() == 0 || args.output.numel() == 0) {
    // A sum over nothing (no input channels, an empty batch, no output channels) is 0; cuDNN takes
    // no empty tensors.
    fill(device, written, 0.0);
    return;
  }
  check_conv_refs(kind, args);
  if (needs_staging(args)) {
    ConvStaging staging(kind, device, args);
    convolve_cudnn(kind, device, staging.args());
    staging.finish();
  } else {
    convolve_cudnn(kind, device, args);
  }
}

}  // namespace

void conv2d(int device, const ConvArgs& args) { convolve(ConvKind::Forward, device, args); }
void conv2d_backward_input(int device, const ConvArgs& args) {
  convolve(ConvKind::BackwardData, device, args);
}
void conv2d_backward_weight(int device, const ConvArgs& args) {
  convolve(ConvKind::BackwardFilter, device, args);
}

std::uint64_t cudnn_conv_plans_built() noexcept {
  return plan_cache().built.load(std::memory_order_relaxed);
}

}  // namespace ember::kernels::cuda_impl
