// Random fills: draws of the global generator (core/generator.h), one Philox counter per element,
// so the numbers are the same on every device.
#include "ember/core/generator.h"
#include "ember/core/ops.h"

namespace ember::ops {

void fill_random(const TensorBase& dst, RandomKind kind, double a, double b, const char* name) {
  check_arithmetic_dtype(name, dst);
  EMBER_CHECK(dst.is_contiguous(), name, ": needs a contiguous tensor, got shape ", dst.shape(),
              " with strides ", dst.strides());
  const std::int64_t n = dst.numel();
  if (n == 0) return;
  const GeneratorState at = reserve_random(static_cast<std::uint64_t>(n));
  kernels::call<kernels::Kernel::random>(dst.device(), ref(dst), kind, at.seed, at.offset, a, b);
}

}  // namespace ember::ops
