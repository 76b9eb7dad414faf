// A 2-D convolution as cuDNN's graph API sees it, and the execution plans cuDNN can build for it
// (conv_plan.cpp). conv.cpp chooses among the plans, caches the choice and runs it.
//
// The graph is one node: CUDNN_BACKEND_OPERATION_CONVOLUTION_{FORWARD, BACKWARD_DATA,
// BACKWARD_FILTER}_DESCRIPTOR over three tensors with unique ids 'x' (the input, or its gradient),
// 'w' (the weight, or its gradient) and 'y' (the output, or its gradient). Dims are NCHW-ordered
// and strides are the tensors' own, so a channels-last tensor is only other strides. cuDNN infers
// the groups from x's channels and w's (C_in / Cg).
//
// Candidates come from cuDNN's heuristics, best first: CUDNN_HEUR_MODE_A's list, then the
// CUDNN_HEUR_MODE_FALLBACK list, each engine configuration filtered by the problem's settings
// (engine_excluded) and then finalized into an execution plan; configurations cuDNN cannot build
// for this problem are skipped.
#pragma once

#include <cudnn.h>

#include <array>
#include <compare>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ember/kernels/cuda/cudnn_descriptor.h"
#include "ember/kernels/kernel_args.h"

namespace ember::kernels::cuda_impl {

enum class ConvKind : std::uint8_t { Forward, BackwardData, BackwardFilter };

// The tensors' unique ids in the graph, in the order the variant pack binds their data: the input
// (or its gradient), the weight (or its gradient), the output (or its gradient).
inline constexpr std::array<std::int64_t, 3> kConvUids = {'x', 'w', 'y'};
const char* conv_kind_name(ConvKind kind);  // the kernel's name: conv2d, conv2d_backward_input, ...

// One tensor of the graph: dims [N, C, H, W] (or [C_out, Cg, kH, kW]), its strides in elements (a
// canonical form of them: size-1 dims get the stride of their layout) and the largest power of two
// up to 16 dividing its address, in bytes (cuDNN's vectorised engines need to know it).
struct ConvTensor {
  std::array<std::int64_t, 4> dims{};
  std::array<std::int64_t, 4> strides{};
  std::int64_t alignment = 1;
  bool channels_last = false;  // for messages only: the layout the strides were read as
  auto operator<=>(const ConvTensor&) const = default;
};

// Everything a plan depends on: with the device and the benchmark flag, conv.cpp's cache key.
struct ConvProblem {
  ConvKind kind = ConvKind::Forward;
  DType dtype = DType::Float32;
  ConvTensor x, w, y;
  std::array<std::int64_t, 2> stride{}, pad_begin{}, pad_end{}, dilation{};
  std::int64_t groups = 1;
  bool allow_tf32 = false;  // float32 only: false for the other dtypes, where it means nothing
  bool deterministic = false;
  auto operator<=>(const ConvProblem&) const = default;
};

// The two layouts a ref may have: dense with dims in memory order N, C, H, W (contiguous) or
// N, H, W, C (channels-last). A ref with one channel, or 1x1 spatially, is both.
bool is_nchw(const TensorRef& t);
bool is_nhwc(const TensorRef& t);

// Throws ember::Error naming the kernel when a ref is not 4-D, is neither NCHW-contiguous nor
// channels-last, when the dtypes differ, or for a dtype cuDNN does not compute in.
void check_conv_refs(ConvKind kind, const ConvArgs& args);
// The problem of a call (check_conv_refs first).
ConvProblem conv_problem(ConvKind kind, const ConvArgs& args);
// "float32 x [8, 3, 32, 32] (channels-last) w [...] y [...] stride [1, 1] padding [1, 1] / [1, 1]
// dilation [1, 1] groups 1, deterministic, TF32 allowed": for logs and errors.
std::string describe(const ConvProblem& problem);

// The operation graph and the descriptors it is made of (kept alive with it).
struct ConvGraph {
  std::vector<BackendDescriptor> parts;  // tensors, convolution, operation
  BackendDescriptor graph;
};

// An execution plan, ready to run, with what it was built from.
struct ConvPlan {
  std::shared_ptr<const ConvGraph> graph;
  BackendDescriptor config;
  BackendDescriptor plan;
  std::int64_t workspace_bytes = 0;
  std::string engine;  // "engine 34 (tensor_core, nondeterministic)"
};

// The plans cuDNN offers for a problem, best first by its heuristics, built one at a time so that
// choosing by heuristics builds only what it tries.
class ConvCandidates {
 public:
  // Builds the operation graph; throws ember::Error when cuDNN rejects it.
  ConvCandidates(cudnnHandle_t handle, const ConvProblem& problem);

  // The next plan, or nullopt when there are no more.
  std::optional<ConvPlan> next();
  // What happened to the configurations so far, for messages: "9 configurations proposed, 3 not
  // allowed (nondeterministic: 3), 1 not buildable for this problem".
  std::string summary() const;

 private:
  bool load(cudnnBackendHeurMode_t mode);  // fills configs_ from one heuristics mode

  cudnnHandle_t handle_;
  ConvProblem problem_;
  std::shared_ptr<const ConvGraph> graph_;
  std::vector<BackendDescriptor> configs_;
  std::size_t position_ = 0;
  int modes_loaded_ = 0;  // 0: none, 1: mode A, 2: mode A and the fallback list
  int proposed_ = 0, built_ = 0, not_buildable_ = 0;
  std::array<int, 4> excluded_{};  // by reason: ExcludedBy
};

}  // namespace ember::kernels::cuda_impl
