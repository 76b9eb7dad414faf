// Op kernels, registered per (kernel, device type). Core calls a kernel with
//   kernels::call<Kernel::gemm>(device, args);
// which finds the kernel registered for the device's type and calls it with the device index. A
// kernel a device does not have is an ember::Error naming both, not a null call; a fused op
// (mse_loss with its gradient, adam, sgd, gemm with its epilogues) is registered like any other.
//
// The list below is the one place a kernel's signature is written: the enum, the names in messages
// and the registry's typed slots come from it. Each device registers its kernels in one function
// (kernels/cpu/backend_cpu.cpp, kernels/cuda/backend_cuda.cpp). Memory, copies between host and
// device and synchronisation are not op kernels: they are the device runtime (device_runtime.h).
#pragma once

#include <array>
#include <cstdint>
#include <utility>

#include "ember/core/device.h"
#include "ember/kernels/kernel_args.h"
#include "ember/kernels/op_list.h"
#include "ember/kernels/tensor_ref.h"

// X(name, signature). Every signature takes the device index first.
#define EMBER_KERNELS(X)                                                                               \
  /* Strided copy with dtype conversion; dst and src have the same sizes (src may broadcast). */      \
  X(copy, void(int device, const TensorRef& dst, const TensorRef& src))                                \
  X(fill, void(int device, const TensorRef& out, double value))                                       \
  /* Counter-based random numbers (Philox 4x32-10): element i of a contiguous `out` gets the value */ \
  /* for counter offset + i under key seed, so every device draws the same numbers. */                \
  /* Uniform: a + (b - a) * U[0, 1); Normal: a + b * N(0, 1). */                                        \
  X(random, void(int device, const TensorRef& out, RandomKind kind, std::uint64_t seed,               \
                 std::uint64_t offset, double a, double b))                                           \
  /* The element-wise ops of kernels/op_list.h, computed by the functors of elementwise_math.h. */    \
  X(unary, void(int device, UnaryOp op, const TensorRef& out, const TensorRef& in))                   \
  /* A unary op's input gradient: grad_in = op.backward(grad_out, saved), saved being the op's */     \
  /* input or output (math::saves(op)), or grad_out itself when the backward reads neither. */        \
  X(unary_backward, void(int device, UnaryOp op, const TensorRef& grad_in, const TensorRef& grad_out,  \
                         const TensorRef& saved))                                                     \
  X(binary, void(int device, BinaryOp op, const TensorRef& out, const TensorRef& a, const TensorRef& b)) \
  /* out = a op scalar, or scalar op a when scalar_first. */                                           \
  X(binary_scalar, void(int device, BinaryOp op, const TensorRef& out, const TensorRef& a,            \
                        double scalar, bool scalar_first))                                            \
  /* out has in's number of dims, with size 1 on the reduced dims (keepdim layout). */                \
  X(reduce, void(int device, ReduceKind op, const TensorRef& out, const TensorRef& in))               \
  X(gemm, void(int device, const GemmArgs& args))                                                      \
  X(mse_loss, void(int device, const MseArgs& args))                                                   \
  /* Softmax (or log-softmax when `log`) over dim 1 of contiguous [outer, n, inner] views, in the */  \
  /* compute type (float for 16-bit): out = exp(x - max) / sum exp(x - max), log: x - max - log sum. */ \
  X(softmax, void(int device, const TensorRef& out, const TensorRef& in, bool log))                   \
  /* Its gradient from the output y: softmax: y * (g - sum g y); log: g - exp(y) * sum g. */          \
  X(softmax_backward, void(int device, const TensorRef& grad_in, const TensorRef& grad_out,           \
                           const TensorRef& out, bool log))                                           \
  /* The index (int64) of the first maximum along dim 1 of a contiguous [outer, n, inner] view, */     \
  /* NaN counting as the maximum (as torch.argmax); out is [outer, 1, inner]. */                      \
  X(argmax, void(int device, const TensorRef& out, const TensorRef& in))                               \
  X(nll_loss, void(int device, const NllArgs& args))                                                   \
  X(nll_loss_backward, void(int device, const NllBackwardArgs& args))                                  \
  /* 2-D convolution and its two gradients (ConvArgs in kernel_args.h says which ref each writes). */ \
  X(conv2d, void(int device, const ConvArgs& args))                                                    \
  X(conv2d_backward_input, void(int device, const ConvArgs& args))                                     \
  X(conv2d_backward_weight, void(int device, const ConvArgs& args))                                    \
  /* Batch normalisation: training (batch statistics, running ones updated), evaluation (running */  \
  /* statistics) and the gradients of either (BatchNormArgs in kernel_args.h has the formulas). */      \
  X(batch_norm_train, void(int device, const BatchNormArgs& args))                                     \
  X(batch_norm_eval, void(int device, const BatchNormArgs& args))                                      \
  X(batch_norm_backward, void(int device, const BatchNormBackwardArgs& args))                          \
  /* 2-D max and average pooling and their input gradient (PoolArgs in kernel_args.h). */          \
  X(pool2d, void(int device, const PoolArgs& args))                                                    \
  X(pool2d_backward, void(int device, const PoolArgs& args))                                           \
  /* Adaptive average pooling of contiguous NCHW refs: out (oh, ow) is the mean of in's rows */        \
  /* [floor(oh * H / OH), ceil((oh + 1) * H / OH)) and the columns alike, its sum in the compute */   \
  /* type divided by its size. The backward gives each element of grad_in the sum of g / size over */ \
  /* the windows holding it, in their row-major order, rounded once. */                               \
  X(adaptive_avg_pool2d, void(int device, const TensorRef& out, const TensorRef& in))                 \
  X(adaptive_avg_pool2d_backward, void(int device, const TensorRef& grad_in, const TensorRef& grad_out)) \
  X(adam, void(int device, const AdamArgs& args))                                                      \
  X(sgd, void(int device, const SgdArgs& args))

namespace ember::kernels {

#define EMBER_KERNEL_ENUM(name, signature) name,
enum class Kernel : std::uint8_t { EMBER_KERNELS(EMBER_KERNEL_ENUM) };
#undef EMBER_KERNEL_ENUM
#define EMBER_KERNEL_COUNT(name, signature) +1
inline constexpr int kKernelCount = 0 EMBER_KERNELS(EMBER_KERNEL_COUNT);
#undef EMBER_KERNEL_COUNT

// The function type of each kernel.
template <Kernel K> struct KernelSignature;
#define EMBER_KERNEL_SIGNATURE(name, signature) \
  template <> struct KernelSignature<Kernel::name> { using type = signature; };
EMBER_KERNELS(EMBER_KERNEL_SIGNATURE)
#undef EMBER_KERNEL_SIGNATURE
template <Kernel K> using KernelFn = typename KernelSignature<K>::type*;

const char* kernel_name(Kernel kernel);

// Kernels by (kernel, device type). Filled once, on first use, by each device's registration
// function; read-only afterwards, so lookups need no lock.
class KernelRegistry {
 public:
  template <Kernel K> void add(DeviceType type, KernelFn<K> fn) {
    slot(K, type) = reinterpret_cast<AnyFn>(fn);
  }
  template <Kernel K> KernelFn<K> find(DeviceType type) const {
    return reinterpret_cast<KernelFn<K>>(slots_[index(type)][static_cast<std::size_t>(K)]);
  }
  bool has(Kernel kernel, DeviceType type) const {
    return slots_[index(type)][static_cast<std::size_t>(kernel)] != nullptr;
  }

 private:
  using AnyFn = void (*)();  // any function pointer converts to this and back (C++ [expr.reinterpret.cast])
  static constexpr std::size_t kDeviceTypes = 2;  // DeviceType::CPU, DeviceType::CUDA
  static constexpr std::size_t index(DeviceType type) { return static_cast<std::size_t>(type); }
  AnyFn& slot(Kernel kernel, DeviceType type);
  std::array<std::array<AnyFn, kKernelCount>, kDeviceTypes> slots_{};
};

// The registry, with every device compiled into this build registered.
const KernelRegistry& registry();

namespace detail {
// Throws ember::Error unless `device` exists on this machine (and its backend is in this build).
void check_device(Device device);
[[noreturn]] void missing_kernel(Kernel kernel, Device device);
}  // namespace detail

// Runs kernel K on `device`: the registered function, called with device.index() and args.
template <Kernel K, typename... Args> void call(Device device, Args&&... args) {
  if (!device.is_cpu()) [[unlikely]] detail::check_device(device);
  const KernelFn<K> fn = registry().find<K>(device.type());
  if (fn == nullptr) [[unlikely]] detail::missing_kernel(K, device);
  fn(device.index(), std::forward<Args>(args)...);
}

}  // namespace ember::kernels
