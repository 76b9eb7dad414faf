// Batch normalisation's arithmetic (kernels/kernel_args.h, BatchNormArgs), written once for both
// devices: g++ compiles it into the CPU kernels, nvcc into the CUDA ones, neither fusing a * b + c
// into an FMA. The devices then differ only in the order in which they add a channel's values up
// (in double), so their results agree to the last bit of the compute type almost always.
//
// Per channel, in double: the statistics from the sums, the running-statistics update, the
// gradient's coefficients. Per element, in the compute type C (float for 16-bit and float32 inputs,
// double for float64): the normalisation and the input gradient, in PyTorch's order of operations.
#pragma once

#include <cmath>

#include "ember/core/host_device.h"

namespace ember::kernels::batch_norm_math {

// Neither NaN nor infinite: x - x is NaN for both. The same test on both devices.
EMBER_HOST_DEVICE bool is_finite(double x) { return x - x == 0.0; }

// A channel's mean and biased variance.
struct Stats {
  double mean, var;
};

// The statistics of `count` values from the sums of d = x - shift and of d^2 over them, shift being
// one of the channel's values (its first). Shifting keeps sum d^2 - (sum d)^2 / count from cancelling
// when the mean is far from 0 relative to the spread; the variance is then as accurate as a second
// pass over (x - mean)^2 would make it, from one pass. Rounding can leave it a hair below 0, which
// is clamped (NaN stays NaN).
EMBER_HOST_DEVICE Stats stats_from_sums(double shift, double sum, double sum_sq, double count) {
  const double mean_d = sum / count;
  const double var = (sum_sq - sum * mean_d) / count;
  return {shift + mean_d, var < 0.0 ? 0.0 : var};
}

EMBER_HOST_DEVICE double invstd(double var, double eps) { return 1.0 / std::sqrt(var + eps); }

// The weight of this batch in the running statistics: momentum, or 1 / (batches counted so far,
// this one included) for a cumulative average (PyTorch's momentum=None).
EMBER_HOST_DEVICE double running_factor(bool cumulative, double momentum, long long batches_before) {
  return cumulative ? 1.0 / static_cast<double>(batches_before + 1) : momentum;
}

// PyTorch's update: f * batch + (1 - f) * running, with the unbiased variance var * M / (M - 1).
EMBER_HOST_DEVICE double running_mean_update(double running, const Stats& s, double f) {
  return f * s.mean + (1.0 - f) * running;
}
EMBER_HOST_DEVICE double running_var_update(double running, const Stats& s, double count, double f) {
  return f * (s.var * count / (count - 1.0)) + (1.0 - f) * running;
}

// output = ((x - mean) * invstd) * weight + bias, in C (PyTorch's order).
template <typename C> EMBER_HOST_DEVICE C normalize(C x, C mean, C invstd, C weight, C bias) {
  return ((x - mean) * invstd) * weight + bias;
}

// The training gradient's per-channel terms, from sum_g = sum g and dotp = sum g * (x - mean) over
// the channel's `count` values: grad_mean = sum_g / M and k = dotp * invstd^2 / M.
struct GradTerms {
  double grad_mean, k;
};
EMBER_HOST_DEVICE GradTerms grad_terms(double sum_g, double dotp, double invstd, double count) {
  return {sum_g / count, dotp * invstd * invstd / count};
}

// The input gradient, in C. Training: ((g - grad_mean) - (x - mean) * k) * (invstd * weight);
// evaluation (the statistics are constants): g * (invstd * weight).
template <typename C>
EMBER_HOST_DEVICE C grad_input_train(C g, C x, C mean, C invstd, C weight, C grad_mean, C k) {
  return ((g - grad_mean) - (x - mean) * k) * (invstd * weight);
}
template <typename C> EMBER_HOST_DEVICE C grad_input_eval(C g, C invstd, C weight) { return g * (invstd * weight); }

}  // namespace ember::kernels::batch_norm_math
