// Every dtype on CUDA: conversions between every pair give the CPU's values bit for bit (the same
// conversion code, core/half_types.h, runs on both), fills and comparisons too.
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "catch.h"
#include <ember/ember.h>

using namespace ember;

namespace {

// The raw bytes of a tensor, read on the host.
std::vector<unsigned char> bytes_of(const Tensor& t) {
  const Tensor host = t.to(Device::cpu()).contiguous();
  std::vector<unsigned char> out(static_cast<std::size_t>(host.numel()) * element_size(host.dtype()));
  if (!out.empty()) std::memcpy(out.data(), host.raw_data(), out.size());
  return out;
}

}  // namespace

TEST_CASE("CUDA converts between every pair of dtypes exactly as the CPU does", "[cuda][dtype]") {
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> values = {0.0, -0.0, 1.0, -1.0, 0.5, 1.0 / 3.0, 2.5, -7.75, 100.0, 255.0, 300.0, -129.0,
                                65504.0, 65520.0, 1e-8, 6e-8, 3.4e38, 1e300, inf, -inf, std::nan("")};
  for (int e = -30; e <= 30; e += 3) values.push_back(1.2345 * std::pow(2.0, e));
  const Tensor source = from_vector(values, {}, kFloat64);
  for (DType from : kDTypes) {
    // Out-of-range floats to integers are undefined in C++ (and differ between CPU and GPU, as in
    // PyTorch): integer and bool targets are checked from values they can hold.
    const Tensor src_cpu = is_floating(from) ? source.to(from) : source.to(kFloat64).to(from);
    const Tensor src_gpu = src_cpu.to(Device::cuda());
    CHECK(bytes_of(src_gpu) == bytes_of(src_cpu));
    for (DType to : kDTypes) {
      if (is_floating(from) && !is_floating(to)) continue;  // see above; covered below from whole numbers
      INFO(dtype_name(from) << " -> " << dtype_name(to));
      CHECK(bytes_of(src_gpu.to(to)) == bytes_of(src_cpu.to(to)));
      CHECK(bytes_of(src_gpu.t().to(to)) == bytes_of(src_cpu.t().to(to)));
    }
  }
  const Tensor whole = tensor({0, 1, -1, 2, 100, -100, 127, 255});
  for (DType from : kDTypes) {
    for (DType to : kDTypes) {
      INFO(dtype_name(from) << " -> " << dtype_name(to) << " (whole numbers)");
      const Tensor x = whole.to(from);
      CHECK(bytes_of(x.to(Device::cuda()).to(to)) == bytes_of(x.to(to)));
    }
  }
}

TEST_CASE("CUDA fills and compares in every dtype", "[cuda][dtype]") {
  for (DType dtype : kDTypes) {
    INFO(dtype_name(dtype));
    const auto on_gpu = TensorOptions(dtype).device(Device::cuda());
    CHECK(bytes_of(full({5}, 3.0, on_gpu)) == bytes_of(full({5}, 3.0, dtype)));
    CHECK(bytes_of(zeros({3}, on_gpu)) == bytes_of(zeros({3}, dtype)));
  }
  const Tensor a = tensor({1, 2, 3}).to(Device::cuda()), b = tensor({3, 2, 1}).to(Device::cuda());
  const Tensor e = eq(a, b), g = gt(a, b);
  CHECK(e.dtype() == kBool);
  CHECK(e.to_vector<bool>() == std::vector<bool>{false, true, false});
  CHECK(g.to_vector<bool>() == std::vector<bool>{false, false, true});
  CHECK(gt(a, tensor({2}).to(Device::cuda())).to_vector<bool>() == std::vector<bool>{false, false, true});
  // Every comparison in every dtype, broadcast, against the CPU.
  for (DType dtype : kDTypes) {
    INFO(dtype_name(dtype));
    const Tensor x = tensor({0, 1, 2, 1, 0, 1}, {2, 3}).to(dtype), y = tensor({1, 1, 0}).to(dtype);
    const Tensor xg = x.to(Device::cuda()), yg = y.to(Device::cuda());
    CHECK(bytes_of(eq(xg, yg)) == bytes_of(eq(x, y)));
    CHECK(bytes_of(ne(xg, yg)) == bytes_of(ne(x, y)));
    CHECK(bytes_of(gt(xg, yg)) == bytes_of(gt(x, y)));
    CHECK(bytes_of(ge(xg, yg)) == bytes_of(ge(x, y)));
    CHECK(bytes_of(lt(xg, yg)) == bytes_of(lt(x, y)));
    CHECK(bytes_of(le(xg.t(), yg.reshape({3, 1}))) == bytes_of(le(x.t(), y.reshape({3, 1}))));
  }
}
