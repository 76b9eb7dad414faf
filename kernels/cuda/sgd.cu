// Fused SGD: one launch updates every parameter of the list (multi_tensor.cuh), with the formulas
// of torch.optim.SGD (single-tensor, non-fused):
//
//   g = maximize ? -grad : grad
//   if wd != 0:        g = g + wd * p
//   if momentum != 0:  buf = first_step ? g : buf * momentum + (1 - dampening) * g
//                      g = nesterov ? g + momentum * buf : buf
//   p = p - lr * g     (torch: p.add_(g, alpha=-lr))
//
// Scalars come from the host in double and are rounded to the element type; element math rounds
// after every operation (exact_math.cuh), as the CPU does. The gradient is only read.
#include <cuda_runtime.h>

#include <cstdint>

#include "ember/core/error.h"
#include "ember/kernels/cuda/check.h"
#include "ember/kernels/cuda/device.h"
#include "ember/kernels/cuda/exact_math.cuh"
#include "ember/kernels/cuda/launchers.h"
#include "ember/kernels/cuda/multi_tensor.cuh"
#include "ember/kernels/cuda/overlapped_launch.cuh"
#include "ember/kernels/cuda/runtime.h"

namespace ember::kernels::cuda_impl {

namespace {

enum SgdList { kParam, kGrad, kMomentumBuffer, kSgdDepth };

struct SgdScalars {
  double neg_lr;              // -lr
  double momentum;
  double one_minus_dampening;
  double weight_decay;
  bool nesterov, maximize, first_step;
};

template <typename T> __global__ void __launch_bounds__(kMultiTensorBlock) sgd_kernel(TensorTable<kSgdDepth> table, SgdScalars s) {
  overlap_prologue();
  using namespace exact;
  const Chunk chunk = this_block_chunk(table);
  T* param = static_cast<T*>(table.ptrs[kParam][chunk.tensor]);
  const T* grad = static_cast<const T*>(table.ptrs[kGrad][chunk.tensor]);
  T* momentum_buffer = static_cast<T*>(table.ptrs[kMomentumBuffer][chunk.tensor]);  // null without momentum

  const T neg_lr = static_cast<T>(s.neg_lr), momentum = static_cast<T>(s.momentum);
  const T one_minus_dampening = static_cast<T>(s.one_minus_dampening), weight_decay = static_cast<T>(s.weight_decay);

  for (std::int64_t i = chunk.begin + threadIdx.x; i < chunk.end; i += blockDim.x) {
    const T p = param[i];
    T g = s.maximize ? -grad[i] : grad[i];
    if (s.weight_decay != 0.0) g = add(g, mul(weight_decay, p));
    if (s.momentum != 0.0) {
      // The buffer starts as the first gradient, then decays: buf * momentum + (1 - dampening) * g.
      const T buf = s.first_step ? g : add(mul(momentum_buffer[i], momentum), mul(one_minus_dampening, g));
      momentum_buffer[i] = buf;
      g = s.nesterov ? add(g, mul(momentum, buf)) : buf;
    }
    param[i] = add(p, mul(neg_lr, g));
  }
}

void check_list(std::span<const TensorRef> list, std::span<const TensorRef> params, const char* name) {
  EMBER_CHECK(list.size() == params.size(), "ember (CUDA backend) sgd: ", name, " has ", list.size(),
              " tensors, params has ", params.size());
  for (std::size_t t = 0; t < list.size(); ++t) {
    EMBER_CHECK(list[t].dtype == params[0].dtype, "ember (CUDA backend) sgd: ", name, " has dtype ",
                dtype_name(list[t].dtype), ", params have ", dtype_name(params[0].dtype));
    EMBER_CHECK(list[t].is_contiguous(), "ember (CUDA backend) sgd: ", name, " must be contiguous");
    EMBER_CHECK(list[t].numel() == params[t].numel(), "ember (CUDA backend) sgd: ", name, "[", t, "] has ",
                list[t].numel(), " elements, its parameter ", params[t].numel());
  }
}

}  // namespace

void sgd(int device, const SgdArgs& args) {
  if (args.params.empty()) return;
  const bool momentum = args.momentum != 0.0;
  check_list(args.params, args.params, "params");
  check_list(args.grads, args.params, "grads");
  if (momentum) check_list(args.momentum_buffers, args.params, "momentum_buffers");

  const SgdScalars scalars{
      .neg_lr = -args.lr,
      .momentum = args.momentum,
      .one_minus_dampening = 1.0 - args.dampening,
      .weight_decay = args.weight_decay,
      .nesterov = args.nesterov,
      .maximize = args.maximize,
      .first_step = args.first_step,
  };

  const DeviceGuard guard(device);
  const DeviceContext& ctx = context(device);
  dispatch_float32_64(args.params[0].dtype, "sgd", [&](auto zero) {
    using T = decltype(zero);
    const auto launch = [&](const TensorTable<kSgdDepth>& table, unsigned blocks) {
      launch_overlapped<sgd_kernel<T>>(ctx, blocks, kMultiTensorBlock, table, scalars);
    };
    TensorTableBuilder<kSgdDepth> builder;
    for (std::size_t t = 0; t < args.params.size(); ++t) {
      builder.add({args.params[t].data, args.grads[t].data, momentum ? args.momentum_buffers[t].data : nullptr},
                  args.params[t].numel(), launch);
    }
    builder.flush(launch);
  });
}

}  // namespace ember::kernels::cuda_impl
