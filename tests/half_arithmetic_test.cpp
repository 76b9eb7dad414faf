// bfloat16 and float16 arithmetic on the CPU (the checks: half_arithmetic_checks.h).
#include "half_arithmetic_checks.h"

using ember::Device;

TEST_CASE("bfloat16/float16 unary ops compute in float32 and round once", "[dtype][half]") {
  half_checks::unary_ops_round_once(Device::cpu());
}
TEST_CASE("bfloat16/float16 binary ops compute in float32 and round once", "[dtype][half]") {
  half_checks::binary_ops_round_once(Device::cpu());
}
TEST_CASE("bfloat16/float16 sums, means and maxes round once", "[dtype][half]") {
  half_checks::reductions_round_once(Device::cpu());
}
TEST_CASE("bfloat16/float16 backward", "[dtype][half]") { half_checks::backward_rounds_once(Device::cpu()); }
TEST_CASE("bfloat16/float16 matmul and linear multiply in float32", "[dtype][half]") {
  half_checks::matmul_in_float32(Device::cpu(), 0.0);  // the CPU rounds the float32 product: exact
}
TEST_CASE("bfloat16/float16 random draws and mse_loss", "[dtype][half]") {
  half_checks::random_and_loss(Device::cpu());
}
