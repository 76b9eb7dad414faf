// Pooling on the CPU (the checks: pool_checks.h).
#include "pool_checks.h"

using ember::Device;
namespace pc = pool_checks;

TEST_CASE("max_pool2d values, indices and gradients against loops in double", "[pool]") { pc::max_values(Device::cpu()); }
TEST_CASE("avg_pool2d values and gradients against loops in double", "[pool]") { pc::avg_values(Device::cpu()); }
TEST_CASE("adaptive_avg_pool2d values and gradients against loops in double", "[pool]") {
  pc::adaptive_values(Device::cpu());
}
TEST_CASE("max_pool2d: NaN propagates, ties go to the first maximum", "[pool]") { pc::nan_and_ties(Device::cpu()); }
TEST_CASE("pooling shapes: unbatched, empty batch, strided views, 1-D ops, modules", "[pool]") {
  pc::shapes_and_layouts(Device::cpu());
}
TEST_CASE("pooling of many planes (several CPU threads) against loops in double", "[pool]") { pc::large(Device::cpu()); }
TEST_CASE("gradcheck: max_pool2d, avg_pool2d, adaptive_avg_pool2d, 1-D pooling", "[pool][autograd]") {
  pc::gradients(Device::cpu());
}
TEST_CASE("pooling in bfloat16 and float16 is float32 rounded once", "[pool]") { pc::half_precision(Device::cpu()); }
TEST_CASE("pooling against PyTorch", "[pool]") { pc::against_pytorch(Device::cpu()); }
