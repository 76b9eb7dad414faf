// Random fill on the CPU: element i of the output is the Philox draw for counter offset + i, the
// same pure function the CUDA backend evaluates, so both devices produce identical tensors.
#include "ember/core/dtype.h"
#include "ember/core/error.h"
#include "ember/kernels/cpu/cpu_kernels.h"
#include "ember/kernels/philox.h"

namespace ember::kernels::cpu {

namespace {

// Computed in double and rounded once to T, exactly the formula of the contract, so the value does
// not depend on the device's arithmetic beyond that last rounding. (For float32 a + (b - a) * U
// can round up to b itself when U is within 2^-25 of 1, as the formula allows.) bfloat16 and
// float16 are rounded through float32, as their conversions from double are.
template <typename T>
void random_loop(const TensorRef& out, RandomKind kind, std::uint64_t seed, std::uint64_t offset,
                 double a, double b) {
  T* o = out.ptr<T>();
  const auto n = static_cast<std::uint64_t>(out.numel());
  if (kind == RandomKind::Uniform) {
    const double range = b - a;
    for (std::uint64_t i = 0; i < n; ++i)
      o[i] = philox::below_bound(static_cast<T>(a + range * philox::uniform(seed, offset + i)), a, b);
  } else {
    for (std::uint64_t i = 0; i < n; ++i)
      o[i] = static_cast<T>(a + b * philox::normal(seed, offset + i));
  }
}

}  // namespace

void random(int /*device*/, const TensorRef& out, RandomKind kind, std::uint64_t seed,
            std::uint64_t offset, double a, double b) {
  // Element i is defined by its position in row-major order, so a strided view has no obvious
  // meaning here; core draws into a fresh contiguous tensor and copies if it needs to.
  EMBER_CHECK(out.is_contiguous(), "ember: cpu random: the output must be contiguous (sizes ",
              out.sizes.str(), ", strides ", out.strides.str(), ")");
  dispatch_arithmetic(out.dtype, "random", [&](auto tag) {
    random_loop<decltype(tag)>(out, kind, seed, offset, a, b);
  });
}

}  // namespace ember::kernels::cpu
