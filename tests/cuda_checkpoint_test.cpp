// Resumable checkpoints on the GPU: 500 steps on CUDA, a checkpoint, and 500 more in a new process
// give the same weights, optimizer state and generator state, bit for bit, as 1000 steps without a
// stop (tests/checkpoint_support.h has the machinery; tests/checkpoint_test.cpp the CPU version).
#include "checkpoint_support.h"

using namespace ember;
using namespace ember::test;

TEST_CASE(kChildTest, "[.][checkpoint-child]") { run_checkpoint_child(); }

TEST_CASE("Adam training on CUDA resumed in a new process matches 1000 uninterrupted steps bit for bit",
          "[cuda][checkpoint]") {
  resume_in_new_process<optim::Adam>("resume-adam", adam_options(), Device::cuda());
}

TEST_CASE("SGD-momentum training on CUDA resumed in a new process matches 1000 uninterrupted steps bit for bit",
          "[cuda][checkpoint]") {
  resume_in_new_process<optim::SGD>("resume-sgd", sgd_options(), Device::cuda());
}
