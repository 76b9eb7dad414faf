// Batch normalisation modules, as torch.nn.BatchNorm1d and torch.nn.BatchNorm2d (see
// ember::batch_norm for the arithmetic):
//
//   nn::Sequential cnn(nn::Conv2d(1, 32, 3, {.padding = 1}), nn::BatchNorm2d(32), nn::ReLU(), ...);
//
// In training (train(), the default) each batch is normalised with its own statistics, and the
// running statistics (buffers running_mean, running_var) follow them; num_batches_tracked counts the
// batches. In evaluation (eval()) the running statistics are used instead, unless
// track_running_stats is false: then there are none, and batch statistics are used in both modes.
// The buffers move with to() and are saved with the parameters (nn::save, nn::save_checkpoint).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "ember/nn/module.h"

namespace ember::nn {

struct BatchNormOptions {
  double eps = 1e-5;
  // The running statistics' weight for each new batch; std::nullopt: a cumulative average
  // (PyTorch's momentum=None), 1 / num_batches_tracked.
  std::optional<double> momentum = 0.1;
  bool affine = true;               // learnable weight (ones) and bias (zeros)
  bool track_running_stats = true;  // running_mean (zeros), running_var (ones), num_batches_tracked
  DType dtype = kFloat32;           // of the parameters and running statistics
};

// What BatchNorm1d and BatchNorm2d share (torch.nn.modules.batchnorm._BatchNorm); they differ in
// the input shapes they accept.
class BatchNormImplBase : public UnaryModule {
 public:
  Tensor forward(const Tensor& input) override;
  void reset_running_stats();  // running_mean 0, running_var 1, num_batches_tracked 0
  void reset_parameters();     // the running statistics reset, weight 1, bias 0

  std::int64_t num_features;
  BatchNormOptions options;
  Tensor weight, bias;               // [num_features]; undefined without affine
  Tensor running_mean, running_var;  // [num_features]; undefined without track_running_stats
  Tensor num_batches_tracked;        // int64, 0-d; undefined without track_running_stats

 protected:
  BatchNormImplBase(std::string name, std::int64_t num_features, BatchNormOptions options);
  // Throws unless `input` has a shape this module normalises (checked before the channels).
  virtual void check_input_dim(const Tensor& input) const = 0;
};

// Over [N, C] (features) or [N, C, L] (channels of sequences).
class BatchNorm1dImpl : public BatchNormImplBase {
 public:
  explicit BatchNorm1dImpl(std::int64_t num_features, BatchNormOptions options = {});

 protected:
  void check_input_dim(const Tensor& input) const override;
};

// Over [N, C, H, W] (channels of images).
class BatchNorm2dImpl : public BatchNormImplBase {
 public:
  explicit BatchNorm2dImpl(std::int64_t num_features, BatchNormOptions options = {});

 protected:
  void check_input_dim(const Tensor& input) const override;
};

// The holders, with the options spelled out so that they can be a braced list:
// BatchNorm2d(32, {.momentum = 0.01}).
class BatchNorm1d : public ModuleHolder<BatchNorm1dImpl> {
 public:
  using ModuleHolder::ModuleHolder;
  explicit BatchNorm1d(std::int64_t num_features, BatchNormOptions options = {})
      : ModuleHolder(num_features, options) {}
};
class BatchNorm2d : public ModuleHolder<BatchNorm2dImpl> {
 public:
  using ModuleHolder::ModuleHolder;
  explicit BatchNorm2d(std::int64_t num_features, BatchNormOptions options = {})
      : ModuleHolder(num_features, options) {}
};

}  // namespace ember::nn
