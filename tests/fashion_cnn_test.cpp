// examples/fashion_mnist's CNN on the CPU against PyTorch (the checks: fashion_cnn_checks.h).
#include "fashion_cnn_checks.h"

TEST_CASE("Fashion-MNIST CNN: 20 Adam steps match PyTorch within 1e-4", "[fashion_cnn]") {
  fashion_cnn_checks::twenty_steps_match_pytorch(ember::Device::cpu());
}
