// Fashion-MNIST as normalised float images, cut into (shuffled) batches on the host and moved to
// the training device. This is the example's own small loader; ember::data's DataLoader (with
// worker threads and copies overlapped with compute) is issue 15's.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include <ember/ember.h>

namespace fashion {

// Every image as float (pixel / 255 - mean) / std with the training set's mean and standard
// deviation (0.2860 and 0.3530, the values torchvision users normalise Fashion-MNIST with), and
// every label as int64.
class Dataset {
 public:
  explicit Dataset(const ember::data::FashionMnist& raw);
  std::int64_t size() const { return static_cast<std::int64_t>(labels_.size()); }
  const float* image(std::int64_t i) const { return pixels_.data() + i * kPixels; }
  std::int64_t label(std::int64_t i) const { return labels_[static_cast<std::size_t>(i)]; }

  static constexpr std::int64_t kPixels = 28 * 28;

 private:
  std::vector<float> pixels_;
  std::vector<std::int64_t> labels_;
};

struct Batch {
  ember::Tensor images;  // [B, 1, 28, 28] float32
  ember::Tensor labels;  // [B] int64
};

// One epoch's batches: the examples in a random order drawn from `rng` (in order when rng is null),
// cut into batches of batch_size; the last one is smaller unless drop_last.
class Batches {
 public:
  Batches(const Dataset& data, std::int64_t batch_size, bool drop_last, std::mt19937_64* rng);
  std::int64_t count() const { return count_; }
  std::int64_t size() const { return data_->size(); }
  Batch get(std::int64_t b, ember::Device device) const;

 private:
  const Dataset* data_;
  std::int64_t batch_size_, count_;
  std::vector<std::int64_t> order_;
};

}  // namespace fashion
