// What is particular to the cuDNN path of the convolution kernels (kernels/cuda/conv.cpp), called
// through the kernel registry directly: values of all three kernels against loops in double on the
// host, over layouts (NCHW, channels-last, mixed), asymmetric padding (these two through
// conv_staging.h's copies), strides, dilation and groups, in every dtype; TF32 off really is
// float32; deterministic mode repeats its bits; benchmark mode agrees with heuristics; plans are
// cached; CUDA-graph capture. The shared tests of the convolution ops (tests/conv_checks.h) run on
// both devices.
#include <ember/ember.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "catch.h"
#include "ember/core/cuda_graph.h"
#include "ember/core/ops.h"
#include "ember/kernels/cuda/launchers.h"
#include "ember/kernels/registry.h"

namespace {

using namespace ember;
using Catch::Matchers::ContainsSubstring;
using kernels::ConvArgs;
using kernels::Kernel;

// A convolution's sizes and settings. Layouts: one flag per tensor, channels-last or contiguous.
struct Geometry {
  std::int64_t n, c, h, w, o, kh, kw, groups = 1;
  std::array<std::int64_t, 2> stride{1, 1}, pad_begin{0, 0}, pad_end{0, 0}, dilation{1, 1};
  bool x_nhwc = false, w_nhwc = false, y_nhwc = false;
  std::string name;

  std::int64_t cg() const { return c / groups; }
  std::int64_t og() const { return o / groups; }
  std::int64_t ho() const {
    return (h + pad_begin[0] + pad_end[0] - dilation[0] * (kh - 1) - 1) / stride[0] + 1;
  }
  std::int64_t wo() const {
    return (w + pad_begin[1] + pad_end[1] - dilation[1] * (kw - 1) - 1) / stride[1] + 1;
  }
  Shape x_shape() const { return {n, c, h, w}; }
  Shape w_shape() const { return {o, cg(), kh, kw}; }
  Shape y_shape() const { return {n, o, ho(), wo()}; }
};

// clang-format off: one geometry per statement reads better than one field per line.
std::vector<Geometry> geometries() {
  std::vector<Geometry> g;
  g.push_back({.n = 2,
               .c = 3,
               .h = 7,
               .w = 6,
               .o = 4,
               .kh = 3,
               .kw = 3,
               .pad_begin = {1, 1},
               .pad_end = {1, 1},
               .name = "3x3, padding 1, NCHW"});
  g.push_back(
      {.n = 2,
       .c = 4,
       .h = 9,
       .w = 8,
       .o = 6,
       .kh = 3,
       .kw = 2,
       .groups = 2,
       .stride = {2, 1},
       .pad_begin = {1, 0},
       .pad_end = {2, 1},
       .dilation = {1, 2},
       .x_nhwc = true,
       .w_nhwc = true,
       .y_nhwc = true,
       .name = "3x2, stride 2x1, asymmetric padding, dilation 1x2, 2 groups, channels-last"});
  g.push_back({.n = 3,
               .c = 4,
               .h = 5,
               .w = 5,
               .o = 8,
               .kh = 1,
               .kw = 1,
               .groups = 4,
               .x_nhwc = true,
               .name = "1x1 depthwise (4 groups, 2 outputs each), channels-last input, NCHW weight "
                       "and output"});
  g.push_back({.n = 1,
               .c = 2,
               .h = 6,
               .w = 7,
               .o = 3,
               .kh = 4,
               .kw = 4,
               .pad_begin = {1, 1},
               .pad_end = {2, 2},
               .w_nhwc = true,
               .name = "4x4 'same' padding (1 before, 2 after), channels-last weight"});
  g.push_back({.n = 2,
               .c = 1,
               .h = 8,
               .w = 8,
               .o = 5,
               .kh = 3,
               .kw = 3,
               .stride = {2, 2},
               .pad_begin = {1, 1},
               .pad_end = {0, 0},
               .x_nhwc = true,
               .y_nhwc = true,
               .name = "one input channel, stride 2, channels-last input and output"});
  return g;
}
// clang-format on

// The three kernels' results in double, with the sum of |terms| of each element (for tolerances
// that scale with what was summed). Tensors are host vectors in NCHW order.
struct Reference {
  std::vector<double> value, magnitude;
};

template <typename Visit>
void for_each_term(const Geometry& g, Visit&& visit) {
  for (std::int64_t b = 0; b < g.n; ++b)
    for (std::int64_t oc = 0; oc < g.o; ++oc)
      for (std::int64_t y = 0; y < g.ho(); ++y)
        for (std::int64_t x = 0; x < g.wo(); ++x)
          for (std::int64_t ci = 0; ci < g.cg(); ++ci)
            for (std::int64_t i = 0; i < g.kh; ++i)
              for (std::int64_t j = 0; j < g.kw; ++j) {
                const std::int64_t ih = y * g.stride[0] - g.pad_begin[0] + i * g.dilation[0];
                const std::int64_t iw = x * g.stride[1] - g.pad_begin[1] + j * g.dilation[1];
                if (ih < 0 || ih >= g.h || iw < 0 || iw >= g.w) continue;
                const std::int64_t c = oc / g.og() * g.cg() + ci;
                visit(((b * g.c + c) * g.h + ih) * g.w + iw,        // input
                      ((oc * g.cg() + ci) * g.kh + i) * g.kw + j,   // weight
                      ((b * g.o + oc) * g.ho() + y) * g.wo() + x);  // output
              }
}

Reference forward(const Geometry& g, const std::vector<double>& x, const std::vector<double>& w) {
  Reference r{std::vector<double>(g.y_shape().numel()), std::vector<double>(g.y_shape().numel())};
  for_each_term(g, [&](std::int64_t xi, std::int64_t wi, std::int64_t yi) {
    r.value[yi] += x[xi] * w[wi];
    r.magnitude[yi] += std::abs(x[xi] * w[wi]);
  });
  return r;
}
Reference backward_input(const Geometry& g, const std::vector<double>& gy,
                         const std::vector<double>& w) {
  Reference r{std::vector<double>(g.x_shape().numel()), std::vector<double>(g.x_shape().numel())};
  for_each_term(g, [&](std::int64_t xi, std::int64_t wi, std::int64_t yi) {
    r.value[xi] += gy[yi] * w[wi];
    r.magnitude[xi] += std::abs(gy[yi] * w[wi]);
  });
  return r;
}
Reference backward_weight(const Geometry& g, const std::vector<double>& x,
                          const std::vector<double>& gy) {
  Reference r{std::vector<double>(g.w_shape().numel()), std::vector<double>(g.w_shape().numel())};
  for_each_term(g, [&](std::int64_t xi, std::int64_t wi, std::int64_t yi) {
    r.value[wi] += x[xi] * gy[yi];
    r.magnitude[wi] += std::abs(x[xi] * gy[yi]);
  });
  return r;
}

// A GPU tensor of `shape` (NCHW order) in `dtype`, laid out channels-last when asked.
Tensor gpu_tensor(const Tensor& values, DType dtype, bool nhwc) {
  Tensor t = values.to(dtype).to(Device::cuda());
  return nhwc ? t.permute({0, 2, 3, 1}).contiguous().permute({0, 3, 1, 2}) : t.contiguous();
}
// An uninitialised-looking output: NaN everywhere, so that a kernel that does not write every
// element (or accumulates into it) shows.
Tensor gpu_output(const Shape& shape, DType dtype, bool nhwc) {
  const Shape stored = nhwc ? Shape{shape[0], shape[2], shape[3], shape[1]} : shape;
  Tensor t = full(stored, std::numeric_limits<double>::quiet_NaN(),
                  TensorOptions(dtype).device(Device::cuda()));
  return nhwc ? t.permute({0, 3, 1, 2}) : t;
}
std::vector<double> host(const Tensor& t) { return t.to(kFloat64).to_vector<double>(); }

bool is_channels_last(const Tensor& t) { return t.strides()[1] == 1 || t.size(1) == 1; }

ConvArgs conv_args(const Geometry& g, const Tensor& x, const Tensor& w, const Tensor& y) {
  ConvArgs a{.input = ops::ref(x), .weight = ops::ref(w), .output = ops::ref(y)};
  a.stride = g.stride;
  a.pad_begin = g.pad_begin;
  a.pad_end = g.pad_end;
  a.dilation = g.dilation;
  a.groups = g.groups;
  return a;
}

// |got - want| <= rel * (sum of |terms|) + abs everywhere; the first miss is reported.
void check_close(const std::vector<double>& got, const Reference& want, double rel, double abs,
                 const std::string& what) {
  REQUIRE(got.size() == want.value.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double tolerance = rel * want.magnitude[i] + abs;
    if (!(std::abs(got[i] - want.value[i]) <= tolerance)) {
      INFO(what << ": element " << i << " is " << got[i] << ", expected " << want.value[i]
                << " within " << tolerance);
      CHECK(false);
      return;
    }
  }
  SUCCEED(what);
}

struct Tolerance {
  double rel, abs;
};

struct Settings {
  bool allow_tf32 = false, benchmark = false, deterministic = false;
};

// The three kernels' results (forward, input gradient, weight gradient) and the references.
struct Results {
  std::array<std::vector<double>, 3> got;
  std::array<Reference, 3> want;
};

// Runs the three kernels on `g` in `dtype` and checks each against the loops in double (on the
// inputs as rounded to `dtype`). Returns the results, for comparisons between settings.
Results check_kernels(const Geometry& g, DType dtype, Settings s, Tolerance tol) {
  manual_seed(11);
  const TensorOptions f64(kFloat64);
  const Tensor x = gpu_tensor(randn(g.x_shape(), f64), dtype, g.x_nhwc);
  const Tensor w = gpu_tensor(randn(g.w_shape(), f64), dtype, g.w_nhwc);
  const Tensor gy = gpu_tensor(randn(g.y_shape(), f64), dtype, g.y_nhwc);
  REQUIRE(is_channels_last(x) == (g.x_nhwc || g.c == 1));
  const std::vector<double> hx = host(x), hw = host(w), hgy = host(gy);
  const std::string what = g.name + " in " + std::string(dtype_name(dtype));

  const Tensor y = gpu_output(g.y_shape(), dtype, g.y_nhwc);
  const Tensor gx = gpu_output(g.x_shape(), dtype, g.x_nhwc);
  const Tensor gw = gpu_output(g.w_shape(), dtype, g.w_nhwc);
  ConvArgs fwd = conv_args(g, x, w, y), bwd_in = conv_args(g, gx, w, gy),
           bwd_w = conv_args(g, x, gw, gy);
  for (ConvArgs* a : {&fwd, &bwd_in, &bwd_w}) {
    a->allow_tf32 = s.allow_tf32;
    a->benchmark = s.benchmark;
    a->deterministic = s.deterministic;
  }
  kernels::call<Kernel::conv2d>(Device::cuda(), fwd);
  kernels::call<Kernel::conv2d_backward_input>(Device::cuda(), bwd_in);
  kernels::call<Kernel::conv2d_backward_weight>(Device::cuda(), bwd_w);
  Results r{.got = {host(y), host(gx), host(gw)},
            .want = {forward(g, hx, hw), backward_input(g, hgy, hw), backward_weight(g, hx, hgy)}};
  const char* names[3] = {"conv2d, ", "conv2d_backward_input, ", "conv2d_backward_weight, "};
  for (int k = 0; k < 3; ++k) check_close(r.got[k], r.want[k], tol.rel, tol.abs, names[k] + what);
  return r;
}

}  // namespace

TEST_CASE("cuDNN convolutions against loops in double: float64", "[cuda][cudnn]") {
  for (const Geometry& g : geometries()) check_kernels(g, kFloat64, {}, {1e-13, 1e-14});
}

TEST_CASE("cuDNN convolutions in float32: exact float32 without TF32, within TF32's error with it",
          "[cuda][cudnn]") {
  // Without TF32 the error is float32 accumulation's: a TF32 engine (operands rounded to 10 bits,
  // ~5e-4 each) would be off by far more than 2e-5 of the summed magnitude, so this fails if the
  // allow_tf32 = false filter lets one through.
  for (const Geometry& g : geometries())
    check_kernels(g, kFloat32, {.allow_tf32 = false}, {2e-5, 1e-5});
  for (const Geometry& g : geometries())
    check_kernels(g, kFloat32, {.allow_tf32 = true}, {3e-3, 1e-5});
}

TEST_CASE("cuDNN convolutions in bfloat16 and float16: float32 accumulation, rounded once",
          "[cuda][cudnn]") {
  // The inputs are the 16-bit values themselves (read back), so the error is the output's rounding
  // (half an ulp: 2^-9 for bfloat16, 2^-11 for float16) plus float32 accumulation.
  for (const Geometry& g : geometries()) check_kernels(g, kBFloat16, {}, {8e-3, 1e-3});
  for (const Geometry& g : geometries()) check_kernels(g, kFloat16, {}, {2e-3, 1e-3});
}

TEST_CASE("cuDNN deterministic mode gives the same bits every run", "[cuda][cudnn]") {
  // Weight gradients are where engines split the reduction and add with atomics; a bigger batch
  // and spatial size give such engines a reason to be chosen.
  Geometry g{.n = 16,
             .c = 8,
             .h = 24,
             .w = 24,
             .o = 16,
             .kh = 3,
             .kw = 3,
             .pad_begin = {1, 1},
             .pad_end = {1, 1},
             .name = "deterministic"};
  for (DType dtype : {kFloat32, kFloat64, kBFloat16}) {
    const Tolerance tol = dtype == kFloat64   ? Tolerance{1e-13, 1e-14}
                          : dtype == kFloat32 ? Tolerance{2e-5, 1e-5}
                                              : Tolerance{8e-3, 1e-3};
    const Results first = check_kernels(g, dtype, {.deterministic = true}, tol);
    const Results second = check_kernels(g, dtype, {.deterministic = true}, tol);
    for (int k = 0; k < 3; ++k) {
      INFO("kernel " << k << " in " << dtype_name(dtype));
      CHECK(std::memcmp(first.got[k].data(), second.got[k].data(),
                        first.got[k].size() * sizeof(double)) == 0);
    }
  }
}

TEST_CASE("cuDNN benchmark mode agrees with heuristics", "[cuda][cudnn]") {
  // Each within float32's tolerance of the loops in double, so within twice that of each other.
  const Tolerance tol{2e-5, 1e-5};
  for (const Geometry& g : geometries()) {
    const Results chosen = check_kernels(g, kFloat32, {.benchmark = false}, tol);
    const Results timed = check_kernels(g, kFloat32, {.benchmark = true}, tol);
    for (int k = 0; k < 3; ++k) {
      const Reference twice{chosen.got[k], chosen.want[k].magnitude};
      check_close(timed.got[k], twice, 2 * tol.rel, 2 * tol.abs,
                  g.name + ": benchmark against heuristics");
    }
  }
}

TEST_CASE("cuDNN plans are built once per problem and reused", "[cuda][cudnn]") {
  // A problem no other test uses, so that its first call builds a plan here.
  const Geometry g{.n = 3,
                   .c = 5,
                   .h = 11,
                   .w = 10,
                   .o = 7,
                   .kh = 2,
                   .kw = 3,
                   .pad_begin = {0, 1},
                   .pad_end = {1, 1},
                   .name = "cache"};
  const TensorOptions f32 = TensorOptions(kFloat32).device(Device::cuda());
  manual_seed(3);
  const Tensor x1 = randn(g.x_shape(), f32), x2 = randn(g.x_shape(), f32),
               w = randn(g.w_shape(), f32);
  const Tensor y1 = empty(g.y_shape(), f32), y2 = empty(g.y_shape(), f32);
  ConvArgs a1 = conv_args(g, x1, w, y1), a2 = conv_args(g, x2, w, y2);
  a1.allow_tf32 = a2.allow_tf32 = false;

  const std::uint64_t before = kernels::cuda_impl::cudnn_conv_plans_built();
  kernels::call<Kernel::conv2d>(Device::cuda(), a1);
  CHECK(kernels::cuda_impl::cudnn_conv_plans_built() == before + 1);
  // The same problem on other tensors: no new plan, and the values are those tensors' (the variant
  // pack of the last call is not reused for other addresses).
  kernels::call<Kernel::conv2d>(Device::cuda(), a2);
  kernels::call<Kernel::conv2d>(Device::cuda(), a1);
  CHECK(kernels::cuda_impl::cudnn_conv_plans_built() == before + 1);
  check_close(host(y1), forward(g, host(x1), host(w)), 2e-5, 1e-5, "first tensors");
  check_close(host(y2), forward(g, host(x2), host(w)), 2e-5, 1e-5, "second tensors");

  // Each setting is part of the problem: a new plan for each.
  ConvArgs a3 = a1;
  a3.deterministic = true;
  kernels::call<Kernel::conv2d>(Device::cuda(), a3);
  CHECK(kernels::cuda_impl::cudnn_conv_plans_built() == before + 2);
  a3.benchmark = true;
  kernels::call<Kernel::conv2d>(Device::cuda(), a3);
  kernels::call<Kernel::conv2d>(Device::cuda(), a3);
  CHECK(kernels::cuda_impl::cudnn_conv_plans_built() == before + 3);
  // The backward kernels are other problems too.
  const Tensor gx = empty(g.x_shape(), f32);
  ConvArgs back = conv_args(g, gx, w, y1);
  back.allow_tf32 = false;
  kernels::call<Kernel::conv2d_backward_input>(Device::cuda(), back);
  CHECK(kernels::cuda_impl::cudnn_conv_plans_built() == before + 4);
  check_close(host(gx), backward_input(g, host(y1), host(w)), 2e-5, 1e-5,
              "backward input after forward");
}

TEST_CASE("cuDNN convolutions over empty sums write zeros", "[cuda][cudnn]") {
  // No input channels: the output is 0. An empty batch: the weight gradient is 0.
  const TensorOptions f32 = TensorOptions(kFloat32).device(Device::cuda());
  const Geometry no_channels{
      .n = 2, .c = 0, .h = 4, .w = 4, .o = 3, .kh = 3, .kw = 3, .name = "no channels"};
  const Tensor x = empty(no_channels.x_shape(), f32), w = empty(no_channels.w_shape(), f32);
  const Tensor y = gpu_output(no_channels.y_shape(), kFloat32, false);
  kernels::call<Kernel::conv2d>(Device::cuda(), conv_args(no_channels, x, w, y));
  CHECK(host(y) == std::vector<double>(static_cast<std::size_t>(y.numel()), 0.0));

  const Geometry no_batch{
      .n = 0, .c = 2, .h = 4, .w = 4, .o = 3, .kh = 3, .kw = 3, .name = "no batch"};
  const Tensor xb = empty(no_batch.x_shape(), f32), gy = empty(no_batch.y_shape(), f32);
  const Tensor gw = gpu_output(no_batch.w_shape(), kFloat32, false);
  kernels::call<Kernel::conv2d_backward_weight>(Device::cuda(), conv_args(no_batch, xb, gw, gy));
  CHECK(host(gw) == std::vector<double>(static_cast<std::size_t>(gw.numel()), 0.0));
}

TEST_CASE("cuDNN convolutions rejects a layout that is neither NCHW nor channels-last",
          "[cuda][cudnn]") {
  const TensorOptions f32 = TensorOptions(kFloat32).device(Device::cuda());
  const Geometry g{.n = 1, .c = 2, .h = 4, .w = 4, .o = 2, .kh = 3, .kw = 3, .name = "strided"};
  const Tensor wide = zeros({1, 2, 4, 8}, f32);
  const Tensor x = wide.slice(3, 0, 8, 2);  // every other column: not dense
  const Tensor w = zeros(g.w_shape(), f32), y = empty(g.y_shape(), f32);
  CHECK_THROWS_WITH(kernels::call<Kernel::conv2d>(Device::cuda(), conv_args(g, x, w, y)),
                    ContainsSubstring("neither contiguous (NCHW) nor channels-last"));
}

TEST_CASE("cuDNN convolutions under CUDA-graph capture", "[cuda][cudnn]") {
  const Geometry g{.n = 2,
                   .c = 3,
                   .h = 9,
                   .w = 9,
                   .o = 4,
                   .kh = 3,
                   .kw = 3,
                   .pad_begin = {1, 1},
                   .pad_end = {1, 1},
                   .name = "captured"};
  const TensorOptions f32 = TensorOptions(kFloat32).device(Device::cuda());
  manual_seed(5);
  const Tensor x = randn(g.x_shape(), f32), w = randn(g.w_shape(), f32);
  const Tensor y = empty(g.y_shape(), f32), gx = empty(g.x_shape(), f32);
  ConvArgs fwd = conv_args(g, x, w, y), bwd = conv_args(g, gx, w, y);
  fwd.allow_tf32 = bwd.allow_tf32 = false;
  const auto step = [&] {
    kernels::call<Kernel::conv2d>(Device::cuda(), fwd);
    kernels::call<Kernel::conv2d_backward_input>(Device::cuda(), bwd);
  };
  step();  // warm-up: the plans are chosen here
  ember::cuda::Graph graph = ember::cuda::capture(step, {x});
  const Tensor x2 = randn(g.x_shape(), f32);
  graph.replay({x2});
  const std::vector<double> hx2 = host(x2), hw = host(w), hy = host(y);
  check_close(hy, forward(g, hx2, hw), 2e-5, 1e-5, "replayed forward");
  check_close(host(gx), backward_input(g, hy, hw), 2e-5, 1e-5, "replayed backward input");

  // A problem seen first during capture has no plan, and cannot get one there.
  const Geometry unseen{.n = 2,
                        .c = 3,
                        .h = 9,
                        .w = 9,
                        .o = 4,
                        .kh = 5,
                        .kw = 5,
                        .pad_begin = {2, 2},
                        .pad_end = {2, 2},
                        .name = "unseen"};
  const Tensor w5 = randn(unseen.w_shape(), f32), y5 = empty(unseen.y_shape(), f32);
  ConvArgs fresh = conv_args(unseen, x, w5, y5);
  fresh.allow_tf32 = false;
  std::string message;
  try {
    (void)ember::cuda::capture([&] { kernels::call<Kernel::conv2d>(Device::cuda(), fresh); });
  } catch (const Error& e) {
    message = e.what();
  }
  CHECK_THAT(message, ContainsSubstring("has no cuDNN plan yet"));
  CHECK_THAT(message, ContainsSubstring("Run the step once before capture"));
  // The stream is usable after the abandoned capture, and the same call outside capture works.
  kernels::call<Kernel::conv2d>(Device::cuda(), fresh);
  check_close(host(y5), forward(unseen, host(x), host(w5)), 2e-5, 1e-5, "after capture");
}
