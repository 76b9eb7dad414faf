// bfloat16 and float16 arithmetic on CUDA (the checks: half_arithmetic_checks.h): the same
// bit-for-bit checks as on the CPU, but for matmul, where cuBLAS sums in its own order.
#include "half_arithmetic_checks.h"

using ember::Device;

TEST_CASE("CUDA bfloat16/float16 unary ops compute in float32 and round once", "[cuda][dtype][half]") {
  half_checks::unary_ops_round_once(Device::cuda());
}
TEST_CASE("CUDA bfloat16/float16 binary ops compute in float32 and round once", "[cuda][dtype][half]") {
  half_checks::binary_ops_round_once(Device::cuda());
}
TEST_CASE("CUDA bfloat16/float16 sums, means and maxes round once", "[cuda][dtype][half]") {
  half_checks::reductions_round_once(Device::cuda());
}
TEST_CASE("CUDA bfloat16/float16 backward", "[cuda][dtype][half]") {
  half_checks::backward_rounds_once(Device::cuda());
}
TEST_CASE("CUDA bfloat16/float16 matmul and linear multiply in float32", "[cuda][dtype][half]") {
  half_checks::matmul_in_float32(Device::cuda(), 1e-2);
}
TEST_CASE("CUDA bfloat16/float16 random draws and mse_loss", "[cuda][dtype][half]") {
  half_checks::random_and_loss(Device::cuda());
}
