// examples/fashion_mnist's CNN on CUDA against PyTorch (the checks: fashion_cnn_checks.h). TF32 is
// off for this test: the reference ran in float32 on a CPU, and TF32 convolutions round products to
// 10-bit mantissas (about 1e-3 relative), beyond the 1e-4 this test holds the loss to.
#include "fashion_cnn_checks.h"

namespace {
struct NoTf32Convolutions {
  bool saved = ember::cuda::cudnn_allow_tf32();
  NoTf32Convolutions() { ember::cuda::set_cudnn_allow_tf32(false); }
  ~NoTf32Convolutions() { ember::cuda::set_cudnn_allow_tf32(saved); }
};
}  // namespace

TEST_CASE("CUDA Fashion-MNIST CNN: 20 Adam steps match PyTorch within 1e-4", "[cuda][fashion_cnn]") {
  const NoTf32Convolutions no_tf32;
  fashion_cnn_checks::twenty_steps_match_pytorch(ember::Device::cuda());
}
