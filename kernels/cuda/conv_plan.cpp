// The convolution's cuDNN graph and its candidate execution plans (conv_plan.h).
//
// Which engines a problem may use (engine_excluded), from each engine's numerical notes, as
// PyTorch's Conv_v8.cpp filters them:
//  - deterministic: no engine noted NONDETERMINISTIC (atomics, split reductions in any order);
//  - float32 without allow_tf32: no engine noted TENSOR_CORE (for float32 data, tensor cores mean
//    TF32: inputs rounded to 10 mantissa bits). float64 tensor-core engines (DMMA) are exact, and
//    16-bit data always runs on tensor cores, so the note excludes nothing for them;
//  - never an engine noted DOWN_CONVERT_INPUTS (inputs computed in a narrower type than theirs);
//  - never an engine noted REDUCED_PRECISION_REDUCTION: ConvArgs promises float32 accumulation for
//    the 16-bit dtypes (PyTorch does not filter these; the compute type float usually rules them
//    out already).
#include "ember/kernels/cuda/conv_plan.h"

#include <algorithm>
#include <span>
#include <sstream>
#include <utility>

#include "ember/core/error.h"

namespace ember::kernels::cuda_impl {

namespace {

enum ExcludedBy : int { kNondeterministic, kTf32, kDownConvert, kReducedPrecision };
constexpr std::array<const char*, 4> kExcludedNames = {
    "nondeterministic", "TF32 not allowed", "down-converts inputs", "reduced-precision reduction"};

constexpr std::int64_t kUidX = kConvUids[0], kUidW = kConvUids[1], kUidY = kConvUids[2];

cudnnDataType_t data_type(DType dtype, const char* who) {
  switch (dtype) {
    case DType::Float32:
      return CUDNN_DATA_FLOAT;
    case DType::Float64:
      return CUDNN_DATA_DOUBLE;
    case DType::BFloat16:
      return CUDNN_DATA_BFLOAT16;
    case DType::Float16:
      return CUDNN_DATA_HALF;
    default:
      break;
  }
  EMBER_FAIL("ember (CUDA backend) ", who,
             ": cuDNN convolutions take float32, float64, bfloat16 or float16, not ",
             dtype_name(dtype));
}

// The type cuDNN accumulates in: float64 for float64, float32 for the rest (ConvArgs' contract).
cudnnDataType_t compute_type(DType dtype) {
  return dtype == DType::Float64 ? CUDNN_DATA_DOUBLE : CUDNN_DATA_FLOAT;
}

// Whether `t`'s elements lie densely in the dim order `order` (outermost first), ignoring the
// strides of size-1 dims, which say nothing.
bool dense_in_order(const TensorRef& t, std::array<int, 4> order) {
  std::int64_t expected = 1;
  for (int i = 3; i >= 0; --i) {
    const int d = order[static_cast<std::size_t>(i)];
    if (t.sizes[d] == 1) continue;
    if (t.strides[d] != expected) return false;
    expected *= t.sizes[d];
  }
  return true;
}
constexpr std::array<int, 4> kNchwOrder = {0, 1, 2, 3};
constexpr std::array<int, 4> kNhwcOrder = {0, 2, 3, 1};

std::int64_t alignment(const void* p) {
  const auto address = reinterpret_cast<std::uintptr_t>(p);
  std::int64_t a = 1;
  while (a < 16 && address % static_cast<std::uintptr_t>(2 * a) == 0) a *= 2;
  return a;
}

// The graph's view of a ref laid out channels-last or not: the dims, and that layout's strides
// (so that a size-1 dim's arbitrary stride never reaches cuDNN).
ConvTensor conv_tensor(const TensorRef& t, bool channels_last) {
  ConvTensor out;
  for (int d = 0; d < 4; ++d) out.dims[static_cast<std::size_t>(d)] = t.sizes[d];
  const std::int64_t c = t.sizes[1], h = t.sizes[2], w = t.sizes[3];
  out.strides = channels_last ? std::array<std::int64_t, 4>{h * w * c, 1, w * c, c}
                              : std::array<std::int64_t, 4>{c * h * w, h * w, w, 1};
  out.alignment = alignment(t.data);
  out.channels_last = channels_last;
  return out;
}

BackendDescriptor tensor_descriptor(const ConvTensor& t, std::int64_t uid, cudnnDataType_t type) {
  BackendDescriptor d(CUDNN_BACKEND_TENSOR_DESCRIPTOR);
  d.set(CUDNN_ATTR_TENSOR_DATA_TYPE, type);
  d.set(CUDNN_ATTR_TENSOR_DIMENSIONS, std::span<const std::int64_t>(t.dims));
  d.set(CUDNN_ATTR_TENSOR_STRIDES, std::span<const std::int64_t>(t.strides));
  d.set(CUDNN_ATTR_TENSOR_UNIQUE_ID, uid);
  d.set(CUDNN_ATTR_TENSOR_BYTE_ALIGNMENT, t.alignment);
  // Not virtual (each is a real buffer, bound by the variant pack) and not by value (the default
  // of both attributes, left unset).
  d.finalize();
  return d;
}

std::shared_ptr<const ConvGraph> make_graph(cudnnHandle_t handle, const ConvProblem& p) {
  auto g = std::make_shared<ConvGraph>();
  const cudnnDataType_t type = data_type(p.dtype, conv_kind_name(p.kind));
  const cudnnDataType_t compute = compute_type(p.dtype);
  BackendDescriptor x = tensor_descriptor(p.x, kUidX, type);
  BackendDescriptor w = tensor_descriptor(p.w, kUidW, type);
  BackendDescriptor y = tensor_descriptor(p.y, kUidY, type);

  BackendDescriptor conv(CUDNN_BACKEND_CONVOLUTION_DESCRIPTOR);
  conv.set(CUDNN_ATTR_CONVOLUTION_COMP_TYPE, compute);
  conv.set(CUDNN_ATTR_CONVOLUTION_CONV_MODE, CUDNN_CROSS_CORRELATION);  // torch's conv2d
  conv.set(CUDNN_ATTR_CONVOLUTION_SPATIAL_DIMS, std::int64_t{2});
  conv.set(CUDNN_ATTR_CONVOLUTION_FILTER_STRIDES, std::span<const std::int64_t>(p.stride));
  conv.set(CUDNN_ATTR_CONVOLUTION_PRE_PADDINGS, std::span<const std::int64_t>(p.pad_begin));
  conv.set(CUDNN_ATTR_CONVOLUTION_POST_PADDINGS, std::span<const std::int64_t>(p.pad_end));
  conv.set(CUDNN_ATTR_CONVOLUTION_DILATIONS, std::span<const std::int64_t>(p.dilation));
  conv.finalize();

  // output = 1 * conv(...) + 0 * output: overwritten, never accumulated into. alpha and beta are
  // given in the compute type's precision.
  const auto set_scale = [&](BackendDescriptor& op, cudnnBackendAttributeName_t name,
                             double value) {
    if (compute == CUDNN_DATA_DOUBLE)
      op.set(name, value);
    else
      op.set(name, static_cast<float>(value));
  };
  BackendDescriptor op;
  switch (p.kind) {
    case ConvKind::Forward:
      op = BackendDescriptor(CUDNN_BACKEND_OPERATION_CONVOLUTION_FORWARD_DESCRIPTOR);
      op.set(CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_X, x);
      op.set(CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_W, w);
      op.set(CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_Y, y);
      op.set(CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_CONV_DESC, conv);
      set_scale(op, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_ALPHA, 1.0);
      set_scale(op, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_BETA, 0.0);
      break;
    case ConvKind::BackwardData:
      op = BackendDescriptor(CUDNN_BACKEND_OPERATION_CONVOLUTION_BACKWARD_DATA_DESCRIPTOR);
      op.set(CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_DX, x);
      op.set(CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_W, w);
      op.set(CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_DY, y);
      op.set(CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_CONV_DESC, conv);
      set_scale(op, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_ALPHA, 1.0);
      set_scale(op, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_BETA, 0.0);
      break;
    case ConvKind::BackwardFilter:
      op = BackendDescriptor(CUDNN_BACKEND_OPERATION_CONVOLUTION_BACKWARD_FILTER_DESCRIPTOR);
      op.set(CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_X, x);
      op.set(CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_DW, w);
      op.set(CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_DY, y);
      op.set(CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_CONV_DESC, conv);
      set_scale(op, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_ALPHA, 1.0);
      set_scale(op, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_BETA, 0.0);
      break;
  }
  op.finalize();

  g->graph = BackendDescriptor(CUDNN_BACKEND_OPERATIONGRAPH_DESCRIPTOR);
  g->graph.set(CUDNN_ATTR_OPERATIONGRAPH_HANDLE, handle);
  const cudnnBackendDescriptor_t ops[1] = {op.get()};
  g->graph.set_descriptors(CUDNN_ATTR_OPERATIONGRAPH_OPS, ops);
  const cudnnStatus_t status = g->graph.try_finalize();
  EMBER_CHECK(status == CUDNN_STATUS_SUCCESS, "ember (CUDA backend) ", conv_kind_name(p.kind),
              ": cuDNN does not support this convolution (", cudnnGetErrorString(status),
              "): ", describe(p));
  g->parts.push_back(std::move(x));
  g->parts.push_back(std::move(w));
  g->parts.push_back(std::move(y));
  g->parts.push_back(std::move(conv));
  g->parts.push_back(std::move(op));
  return g;
}

// The engine behind a configuration, its global index and numerical notes.
struct EngineInfo {
  std::int64_t index = -1;
  std::vector<int> notes;
  bool has(cudnnBackendNumericalNote_t note) const {
    return std::find(notes.begin(), notes.end(), static_cast<int>(note)) != notes.end();
  }
};

EngineInfo engine_info(const BackendDescriptor& config) {
  EngineInfo info;
  std::vector<BackendDescriptor> engine =
      config.get_descriptors(CUDNN_ATTR_ENGINECFG_ENGINE, CUDNN_BACKEND_ENGINE_DESCRIPTOR, 1);
  if (engine.empty()) return info;
  info.index = engine[0].get_int64(CUDNN_ATTR_ENGINE_GLOBAL_INDEX);
  // More room than the notes cuDNN 9 defines (10), for later versions' additions.
  info.notes =
      engine[0].get_enum_array(CUDNN_ATTR_ENGINE_NUMERICAL_NOTE, CUDNN_TYPE_NUMERICAL_NOTE, 32);
  return info;
}

const char* note_name(int note) {
  switch (note) {
    case CUDNN_NUMERICAL_NOTE_TENSOR_CORE:
      return "tensor_core";
    case CUDNN_NUMERICAL_NOTE_DOWN_CONVERT_INPUTS:
      return "down_convert_inputs";
    case CUDNN_NUMERICAL_NOTE_REDUCED_PRECISION_REDUCTION:
      return "reduced_precision_reduction";
    case CUDNN_NUMERICAL_NOTE_FFT:
      return "fft";
    case CUDNN_NUMERICAL_NOTE_NONDETERMINISTIC:
      return "nondeterministic";
    case CUDNN_NUMERICAL_NOTE_WINOGRAD:
      return "winograd";
    case CUDNN_NUMERICAL_NOTE_WINOGRAD_TILE_4x4:
      return "winograd_4x4";
    case CUDNN_NUMERICAL_NOTE_WINOGRAD_TILE_6x6:
      return "winograd_6x6";
    case CUDNN_NUMERICAL_NOTE_WINOGRAD_TILE_13x13:
      return "winograd_13x13";
    case CUDNN_NUMERICAL_NOTE_STRICT_NAN_PROP:
      return "strict_nan_prop";
    default:
      return "note";
  }
}

std::string engine_name(const EngineInfo& info) {
  std::ostringstream out;
  out << "engine " << info.index;
  for (std::size_t i = 0; i < info.notes.size(); ++i)
    out << (i == 0 ? " (" : ", ") << note_name(info.notes[i]);
  if (!info.notes.empty()) out << ")";
  return out.str();
}

// Why the problem's settings rule this engine out, or -1 when they allow it (the file's opening
// comment says why each rule).
int engine_excluded(const EngineInfo& engine, const ConvProblem& p) {
  if (p.deterministic && engine.has(CUDNN_NUMERICAL_NOTE_NONDETERMINISTIC))
    return kNondeterministic;
  if (p.dtype == DType::Float32 && !p.allow_tf32 && engine.has(CUDNN_NUMERICAL_NOTE_TENSOR_CORE))
    return kTf32;
  if (engine.has(CUDNN_NUMERICAL_NOTE_DOWN_CONVERT_INPUTS)) return kDownConvert;
  if (engine.has(CUDNN_NUMERICAL_NOTE_REDUCED_PRECISION_REDUCTION)) return kReducedPrecision;
  return -1;
}

std::string shape_str(const std::array<std::int64_t, 4>& dims) {
  return Shape(std::span<const std::int64_t>(dims)).str();
}
std::string pair_str(const std::array<std::int64_t, 2>& v) {
  return Shape(std::span<const std::int64_t>(v)).str();
}

}  // namespace

bool is_nchw(const TensorRef& t) { return dense_in_order(t, kNchwOrder); }
bool is_nhwc(const TensorRef& t) { return dense_in_order(t, kNhwcOrder); }

const char* conv_kind_name(ConvKind kind) {
  switch (kind) {
    case ConvKind::Forward:
      return "conv2d";
    case ConvKind::BackwardData:
      return "conv2d_backward_input";
    case ConvKind::BackwardFilter:
      return "conv2d_backward_weight";
  }
  return "conv2d";
}

void check_conv_refs(ConvKind kind, const ConvArgs& args) {
  const char* who = conv_kind_name(kind);
  const TensorRef* refs[3] = {&args.input, &args.weight, &args.output};
  const char* names[3] = {"input", "weight", "output"};
  for (int i = 0; i < 3; ++i) {
    const TensorRef& t = *refs[i];
    EMBER_CHECK(t.ndim() == 4, "ember (CUDA backend) ", who, ": ", names[i],
                " must be 4-D, got sizes ", t.sizes.str());
    EMBER_CHECK(t.dtype == args.input.dtype, "ember (CUDA backend) ", who, ": ", names[i], " is ",
                dtype_name(t.dtype), " but input is ", dtype_name(args.input.dtype));
    EMBER_CHECK(is_nchw(t) || is_nhwc(t), "ember (CUDA backend) ", who, ": ", names[i],
                " with sizes ", t.sizes.str(), " and strides ", t.strides.str(),
                " is neither contiguous (NCHW) nor channels-last (NHWC)");
  }
  (void)data_type(args.input.dtype, who);  // a dtype cuDNN computes in, or the error says so
}

ConvProblem conv_problem(ConvKind kind, const ConvArgs& args) {
  check_conv_refs(kind, args);
  const TensorRef* refs[3] = {&args.input, &args.weight, &args.output};
  bool nchw[3], nhwc[3], any_only_nhwc = false;
  for (int i = 0; i < 3; ++i) {
    nchw[i] = is_nchw(*refs[i]);
    nhwc[i] = is_nhwc(*refs[i]);
    any_only_nhwc = any_only_nhwc || (nhwc[i] && !nchw[i]);
  }

  ConvProblem p;
  p.kind = kind;
  p.dtype = args.input.dtype;
  // A ref that is both (one channel, or 1x1 spatially) takes the layout of the others, so that a
  // channels-last convolution with one input channel is channels-last throughout for cuDNN.
  const auto layout = [&](int i) { return nhwc[i] && (!nchw[i] || any_only_nhwc); };
  p.x = conv_tensor(args.input, layout(0));
  p.w = conv_tensor(args.weight, layout(1));
  p.y = conv_tensor(args.output, layout(2));
  p.stride = args.stride;
  p.pad_begin = args.pad_begin;
  p.pad_end = args.pad_end;
  p.dilation = args.dilation;
  p.groups = args.groups;
  p.allow_tf32 = p.dtype == DType::Float32 && args.allow_tf32;
  p.deterministic = args.deterministic;
  return p;
}

std::string describe(const ConvProblem& p) {
  std::ostringstream out;
  const auto tensor = [&](const char* name, const ConvTensor& t) {
    out << name << " " << shape_str(t.dims) << (t.channels_last ? " (channels-last) " : " ");
  };
  out << dtype_name(p.dtype) << " ";
  tensor("input", p.x);
  tensor("weight", p.w);
  tensor("output", p.y);
  out << "stride " << pair_str(p.stride) << " padding " << pair_str(p.pad_begin) << " / "
      << pair_str(p.pad_end) << " dilation " << pair_str(p.dilation) << " groups " << p.groups
      << (p.deterministic ? ", deterministic" : "");
  if (p.dtype == DType::Float32) out << (p.allow_tf32 ? ", TF32 allowed" : ", TF32 not allowed");
  return out.str();
}

ConvCandidates::ConvCandidates(cudnnHandle_t handle, const ConvProblem& problem)
    : handle_(handle), problem_(problem), graph_(make_graph(handle, problem)) {}

bool ConvCandidates::load(cudnnBackendHeurMode_t mode) {
  BackendDescriptor heuristics(CUDNN_BACKEND_ENGINEHEUR_DESCRIPTOR);
  heuristics.set(CUDNN_ATTR_ENGINEHEUR_OPERATION_GRAPH, graph_->graph);
  heuristics.set(CUDNN_ATTR_ENGINEHEUR_MODE, mode);
  // A mode that has nothing for this graph fails to finalize: not an error, the next mode may.
  if (heuristics.try_finalize() != CUDNN_STATUS_SUCCESS) return false;
  const std::int64_t n =
      heuristics.count(CUDNN_ATTR_ENGINEHEUR_RESULTS, CUDNN_TYPE_BACKEND_DESCRIPTOR);
  configs_ = heuristics.get_descriptors(CUDNN_ATTR_ENGINEHEUR_RESULTS,
                                        CUDNN_BACKEND_ENGINECFG_DESCRIPTOR, n);
  position_ = 0;
  proposed_ += static_cast<int>(configs_.size());
  return !configs_.empty();
}

std::optional<ConvPlan> ConvCandidates::next() {
  for (;;) {
    if (position_ == configs_.size()) {
      if (modes_loaded_ == 0) {
        modes_loaded_ = 1;
        load(CUDNN_HEUR_MODE_A);
      } else if (modes_loaded_ == 1) {
        modes_loaded_ = 2;
        load(CUDNN_HEUR_MODE_FALLBACK);
      } else {
        return std::nullopt;
      }
      continue;
    }
    BackendDescriptor config = std::move(configs_[position_++]);
    const EngineInfo engine = engine_info(config);
    if (const int why = engine_excluded(engine, problem_); why >= 0) {
      ++excluded_[static_cast<std::size_t>(why)];
      continue;
    }
    BackendDescriptor plan(CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR);
    plan.set(CUDNN_ATTR_EXECUTION_PLAN_HANDLE, handle_);
    plan.set(CUDNN_ATTR_EXECUTION_PLAN_ENGINE_CONFIG, config);
    // A configuration cuDNN proposed may still not build for this problem (its knobs, the shared
    // memory it needs): skip it, as cudnn-frontend does.
    if (plan.try_finalize() != CUDNN_STATUS_SUCCESS) {
      ++not_buildable_;
      continue;
    }
    ++built_;
    ConvPlan out{.graph = graph_,
                 .config = std::move(config),
                 .plan = std::move(plan),
                 .workspace_bytes = 0,
                 .engine = engine_name(engine)};
    out.workspace_bytes = out.plan.get_int64(CUDNN_ATTR_EXECUTION_PLAN_WORKSPACE_SIZE);
    return out;
  }
}

std::string ConvCandidates::summary() const {
  std::ostringstream out;
  out << proposed_ << " engine configuration(s) proposed by cuDNN's heuristics";
  int excluded = 0;
  for (int n : excluded_) excluded += n;
  if (excluded > 0) {
    out << ", " << excluded << " not allowed by the settings (";
    bool first = true;
    for (std::size_t i = 0; i < excluded_.size(); ++i) {
      if (excluded_[i] == 0) continue;
      out << (first ? "" : ", ") << kExcludedNames[i] << ": " << excluded_[i];
      first = false;
    }
    out << ")";
  }
  if (not_buildable_ > 0) out << ", " << not_buildable_ << " not buildable for this problem";
  out << ", " << built_ << " built";
  return out.str();
}

}  // namespace ember::kernels::cuda_impl
