// The CPU backend's table: the functions of kernels/cpu/*.cpp, in Backend's slots.
#include "ember/kernels/backend.h"
#include "ember/kernels/cpu/cpu_kernels.h"

namespace ember::kernels {

const Backend& cpu_backend() {
  // Designated initializers: a slot added to Backend but not filled here draws a
  // -Wmissing-field-initializers warning (an error under EMBER_WERROR) at build time, instead of
  // going unnoticed until its null pointer is called.
  static constexpr Backend table{
      .device_count = cpu::device_count,
      .allocate = cpu::allocate,
      .deallocate = cpu::deallocate,
      .copy_to_host = cpu::copy_to_host,
      .copy_from_host = cpu::copy_from_host,
      .synchronize = cpu::synchronize,
      .copy = cpu::copy,
      .fill = cpu::fill,
      .random = cpu::random,
      .unary = cpu::unary,
      .unary_backward = cpu::unary_backward,
      .binary = cpu::binary,
      .binary_scalar = cpu::binary_scalar,
      .reduce = cpu::reduce,
      .gemm = cpu::gemm,
      .mse_loss = cpu::mse_loss,
      .adam = cpu::adam,
      .sgd = cpu::sgd,
  };
  return table;
}

}  // namespace ember::kernels
