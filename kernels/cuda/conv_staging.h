// What cuDNN is given when a call's tensors are not as its engines take them (conv_staging.cpp):
//  - mixed layouts: PyTorch hands cuDNN all three tensors in one layout (channels-last when the
//    input or the weight is, cudnn_conv_suggest_memory_format), so engines for mixes cannot be
//    counted on. A ref in the other layout is copied into a buffer of the call's layout.
//  - padding that differs at the two ends of a dim (padding="same" with an even kernel): PyTorch
//    pads the input explicitly first, for the same reason. The common part stays cuDNN's padding,
//    the excess becomes zeros around a copy of the input.
// The buffers are borrowed from the caching allocator for the call; the written ref is computed
// into its buffer and copied out by finish().
#pragma once

#include <optional>

#include "ember/kernels/cuda/caching_allocator.h"
#include "ember/kernels/cuda/conv_plan.h"
#include "ember/kernels/kernel_args.h"

namespace ember::kernels::cuda_impl {

// Whether args need staging: mixed layouts or asymmetric padding.
bool needs_staging(const ConvArgs& args);

class ConvStaging {
 public:
  // Allocates the buffers and queues the copies of the refs the kernel reads.
  ConvStaging(ConvKind kind, int device, const ConvArgs& args);
  ConvStaging(const ConvStaging&) = delete;
  ConvStaging& operator=(const ConvStaging&) = delete;

  // What to give cuDNN: the staged refs, symmetric padding.
  const ConvArgs& args() const { return staged_; }
  // Queues the copy of the written ref out of its buffer (when it was staged).
  void finish();

 private:
  struct Buffer {
    CachedBuffer memory;
    TensorRef whole;     // what cuDNN sees
    TensorRef interior;  // the part that is the caller's ref (all of it, unless padded)
  };
  Buffer stage(const TensorRef& t, std::array<std::int64_t, 2> before,
               std::array<std::int64_t, 2> after) const;

  ConvKind kind_;
  int device_;
  bool channels_last_;
  ConvArgs original_, staged_;
  std::optional<Buffer> input_, weight_, output_;
};

}  // namespace ember::kernels::cuda_impl
