// The kernel registry: the CPU, the reference device, registers every kernel; a device without a
// kernel, or a device that does not exist, is an ember::Error naming it.
#include "catch.h"
#include <ember/ember.h>
#include <ember/kernels/registry.h>

using namespace ember;
using Catch::Matchers::ContainsSubstring;

TEST_CASE("the CPU registers every kernel of EMBER_KERNELS", "[registry]") {
  for (int k = 0; k < kernels::kKernelCount; ++k) {
    const auto kernel = static_cast<kernels::Kernel>(k);
    INFO(kernels::kernel_name(kernel));
    CHECK(kernels::registry().has(kernel, DeviceType::CPU));
  }
  CHECK(std::string(kernels::kernel_name(kernels::Kernel::gemm)) == "gemm");
  CHECK(std::string(kernels::kernel_name(kernels::Kernel::unary_backward)) == "unary_backward");
}

TEST_CASE("a kernel on a device that does not exist names the device", "[registry]") {
  const kernels::TensorRef none{};
  CHECK_THROWS_WITH(kernels::call<kernels::Kernel::fill>(Device::cuda(63), none, 0.0),
                    ContainsSubstring("cuda:63"));
}
