// Fused Adam / AdamW: one launch updates every parameter of the list (multi_tensor.cuh), with the
// formulas of torch.optim.Adam / AdamW (single-tensor, non-fused, non-capturable):
//
//   g = maximize ? -grad : grad
//   weight decay:  AdamW (decoupled): p *= 1 - lr * wd;   Adam: g = g + wd * p
//   m = lerp(m, g, 1 - beta1)              first moment (torch's lerp, see lerp() below)
//   v = v * beta2 + (1 - beta2) * g * g    second moment
//   step_size = lr / (1 - beta1^step),  bc2_sqrt = sqrt(1 - beta2^step)   bias corrections
//   v_hat = amsgrad ? (v_max = max(v_max, v)) : v
//   p = p - step_size * m / (sqrt(v_hat) / bc2_sqrt + eps)
//
// The scalars are computed in double on the host, as Python does, and rounded to the element type
// in the kernel; all element math is in the element type, rounded after each operation (no FMA,
// exact_math.cuh) so that the CPU and CUDA backends step identically. The gradient is only read.
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>

#include "ember/core/error.h"
#include "ember/kernels/cuda/check.h"
#include "ember/kernels/cuda/device.h"
#include "ember/kernels/cuda/exact_math.cuh"
#include "ember/kernels/cuda/last_block.cuh"
#include "ember/kernels/cuda/launchers.h"
#include "ember/kernels/cuda/overlapped_launch.cuh"
#include "ember/kernels/cuda/multi_tensor.cuh"
#include "ember/kernels/cuda/runtime.h"

namespace ember::kernels::cuda_impl {

namespace {

enum AdamList { kParam, kGrad, kExpAvg, kExpAvgSq, kMaxExpAvgSq, kStep, kAdamDepth };

struct AdamScalars {
  double beta1_weight;   // 1 - beta1: the lerp weight
  double beta2;
  double one_minus_beta2;
  double weight_decay;
  double decay_factor;   // 1 - lr * weight_decay (decoupled)
  double step_size;      // lr / (1 - beta1^step)
  double bc2_sqrt;       // sqrt(1 - beta2^step)
  double eps;
  bool decoupled, amsgrad, maximize;
  double lr, beta1;  // for the bias corrections from device step counts
};

// torch.lerp: start + w * (end - start) for |w| < 0.5, else end - (end - start) * (1 - w); the
// second form is exact at w = 1.
template <typename T> __device__ __forceinline__ T lerp(T start, T end, T weight) {
  using namespace exact;
  return std::fabs(weight) < T(0.5) ? add(start, mul(weight, end - start)) : sub(end, mul(end - start, T(1) - weight));
}

// Device step counts are read and written with relaxed atomics: a launch reads its counts once
// before its overlap_prologue() (see adam_kernel), when the kernel before it may still be running.
__device__ __forceinline__ double load_count(const double* count) {
  double value;
  asm volatile("ld.relaxed.gpu.global.f64 %0, [%1];" : "=d"(value) : "l"(count) : "memory");
  return value;
}
__device__ __forceinline__ void store_count(double* count, double value) {
  asm volatile("st.relaxed.gpu.global.f64 [%0], %1;" ::"l"(count), "d"(value) : "memory");
}

// The bias corrections for step number `step`: the host's formulas, in double.
__device__ __forceinline__ void bias_corrections(const AdamScalars& s, double step, double& step_size, double& bc2_sqrt) {
  step_size = s.lr / (1.0 - pow(s.beta1, step));
  bc2_sqrt = sqrt(1.0 - pow(s.beta2, step));
}

// Capturable Adam keeps each tensor's step count on the device, a double (list kStep). Every
// block computes the bias corrections from count + 1; the launch advances the counts once every
// block that reads them has (kNone: counts are on the host, and `step` of AdamArgs is used).
//  - kOwnBlock, when every tensor fits in one block: each block advances its own tensor's count
//    after a barrier, and block 0 those of empty tensors, which no block reads. No atomics, no
//    fences: the short path for small models, where this latency is most of the kernel's time.
//  - kLastBlock otherwise: the launch's last block (last_block.cuh) advances them all.
enum class StepAdvance { kNone, kOwnBlock, kLastBlock };

template <typename Table>
__device__ void advance_step_counts(const Table& table, const Chunk& chunk, StepAdvance how, unsigned* ticket) {
  const auto advance = [&](int t) {
    auto* count = static_cast<double*>(table.ptrs[kStep][t]);
    store_count(count, load_count(count) + 1.0);
  };
  if (how == StepAdvance::kOwnBlock) {
    __syncthreads();  // every thread of this block has read the count
    if (threadIdx.x == 0 && table.numel[chunk.tensor] > 0) advance(chunk.tensor);
    if (blockIdx.x == 0) {
      for (int t = static_cast<int>(threadIdx.x); t < table.count; t += kMultiTensorBlock)
        if (table.numel[t] == 0) advance(t);
    }
  } else if (how == StepAdvance::kLastBlock && is_last_block(ticket)) {
    for (int t = static_cast<int>(threadIdx.x); t < table.count; t += kMultiTensorBlock) advance(t);
  }
}

template <typename T, typename Table>
__global__ void __launch_bounds__(kMultiTensorBlock) adam_kernel(Table table, AdamScalars s, StepAdvance step_advance,
                                                                  unsigned* ticket) {
  const Chunk chunk = this_block_chunk(table);  // from the kernel's parameters: no memory read
  // With device step counts, the bias corrections take two double-precision pow calls, whose
  // latency was most of a small model's Adam kernel. They are computed speculatively before
  // overlap_prologue(), from the count as read then, while the previous kernel still runs; after
  // the wait the count is read again and, in the rare case it changed (the previous kernel was an
  // Adam update of the same parameters), they are computed again.
  double* const count =
      step_advance != StepAdvance::kNone ? static_cast<double*>(table.ptrs[kStep][chunk.tensor]) : nullptr;
  double step_size_d = s.step_size, bc2_sqrt_d = s.bc2_sqrt, early_count = 0.0;
  if (count != nullptr) {
    early_count = load_count(count);
    bias_corrections(s, early_count + 1.0, step_size_d, bc2_sqrt_d);
  }
  overlap_prologue();
  if (count != nullptr) {
    const double final_count = load_count(count);
    if (final_count != early_count) bias_corrections(s, final_count + 1.0, step_size_d, bc2_sqrt_d);
  }
  T* param = static_cast<T*>(table.ptrs[kParam][chunk.tensor]);
  const T* grad = static_cast<const T*>(table.ptrs[kGrad][chunk.tensor]);
  T* exp_avg = static_cast<T*>(table.ptrs[kExpAvg][chunk.tensor]);
  T* exp_avg_sq = static_cast<T*>(table.ptrs[kExpAvgSq][chunk.tensor]);
  T* max_exp_avg_sq = static_cast<T*>(table.ptrs[kMaxExpAvgSq][chunk.tensor]);  // null unless amsgrad

  const T beta1_weight = static_cast<T>(s.beta1_weight), beta2 = static_cast<T>(s.beta2);
  const T one_minus_beta2 = static_cast<T>(s.one_minus_beta2), weight_decay = static_cast<T>(s.weight_decay);
  const T decay_factor = static_cast<T>(s.decay_factor), eps = static_cast<T>(s.eps);
  const T step_size = static_cast<T>(step_size_d), bc2_sqrt = static_cast<T>(bc2_sqrt_d);

  using namespace exact;
  for (std::int64_t i = chunk.begin + threadIdx.x; i < chunk.end; i += blockDim.x) {
    T p = param[i];
    T g = s.maximize ? -grad[i] : grad[i];
    const T m_old = exp_avg[i], v_old = exp_avg_sq[i];
    if (s.weight_decay != 0.0) {
      if (s.decoupled) p = p * decay_factor;
      else g = add(g, mul(weight_decay, p));  // g + wd * p
    }
    // First and second moments: m = lerp(m, g, 1 - beta1); v = v * beta2 + (1 - beta2) * g * g.
    const T m = lerp(m_old, g, beta1_weight);
    const T v = add(mul(v_old, beta2), mul(mul(one_minus_beta2, g), g));
    exp_avg[i] = m;
    exp_avg_sq[i] = v;
    // The second moment the step uses: AMSGrad keeps its running maximum (NaN propagates).
    T v_hat = v;
    if (s.amsgrad) {
      const T previous = max_exp_avg_sq[i];
      v_hat = (std::isnan(previous) || previous > v) ? previous : v;
      max_exp_avg_sq[i] = v_hat;
    }
    // Bias-corrected step: p - step_size * m / (sqrt(v_hat) / bc2_sqrt + eps).
    const T denom = add(std::sqrt(v_hat) / bc2_sqrt, eps);
    param[i] = sub(p, mul(step_size, m) / denom);
  }
  advance_step_counts(table, chunk, step_advance, ticket);
}

void check_list(std::span<const TensorRef> list, std::size_t count, DType dtype, const char* name) {
  EMBER_CHECK(list.size() == count, "ember (CUDA backend) adam: ", name, " has ", list.size(),
              " tensors, params has ", count);
  for (const TensorRef& t : list) {
    EMBER_CHECK(t.dtype == dtype, "ember (CUDA backend) adam: ", name, " has dtype ", dtype_name(t.dtype),
                ", params have ", dtype_name(dtype));
    EMBER_CHECK(t.is_contiguous(), "ember (CUDA backend) adam: ", name, " must be contiguous");
  }
}

}  // namespace

void adam(int device, const AdamArgs& args) {
  const std::size_t count = args.params.size();
  if (count == 0) return;
  const DType dtype = args.params[0].dtype;
  check_list(args.params, count, dtype, "params");
  check_list(args.grads, count, dtype, "grads");
  check_list(args.exp_avg, count, dtype, "exp_avg");
  check_list(args.exp_avg_sq, count, dtype, "exp_avg_sq");
  if (args.amsgrad) check_list(args.max_exp_avg_sq, count, dtype, "max_exp_avg_sq");
  for (std::size_t t = 0; t < count; ++t) {
    const std::int64_t n = args.params[t].numel();
    EMBER_CHECK(args.grads[t].numel() == n && args.exp_avg[t].numel() == n && args.exp_avg_sq[t].numel() == n &&
                    (!args.amsgrad || args.max_exp_avg_sq[t].numel() == n),
                "ember (CUDA backend) adam: parameter ", t, " and its gradient or state differ in size");
  }
  EMBER_CHECK(args.step >= 1, "ember (CUDA backend) adam: step must be >= 1, got ", args.step);
  const bool device_step = !args.steps.empty();
  if (device_step) {
    EMBER_CHECK(args.steps.size() == count, "ember (CUDA backend) adam: ", args.steps.size(),
                " step counters for ", count, " parameters");
    for (const TensorRef& c : args.steps) {
      EMBER_CHECK(c.dtype == DType::Float64 && c.numel() == 1, "ember (CUDA backend) adam: a step "
                  "counter must be one float64");
    }
  }

  const double step = static_cast<double>(args.step);
  const AdamScalars scalars{
      .beta1_weight = 1.0 - args.beta1,
      .beta2 = args.beta2,
      .one_minus_beta2 = 1.0 - args.beta2,
      .weight_decay = args.weight_decay,
      .decay_factor = 1.0 - args.lr * args.weight_decay,
      .step_size = args.lr / (1.0 - std::pow(args.beta1, step)),
      .bc2_sqrt = std::sqrt(1.0 - std::pow(args.beta2, step)),
      .eps = args.eps,
      .decoupled = args.decoupled_weight_decay,
      .amsgrad = args.amsgrad,
      .maximize = args.maximize,
      .lr = args.lr,
      .beta1 = args.beta1,
  };

  const DeviceGuard guard(device);
  const DeviceContext& ctx = context(device);
  // Fills tables of `Capacity` tensors and launches one kernel per table.
  const auto run = [&]<typename T, int Capacity>() {
    using Table = TensorTable<kAdamDepth, Capacity>;
    const auto launch = [&](const Table& table, unsigned blocks) {
      StepAdvance step_advance = StepAdvance::kNone;
      if (device_step) {
        step_advance = StepAdvance::kOwnBlock;
        for (int t = 0; t < table.count; ++t) {
          if (table.first_block[t + 1] - table.first_block[t] > 1) step_advance = StepAdvance::kLastBlock;
        }
      }
      launch_overlapped<adam_kernel<T, Table>>(ctx, blocks, kMultiTensorBlock, table, scalars, step_advance,
                                               ctx.ticket(Ticket::kAdam));
    };
    // With device step counts, empty parameters stay in the table: their counts advance too.
    TensorTableBuilder<kAdamDepth, Capacity> builder(/*keep_empty=*/device_step);
    for (std::size_t t = 0; t < count; ++t) {
      builder.add({args.params[t].data, args.grads[t].data, args.exp_avg[t].data, args.exp_avg_sq[t].data,
                   args.amsgrad ? args.max_exp_avg_sq[t].data : nullptr,
                   device_step ? args.steps[t].data : nullptr},
                  args.params[t].numel(), launch);
    }
    builder.flush(launch);
  };
  dispatch_float32_64(dtype, "adam", [&](auto zero) {
    using T = decltype(zero);
    if (count <= kSmallTable) run.template operator()<T, kSmallTable>();
    else run.template operator()<T, kMaxTensors>();
  });
}

}  // namespace ember::kernels::cuda_impl
