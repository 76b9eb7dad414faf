// Batch normalisation and its gradients on the CPU (kernels/kernel_args.h, BatchNormArgs; the
// arithmetic: kernels/batch_norm_math.h). A channel's values are N runs of S in the [N, C, S] view;
// each channel is summed in double by one thread, and channels are shared among the intra-op threads
// (kernels/cpu/parallel.h) when the work is large enough.
//
// Training reads the input twice: once for every channel's statistics, which are all checked to be
// finite before anything is written (a NaN or Inf in the input is an ember::Error that leaves the
// running statistics as they were: PyTorch would carry the NaN into them), once for the output.
#include <algorithm>
#include <cstdint>
#include <functional>
#include <tuple>
#include <utility>
#include <vector>

#include "ember/core/dtype.h"
#include "ember/core/error.h"
#include "ember/kernels/batch_norm_math.h"
#include "ember/kernels/cpu/cpu_kernels.h"
#include "ember/kernels/cpu/parallel.h"

namespace ember::kernels::cpu {

namespace bn = batch_norm_math;

namespace {

struct Dims {
  std::int64_t n, c, s;
  std::int64_t count() const { return n * s; }  // values per channel
  // The run of S values of channel ch in batch entry i.
  std::int64_t run(std::int64_t i, std::int64_t ch) const { return (i * c + ch) * s; }
};

Dims dims_of(const TensorRef& t) { return {t.sizes[0], t.sizes[1], t.sizes[2]}; }

// Runs fn(ch) for every channel, channels shared among the intra-op threads (parallel.h) in chunks
// of at least kMinValuesPerChunk values, so that a chunk is worth waking a thread for.
void for_each_channel(const Dims& d, const std::function<void(std::int64_t)>& fn) {
  constexpr std::int64_t kMinValuesPerChunk = std::int64_t{1} << 16;
  const std::int64_t grain = std::max<std::int64_t>(1, kMinValuesPerChunk / std::max<std::int64_t>(d.count(), 1));
  parallel_for(d.c, grain, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t ch = begin; ch < end; ++ch) fn(ch);
  });
}

template <typename T> double value(const TensorRef& t, std::int64_t ch, double none) {
  return t.data != nullptr ? static_cast<double>(static_cast<compute_t<T>>(t.ptr<const T>()[ch])) : none;
}

// One channel's statistics (shifted sums, batch_norm_math.h).
template <typename T> bn::Stats channel_stats(const T* x, const Dims& d, std::int64_t ch) {
  const double shift = static_cast<double>(static_cast<compute_t<T>>(x[d.run(0, ch)]));
  double sum = 0.0, sum_sq = 0.0;
  for (std::int64_t i = 0; i < d.n; ++i) {
    const T* run = x + d.run(i, ch);
    for (std::int64_t k = 0; k < d.s; ++k) {
      const double v = static_cast<double>(static_cast<compute_t<T>>(run[k])) - shift;
      sum += v;
      sum_sq += v * v;
    }
  }
  return bn::stats_from_sums(shift, sum, sum_sq, static_cast<double>(d.count()));
}

// output = normalize(x) for one channel, with its mean and invstd already in the compute type.
template <typename T>
void normalize_channel(const BatchNormArgs& a, const Dims& d, std::int64_t ch, compute_t<T> mean, compute_t<T> invstd) {
  using C = compute_t<T>;
  const C w = static_cast<C>(value<T>(a.weight, ch, 1.0)), b = static_cast<C>(value<T>(a.bias, ch, 0.0));
  const T* x = a.input.ptr<const T>();
  T* y = a.output.ptr<T>();
  for (std::int64_t i = 0; i < d.n; ++i) {
    const std::int64_t run = d.run(i, ch);
    for (std::int64_t k = 0; k < d.s; ++k) {
      y[run + k] = T(bn::normalize<C>(static_cast<C>(x[run + k]), mean, invstd, w, b));
    }
  }
}

template <typename T> void train_typed(const BatchNormArgs& a) {
  using C = compute_t<T>;
  const Dims d = dims_of(a.input);
  const T* x = a.input.ptr<const T>();
  std::vector<bn::Stats> stats(static_cast<std::size_t>(d.c));
  for_each_channel(d, [&](std::int64_t ch) { stats[static_cast<std::size_t>(ch)] = channel_stats(x, d, ch); });
  for (std::int64_t ch = 0; ch < d.c; ++ch) {
    const bn::Stats& s = stats[static_cast<std::size_t>(ch)];
    EMBER_CHECK(bn::is_finite(s.mean) && bn::is_finite(s.var), "batch_norm: channel ", ch, " of the input of sizes ",
                a.input.sizes.str(), " holds NaN or Inf (batch mean ", s.mean, ", variance ", s.var,
                "); nothing was changed: the running statistics are as they were");
  }
  // Everything is known good: now write.
  const double count = static_cast<double>(d.count());
  auto* batches = a.num_batches_tracked.data != nullptr ? a.num_batches_tracked.ptr<std::int64_t>() : nullptr;
  const double f = bn::running_factor(!a.momentum.has_value(), a.momentum.value_or(0.0), batches ? *batches : 0);
  if (batches != nullptr) ++*batches;
  C* save_mean = a.save_mean.ptr<C>();
  C* save_invstd = a.save_invstd.ptr<C>();
  for (std::int64_t ch = 0; ch < d.c; ++ch) {
    const bn::Stats& s = stats[static_cast<std::size_t>(ch)];
    save_mean[ch] = static_cast<C>(s.mean);
    save_invstd[ch] = static_cast<C>(bn::invstd(s.var, a.eps));
    if (a.running_mean.data != nullptr) {
      T& rm = a.running_mean.ptr<T>()[ch];
      rm = T(bn::running_mean_update(static_cast<double>(static_cast<C>(rm)), s, f));
    }
    if (a.running_var.data != nullptr) {
      T& rv = a.running_var.ptr<T>()[ch];
      rv = T(bn::running_var_update(static_cast<double>(static_cast<C>(rv)), s, count, f));
    }
  }
  for_each_channel(d, [&](std::int64_t ch) { normalize_channel<T>(a, d, ch, save_mean[ch], save_invstd[ch]); });
}

// The running statistics of channel ch as evaluation uses them: mean and invstd in the compute type.
template <typename T> std::pair<compute_t<T>, compute_t<T>> running_stats(const TensorRef& mean, const TensorRef& var,
                                                                          double eps, std::int64_t ch) {
  using C = compute_t<T>;
  return {static_cast<C>(value<T>(mean, ch, 0.0)), static_cast<C>(bn::invstd(value<T>(var, ch, 1.0), eps))};
}

template <typename T> void eval_typed(const BatchNormArgs& a) {
  const Dims d = dims_of(a.input);
  for_each_channel(d, [&](std::int64_t ch) {
    const auto [mean, invstd] = running_stats<T>(a.running_mean, a.running_var, a.eps, ch);
    normalize_channel<T>(a, d, ch, mean, invstd);
  });
}

template <typename T> void backward_typed(const BatchNormBackwardArgs& a) {
  using C = compute_t<T>;
  const Dims d = dims_of(a.input);
  const T* x = a.input.ptr<const T>();
  const T* g = a.grad_out.ptr<const T>();
  const bool sums_needed = a.grad_weight.data != nullptr || a.grad_bias.data != nullptr ||
                           (a.training && a.grad_input.data != nullptr);
  for_each_channel(d, [&](std::int64_t ch) {
    C mean, invstd;
    if (a.training) {
      mean = a.save_mean.ptr<const C>()[ch];
      invstd = a.save_invstd.ptr<const C>()[ch];
    } else {
      std::tie(mean, invstd) = running_stats<T>(a.running_mean, a.running_var, a.eps, ch);
    }
    double sum_g = 0.0, dotp = 0.0;
    if (sums_needed) {
      for (std::int64_t i = 0; i < d.n; ++i) {
        const std::int64_t run = d.run(i, ch);
        for (std::int64_t k = 0; k < d.s; ++k) {
          const double gv = static_cast<double>(static_cast<C>(g[run + k]));
          sum_g += gv;
          dotp += gv * (static_cast<double>(static_cast<C>(x[run + k])) - static_cast<double>(mean));
        }
      }
    }
    if (a.grad_bias.data != nullptr) a.grad_bias.ptr<T>()[ch] = T(sum_g);
    if (a.grad_weight.data != nullptr) a.grad_weight.ptr<T>()[ch] = T(dotp * static_cast<double>(invstd));
    if (a.grad_input.data == nullptr) return;
    const C w = static_cast<C>(value<T>(a.weight, ch, 1.0));
    const bn::GradTerms terms =
        bn::grad_terms(sum_g, dotp, static_cast<double>(invstd), static_cast<double>(d.count()));
    const C grad_mean = static_cast<C>(terms.grad_mean), k_c = static_cast<C>(terms.k);
    T* gi = a.grad_input.ptr<T>();
    for (std::int64_t i = 0; i < d.n; ++i) {
      const std::int64_t run = d.run(i, ch);
      for (std::int64_t k = 0; k < d.s; ++k) {
        const C gv = static_cast<C>(g[run + k]);
        gi[run + k] = T(a.training ? bn::grad_input_train<C>(gv, static_cast<C>(x[run + k]), mean, invstd, w, grad_mean, k_c)
                                   : bn::grad_input_eval<C>(gv, invstd, w));
      }
    }
  });
}

}  // namespace

void batch_norm_train(int /*device*/, const BatchNormArgs& args) {
  check_batch_norm_args(args, true, "CPU backend");
  dispatch_arithmetic(args.input.dtype, "batch_norm", [&](auto tag) { train_typed<decltype(tag)>(args); });
}

void batch_norm_eval(int /*device*/, const BatchNormArgs& args) {
  check_batch_norm_args(args, false, "CPU backend");
  dispatch_arithmetic(args.input.dtype, "batch_norm", [&](auto tag) { eval_typed<decltype(tag)>(args); });
}

void batch_norm_backward(int /*device*/, const BatchNormBackwardArgs& args) {
  check_batch_norm_backward_args(args, "CPU backend");
  dispatch_arithmetic(args.input.dtype, "batch_norm backward", [&](auto tag) { backward_typed<decltype(tag)>(args); });
}

}  // namespace ember::kernels::cpu
